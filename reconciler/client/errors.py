"""Errors raised by the SimpleHelp API client.

Every message is one line that names the query but never the URL: the API token is a
path segment of every URL, so URLs stay out of messages, reprs and exception chains.
"""

from __future__ import annotations

from reconciler.errors import ShcfgError


class ApiError(ShcfgError):
    """A query failed; ``str(e)`` reads ``QUERY: DETAIL``."""

    def __init__(
        self,
        query: str,
        detail: str,
        *,
        status: int | None = None,
        reason: str | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        self.query = query
        self.status = status
        self.reason = reason
        self.outcome_unknown = outcome_unknown
        message = f"{query}: {detail}"
        if outcome_unknown:
            message += " (the change may or may not have been applied)"
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        """Keep the attributes when pickled (e.g. across a process pool)."""
        return (_rebuild, (type(self), self.__dict__, self.args))


def _rebuild(cls: type[ApiError], state: dict[str, object], args: tuple[object, ...]) -> ApiError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    error.args = args
    return error


AUTH_HINT = (
    "the API token was refused: check the token, and that the API is enabled on the "
    "server (Administration tab)"
)


class AuthenticationError(ApiError):
    """HTTP 401/403, or a 400 whose reason speaks of the token: the token was refused."""


class RejectedError(ApiError):
    """Another 4xx, or ``success: false``: the server refused the query's data."""


class NotFoundError(RejectedError):
    """HTTP 404, or a 400 to a lookup of one object: the object does not exist."""


class UnknownQueryError(RejectedError):
    """HTTP 404, or a 400 saying so, to a configurable query: the server does not know it."""


class ServerError(ApiError):
    """HTTP 5xx: the server failed."""


class TransportError(ApiError):
    """No HTTP response: timeout, refused or reset connection, TLS, DNS."""


class UnexpectedResponseError(ApiError):
    """A response the client cannot use: not JSON, wrong shape, oversized, redirect."""


# The one status -> error class table; the first matching range wins.
STATUS_ERRORS: tuple[tuple[range, type[ApiError]], ...] = (
    (range(401, 402), AuthenticationError),
    (range(403, 404), AuthenticationError),
    (range(404, 405), NotFoundError),
    (range(400, 500), RejectedError),
    (range(500, 600), ServerError),
)


def error_class_for_status(status: int) -> type[ApiError]:
    """Map an HTTP error status to its error class (anything unknown is unexpected)."""
    for statuses, cls in STATUS_ERRORS:
        if status in statuses:
            return cls
    return UnexpectedResponseError
