"""The server URL and the API token: checked before any request, never echoed.

A user who pasted a full API URL has the token in its path, so URL errors name the
problem, and at most the host. The token is a path segment of every URL, so a logging
filter scrubs every live token from the HTTP library's log records.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit

from reconciler.errors import ShcfgError
from reconciler.redact import MASK

_TOKEN_FORBIDDEN = re.compile(r"[\s/?#%\\]")
_HOST_LIKE = re.compile(r"(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(?::\d{1,5})?")


def validate_base_url(url: str, token: str | None = None) -> str:
    """Return ``scheme://host[:port]``; reject anything else without echoing the URL.

    Without a scheme, the hint repeats what looks like a host (never the token).
    """
    text = url.strip()
    if "://" not in text:
        host = text.split("/", 1)[0]
        plausible = _HOST_LIKE.fullmatch(host) and not (token and token in host)
        hint = f": did you mean https://{host}?" if plausible else ""
        raise ShcfgError(f"invalid server URL: it has no scheme (http:// or https://){hint}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ShcfgError("invalid server URL: it cannot be parsed") from None
    if parts.scheme not in ("http", "https"):
        raise ShcfgError("invalid server URL: the scheme must be http or https")
    if not parts.hostname:
        raise ShcfgError("invalid server URL: it has no host")
    if parts.username is not None or parts.password is not None:
        raise ShcfgError("invalid server URL: it must not contain user information")
    if parts.path not in ("", "/"):
        raise ShcfgError(
            "invalid server URL: it must not contain a path; give only scheme://host[:port] "
            "(the client adds /api/v1/TOKEN/QUERY)"
        )
    if parts.query or parts.fragment:
        raise ShcfgError("invalid server URL: it must not contain a query or fragment")
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def validate_token(token: str) -> None:
    """Reject tokens that cannot be one URL path segment, without echoing them."""
    if not token:
        raise ShcfgError("invalid API token: it is empty")
    if _TOKEN_FORBIDDEN.search(token):
        raise ShcfgError("invalid API token: it must not contain whitespace or / ? # % \\")


_URLLIB3_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "requests",
)


class _TokenRedactor(logging.Filter):
    """Replace every live token in log records of the HTTP libraries."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._tokens: dict[str, int] = {}

    def add(self, token: str) -> None:
        with self._lock:
            self._tokens[token] = self._tokens.get(token, 0) + 1

    def discard(self, token: str) -> None:
        with self._lock:
            left = self._tokens.get(token, 0) - 1
            if left > 0:
                self._tokens[token] = left
            else:
                self._tokens.pop(token, None)

    def scrub(self, text: str) -> str:
        with self._lock:
            tokens = list(self._tokens)
        for token in tokens:
            text = text.replace(token, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        scrubbed = self.scrub(message)
        if scrubbed != message:
            record.msg = scrubbed
            record.args = None
        return True


REDACTOR = _TokenRedactor()
for _name in _URLLIB3_LOGGERS:
    logging.getLogger(_name).addFilter(REDACTOR)
