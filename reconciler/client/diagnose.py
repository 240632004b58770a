"""Name a failed connection in words a user can act on, and never with the URL.

The URL holds the token, so every description is built from the exception's type, and
the hints name only scheme, host and port. When a connection fails in a way a scheme
mismatch would explain, one small probe (no token, no API path) asks the port which
language it speaks: ``http://`` against a TLS port, or ``https://`` against plain HTTP.
"""

from __future__ import annotations

import http.client
import socket
import ssl

from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import SSLError as Urllib3SSLError

CA_BUNDLE_HINT = (
    "self-signed or private CA? pass --ca-bundle FILE with the certificate of the CA "
    "that signed the server's certificate"
)
PROBE_TIMEOUT = 3.0


def _collect(exc: BaseException) -> list[BaseException]:
    """Every exception reachable from ``exc`` (args, MaxRetryError.reason, cause, context)."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        pending.extend(a for a in current.args if isinstance(a, BaseException))
        if isinstance(current, MaxRetryError):
            pending.append(current.reason)
        pending.extend((current.__cause__, current.__context__))
    return seen


# (exception types, description, whether the request provably never reached the server);
# the first row that matches anything in the exception chain wins, so order matters
# (urllib3's NewConnectionError is a subclass of ConnectTimeoutError).
_FAILURES: tuple[tuple[tuple[type[BaseException], ...], str, bool], ...] = (
    ((ssl.SSLCertVerificationError,), "TLS certificate verification failed", True),
    ((ssl.SSLError, Urllib3SSLError), "TLS error", True),
    ((NameResolutionError, socket.gaierror), "host name could not be resolved", True),
    ((ConnectionRefusedError,), "connection refused", True),
    ((ConnectionResetError,), "connection reset by peer", False),
    ((NewConnectionError,), "could not connect", True),
    ((ConnectTimeoutError,), "timed out", True),
    ((ReadTimeoutError, TimeoutError), "timed out", False),
    ((ProtocolError, http.client.HTTPException), "connection broken while exchanging data", False),
)


def describe_exception(exc: BaseException) -> tuple[str, bool]:
    """What went wrong, and whether the request provably never reached the server."""
    chain = _collect(exc)
    for types, description, before_sending in _FAILURES:
        for error in chain:
            if isinstance(error, types):
                if isinstance(error, ssl.SSLCertVerificationError):
                    detail = f": {error.verify_message}" if error.verify_message else ""
                    return f"{description}{detail} ({CA_BUNDLE_HINT})", before_sending
                return description, before_sending
    return "connection error", False


def scheme_mismatch(base_url: str, description: str) -> str | None:
    """``did you mean ...?`` when the port speaks the other scheme, else None.

    Asked only after a failure that a mismatch explains: a TLS error for ``https://``,
    a broken exchange or reset for ``http://``. Verification is irrelevant here: the
    probe only learns whether the port speaks TLS.
    """
    scheme, _, host_port = base_url.partition("://")
    host, port = _host_port(host_port, 443 if scheme == "https" else 80)
    if scheme == "https" and description == "TLS error" and _speaks_plain_http(host, port):
        return f"the server answered without TLS: did you mean http://{host_port}?"
    if (
        scheme == "http"
        and description in ("connection broken while exchanging data", "connection reset by peer")
        and _speaks_tls(host, port)
    ):
        return f"the server answered with TLS: did you mean https://{host_port}?"
    return None


def _host_port(host_port: str, default: int) -> tuple[str, int]:
    host, sep, port = host_port.rpartition(":")
    if not sep or host_port.endswith("]"):
        return host_port.strip("[]"), default
    return host.strip("[]"), int(port)


def _speaks_plain_http(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT) as sock:
            sock.sendall(f"HEAD / HTTP/1.0\r\nHost: {host}\r\n\r\n".encode("ascii"))
            return sock.recv(5) == b"HTTP/"
    except (OSError, UnicodeError):
        return False


def _speaks_tls(host: str, port: int) -> bool:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=PROBE_TIMEOUT) as sock,
            context.wrap_socket(sock),
        ):
            return True
    except (OSError, ValueError):
        return False
