"""Exceptions of the sandbox; nothing here may carry the API token."""


class SandboxError(Exception):
    """A sandbox that cannot start as configured (bad seed, unsafe bind, bad TLS files)."""


class SeedError(SandboxError):
    """The seed file or dict does not describe a valid server state."""


class ApiFailure(Exception):
    """A request the emulated server rejects: becomes an API Response Object with `status`."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def invalid(reason: str) -> ApiFailure:
    """Invalid data: the 400 the server sends for a body it cannot apply."""
    return ApiFailure(400, reason)


def not_found(reason: str) -> ApiFailure:
    """Unknown object: the 404 the server sends when a lookup matches nothing."""
    return ApiFailure(404, reason)
