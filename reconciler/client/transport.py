"""HTTP transport for the SimpleHelp API: URL building, retries, TLS, redaction, JSON.

The API token is a path segment of every URL (``BASE/api/v1/TOKEN/QUERY``), so this
module never lets a URL reach a message: exceptions are rebuilt from what was caught,
outside the ``except`` block (no ``__cause__``/``__context__``), and a logging filter
scrubs the token from every urllib3 log record.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import ssl
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from pydantic import TypeAdapter, ValidationError
from requests.adapters import HTTPAdapter
from urllib3 import BaseHTTPResponse, HTTPConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout

from reconciler.client.connection import send_in_one_write
from reconciler.client.errors import (
    ApiError,
    RejectedError,
    TransportError,
    UnexpectedResponseError,
    error_class_for_status,
)
from reconciler.errors import ShcfgError

log = logging.getLogger(__name__)

REDACTED = "***"
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
READ_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# 429 means "rejected, not processed": the only status after which a write may be resent.
WRITE_RETRY_STATUSES = frozenset({429})
_TOKEN_FORBIDDEN = re.compile(r"[\s/?#%\\]")
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
            text = text.replace(token, REDACTED)
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


_REDACTOR = _TokenRedactor()
for _name in _URLLIB3_LOGGERS:
    logging.getLogger(_name).addFilter(_REDACTOR)


class _Attempts:
    """Counts HTTP attempts: in total (thread-safe) and for the current call (per thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._local = threading.local()

    def add(self) -> None:
        with self._lock:
            self._total += 1
        self._local.current = getattr(self._local, "current", 0) + 1

    def start_call(self) -> None:
        self._local.current = 0

    @property
    def current(self) -> int:
        return int(getattr(self._local, "current", 0))

    @property
    def total(self) -> int:
        with self._lock:
            return self._total


class _CountingRetry(Retry):
    """A urllib3 Retry that counts every retried attempt (urllib3 retries inside one send)."""

    attempts: _Attempts | None = None

    def new(self, **kw: Any) -> _CountingRetry:
        retry = super().new(**kw)
        retry.attempts = self.attempts
        return retry

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        if self.attempts is not None:
            self.attempts.add()


def validate_base_url(url: str) -> str:
    """Return ``scheme://host[:port]``; reject anything else without echoing the URL.

    The URL is never echoed: a user who pasted a full API URL has the token in its path.
    """
    try:
        parts = urlsplit(url.strip())
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
    ((ssl.SSLError, Urllib3SSLError, requests.exceptions.SSLError), "TLS error", True),
    ((NameResolutionError, socket.gaierror), "host name could not be resolved", True),
    ((ConnectionRefusedError,), "connection refused", True),
    ((ConnectionResetError,), "connection reset by peer", False),
    ((NewConnectionError,), "could not connect", True),
    ((ConnectTimeoutError, requests.exceptions.ConnectTimeout), "timed out", True),
    ((ReadTimeoutError, TimeoutError, requests.exceptions.Timeout), "timed out", False),
    (
        (ProtocolError, requests.exceptions.ChunkedEncodingError),
        "connection broken while exchanging data",
        False,
    ),
)


def _describe_exception(exc: BaseException) -> tuple[str, bool]:
    """Name what went wrong in words that can never contain the URL.

    Returns the description and whether the request provably never reached the server.
    """
    chain = _collect(exc)
    for types, description, before_sending in _FAILURES:
        for error in chain:
            if isinstance(error, types):
                if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
                    return f"{description}: {error.verify_message}", before_sending
                return description, before_sending
    return "connection error", False


def _plural(count: int) -> str:
    return f"{count} try" if count == 1 else f"{count} tries"


class Transport:
    """Send queries as POSTs to ``BASE/api/v1/TOKEN/QUERY`` and decode their JSON answers.

    Reads are retried on connection and read errors and on 429/500/502/503/504. Writes are
    retried only when the server provably did not process them (connect errors, 429); a
    write that fails after it was sent raises with ``outcome_unknown=True``.

    The session's adapter sets up the connection pool once (TLS, proxies and CA bundle
    from the environment); each request then goes straight to that urllib3 pool, because
    ``Session.request`` costs several times the CPU of the request itself (environment
    lookups, cookie jars, hooks, header merging) and the read phase is CPU-bound.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        ca_bundle: str | None = None,
        insecure: bool = False,
        timeout: tuple[float, float] = (5.0, 30.0),
        retries: int = 4,
        pool_size: int = 16,
        backoff_factor: float = 0.5,
        backoff_jitter: float = 0.25,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.base_url = validate_base_url(url)
        validate_token(token)
        if ca_bundle is not None and insecure:
            raise ShcfgError("a CA bundle and insecure mode cannot be combined")
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise ShcfgError(f"CA bundle not found: {ca_bundle}")
        if retries < 0:
            raise ShcfgError("retries must be 0 or more")
        self._token = token
        self._prefix = f"{self.base_url}/api/v1/{token}/"
        self._verify: bool | str = ca_bundle if ca_bundle is not None else not insecure
        if insecure:
            message = "TLS certificate verification is disabled (insecure mode)"
            warnings.warn(message, stacklevel=2)
            log.warning(message)
        self.timeout = timeout
        self._timeout = Timeout(connect=timeout[0], read=timeout[1])
        self.max_body_bytes = max_body_bytes
        self._attempts = _Attempts()
        backoff = (backoff_factor, backoff_jitter)
        self._read_retry = self._retry(
            retries, read=retries, statuses=READ_RETRY_STATUSES, backoff=backoff
        )
        self._write_retry = self._retry(
            retries, read=0, statuses=WRITE_RETRY_STATUSES, backoff=backoff
        )
        self._session = requests.Session()
        # The session's defaults (User-Agent, Accept-Encoding) without `Connection:
        # keep-alive`, which HTTP/1.1 implies: one header less to send and for the server
        # to parse, on every request.
        self._headers: dict[str, str] = {
            **{
                name: str(value)
                for name, value in self._session.headers.items()
                if name.lower() != "connection"
            },
            "Content-Type": "application/json",
            "Accept": "application/json",
        }
        adapter = HTTPAdapter(
            pool_connections=1, pool_maxsize=pool_size, max_retries=self._read_retry
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._adapter = adapter
        self._pool_lock = threading.Lock()
        self._pool: HTTPConnectionPool | None = None
        self._target = ""
        _REDACTOR.add(token)
        self._closed = False

    def _retry(
        self, retries: int, *, read: int, statuses: frozenset[int], backoff: tuple[float, float]
    ) -> _CountingRetry:
        retry = _CountingRetry(
            total=retries,
            connect=retries,
            read=read,
            status=retries,
            other=0,
            redirect=0,
            allowed_methods=frozenset({"POST"}),
            status_forcelist=statuses,
            backoff_factor=backoff[0],
            backoff_jitter=backoff[1],
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        retry.attempts = self._attempts
        return retry

    def _connection_pool(self) -> HTTPConnectionPool:
        """The adapter's pool for this server, with the environment's proxy and CA settings.

        The host never changes, so this is worked out once: per request, the environment
        lookups alone were a third of the client's CPU.
        """
        with self._pool_lock:
            if self._pool is None:
                probe = self._session.prepare_request(requests.Request("POST", self._prefix))
                settings = self._session.merge_environment_settings(
                    probe.url, {}, True, self._verify, None
                )
                pool = cast(
                    HTTPConnectionPool,
                    self._adapter.get_connection_with_tls_context(
                        probe, settings["verify"], proxies=settings["proxies"]
                    ),
                )
                self._adapter.cert_verify(pool, self._prefix, settings["verify"], None)
                send_in_one_write(pool)
                self._target = self._adapter.request_url(probe, settings["proxies"])
                self._pool = pool
            return self._pool

    def __repr__(self) -> str:
        return f"Transport(url={self.base_url!r}, token={REDACTED!r})"

    @property
    def request_count(self) -> int:
        """HTTP attempts sent so far, retries included."""
        return self._attempts.total

    def close(self) -> None:
        """Close pooled connections; the transport cannot be used afterwards."""
        if self._closed:
            return
        self._closed = True
        self._session.close()
        _REDACTOR.discard(self._token)

    def redact(self, text: str) -> str:
        """Remove this transport's token from text that came from the server."""
        return text.replace(self._token, REDACTED)

    def post(
        self,
        query: str,
        body: Mapping[str, Any] | None = None,
        *,
        write: bool,
        into: TypeAdapter[Any] | None = None,
    ) -> Any:
        """Send one query and return its decoded JSON; raise an ``ApiError`` otherwise.

        With ``into``, the answer is validated as that type and the model returned (a
        pydantic ``ValidationError`` propagates for the caller to word): an array or
        string body is validated straight from its bytes, which is much cheaper than
        decoding it to Python objects first.
        """
        return self.decode(self.exchange(query, body, write=write), into)

    def exchange(self, query: str, body: Mapping[str, Any] | None = None, *, write: bool) -> Answer:
        """Send one query and read its answer to the end (``post`` without ``decode``).

        The connection is back in the pool on return, so a caller that bounds requests
        in flight frees its slot before the validation, which for a 10,000-machine
        answer takes longer than the round trip.
        """
        if self._closed:
            raise ShcfgError(f"{query}: the client is closed")
        data = None if body is None else json.dumps(body, allow_nan=False).encode("utf-8")
        pool = self._pool or self._connection_pool()
        self._attempts.start_call()
        self._attempts.add()
        log.debug("POST %s (%s)", query, "write" if write else "read")
        failure = ("connection error", False)
        response: BaseHTTPResponse | None = None
        try:
            response = pool.urlopen(
                "POST",
                self._target + query,
                body=data,
                headers=self._headers,
                retries=self._write_retry if write else self._read_retry,
                redirect=False,
                assert_same_host=False,
                timeout=self._timeout,
                preload_content=False,
                decode_content=True,
            )
        except (HTTPError, OSError) as exc:
            failure = _describe_exception(exc)
        if response is None:
            raise self._transport_error(query, failure, write)
        try:
            status = response.status
            if 300 <= status < 400:
                raise UnexpectedResponseError(
                    query,
                    f"HTTP {status}: redirect refused (redirects are never followed)",
                    status=status,
                )
            raw = self._read_body(query, response, write)
            return Answer(query, write, status, str(response.reason or ""), raw)
        finally:
            if not response.closed:
                # Body not read to its end (redirect, oversize, broken): the connection
                # cannot carry another request.
                response.close()
            response.release_conn()

    def _transport_error(
        self, query: str, failure: tuple[str, bool], write: bool
    ) -> TransportError:
        description, before_sending = failure
        return TransportError(
            query,
            f"connection failed: {description} (after {_plural(self._attempts.current)})",
            outcome_unknown=write and not before_sending,
        )

    def _read_body(self, query: str, response: BaseHTTPResponse, write: bool) -> bytes:
        length = response.headers.get("Content-Length", "")
        known = length.isdigit()
        if known and int(length) > self.max_body_bytes:
            raise UnexpectedResponseError(
                query,
                f"HTTP {response.status}: response body of {int(length)} bytes exceeds "
                f"the {self.max_body_bytes}-byte limit",
                status=response.status,
            )
        chunks: list[bytes] = []
        size = 0
        failure: tuple[str, bool] | None = None
        try:
            if known:
                chunks.append(response.read())
                size = len(chunks[0])
            else:
                for chunk in response.stream(65536):
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        break
                    chunks.append(chunk)
        except (HTTPError, OSError) as exc:
            failure = _describe_exception(exc)
        if failure is not None:
            # The server answered, so a write reached it: whatever broke, the outcome is unknown.
            raise self._transport_error(query, (failure[0], False), write)
        if size > self.max_body_bytes:
            raise UnexpectedResponseError(
                query,
                f"HTTP {response.status}: response body exceeds the "
                f"{self.max_body_bytes}-byte limit",
                status=response.status,
            )
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def decode(self, answer: Answer, into: TypeAdapter[Any] | None = None) -> Any:
        """The answer's JSON (validated as ``into``), or the ``ApiError`` it stands for.

        Call it on the thread that made the exchange: error messages count its tries.
        """
        query, write, status, raw = answer.query, answer.write, answer.status, answer.raw
        if into is not None and 200 <= status < 300 and _plain_json(raw):
            try:
                return into.validate_json(raw)
            except ValidationError as exc:
                if not any(e["type"] == "json_invalid" for e in exc.errors(include_input=False)):
                    raise
            # Not JSON after all: the strict decoder below words the error.
        decoded, is_json = _decode_json(raw)
        if 200 <= status < 300:
            if not is_json:
                raise UnexpectedResponseError(
                    query, f"HTTP {status}: response is not JSON", status=status
                )
            if isinstance(decoded, dict) and decoded.get("success") is False:
                refusal = self._reason(decoded) or "request failed"
                raise RejectedError(
                    query, f"HTTP {status}: {refusal}", status=status, reason=refusal
                )
            return decoded if into is None else into.validate_python(decoded)
        cls = error_class_for_status(status)
        reason = (
            (self._reason(decoded) or self.redact(answer.reason or "no reason given"))
            if is_json
            else "non-JSON body"
        )
        retried = self._attempts.current > 1
        detail = f"HTTP {status}: {reason}"
        if retried:
            detail += f" (after {_plural(self._attempts.current)})"
        raise cls(
            query,
            detail,
            status=status,
            reason=reason,
            outcome_unknown=write and status >= 500 and cls is not UnexpectedResponseError,
        )

    def _reason(self, decoded: Any) -> str | None:
        if isinstance(decoded, dict) and isinstance(decoded.get("reason"), str):
            return " ".join(self.redact(decoded["reason"]).split()) or None
        return None


@dataclass(frozen=True, slots=True)
class Answer:
    """A response read to its end: what ``Transport.decode`` needs, and no connection."""

    query: str
    write: bool
    status: int
    reason: str
    raw: bytes = field(repr=False)


def _plain_json(raw: bytes) -> bool:
    """True for an array or string body without NaN/Infinity: one that can be validated
    from its bytes (the validator accepts those constants, the strict decoder does not,
    and only an object can carry ``success: false``)."""
    return raw[:1] in (b"[", b'"') and b"NaN" not in raw and b"Infinity" not in raw


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _decode_json(raw: bytes) -> tuple[Any, bool]:
    """Decode strict JSON (no NaN/Infinity); report whether it was JSON at all."""
    try:
        return json.loads(raw, parse_constant=_reject_constant), True
    except (ValueError, UnicodeDecodeError):
        return None, False


__all__ = ["Answer", "ApiError", "Transport", "validate_base_url", "validate_token"]
