"""HTTP transport for the SimpleHelp API: requests, retries, TLS, limits, redaction.

Built on urllib3's documented API only: a ``PoolManager`` (a ``ProxyManager`` when the
environment names a proxy for the server), ``urlopen`` with a per-request ``Retry``
(``reconciler/client/retry.py``), and the answer streamed with ``read1`` and
``decode_content``, so a compressed answer is counted as it inflates.

The API token is a path segment of every URL (``BASE/api/v1/TOKEN/QUERY``), so this
module never lets a URL reach a message: exceptions are rebuilt from what was caught,
outside the ``except`` block (no ``__cause__``/``__context__``), and a logging filter
scrubs the token from every urllib3 log record.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.request
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

from pydantic import TypeAdapter
from urllib3 import BaseHTTPResponse, PoolManager, ProxyManager
from urllib3.exceptions import HTTPError
from urllib3.util.timeout import Timeout

from reconciler import __version__
from reconciler.client.answers import Answer
from reconciler.client.decoding import AnswerDecoder, plural_tries
from reconciler.client.diagnose import describe_exception, scheme_mismatch
from reconciler.client.errors import (
    ApiError,
    TransportError,
    UnexpectedResponseError,
    error_class_for_status,
)
from reconciler.client.retry import (
    RETRY_AFTER_CAP,
    CallState,
    Counter,
    RetryAfterTooLong,
    policy,
)
from reconciler.client.urls import REDACTOR, validate_base_url, validate_token
from reconciler.errors import ShcfgError
from reconciler.redact import MASK

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
READ_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# 429 means "rejected, not processed": the only status after which a write may be resent.
WRITE_RETRY_STATUSES = frozenset({429})
# A request may start a retry only if that try can end within this many answer timeouts
# of its first try: `--timeout 2` bounds a request, its retries included, to 6 s.
RETRY_BUDGET = 3
CHUNK = 65536
DEFAULT_POOL_SIZE = 16


class TransportOptions(TypedDict, total=False):
    """The knobs of ``Transport`` (defaults in its signature), passed on by the client."""

    ca_bundle: str | None
    insecure: bool
    timeout: tuple[float, float]
    retries: int
    pool_size: int
    backoff_factor: float
    backoff_jitter: float
    max_body_bytes: int
    on_retry: Callable[[str], None] | None


class Transport(AnswerDecoder):
    """Send queries to ``BASE/api/v1/TOKEN/QUERY`` and read their answers.

    A query without data is a ``GET`` without a body, one with data a ``POST`` with its
    JSON (as the reference's ``curl`` examples send them). Reads are retried on
    connection and read errors and on 429/500/502/503/504. Writes are retried only when
    the server provably did not process them (connect errors, 429); a write that fails
    after it was sent raises with ``outcome_unknown=True``.

    ``timeout=(connect, answer)``: each try must have its whole answer (headers and
    body) within ``answer`` seconds, and no retry starts unless it can end within
    ``RETRY_BUDGET`` answer timeouts of the first try.
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
        pool_size: int = DEFAULT_POOL_SIZE,
        backoff_factor: float = 0.5,
        backoff_jitter: float = 0.25,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        validate_token(token)
        self.base_url = validate_base_url(url, token)
        if ca_bundle is not None and insecure:
            raise ShcfgError("a CA bundle and insecure mode cannot be combined")
        if ca_bundle is not None and not os.path.isfile(ca_bundle):
            raise ShcfgError(f"CA bundle not found: {ca_bundle}")
        if retries < 0:
            raise ShcfgError("retries must be 0 or more")
        super().__init__(token)
        self._prefix = f"{self.base_url}/api/v1/{token}/"
        if insecure:
            message = "TLS certificate verification is disabled (insecure mode)"
            warnings.warn(message, stacklevel=2)
            log.warning(message)
        self.timeout = timeout
        self._answer_timeout = timeout[1]
        self._timeout = Timeout(connect=min(timeout), read=timeout[1])
        self.max_body_bytes = max_body_bytes
        self._on_retry = on_retry
        self._counter = Counter()
        self._max_tries = retries + 1
        backoff = (backoff_factor, backoff_jitter)
        self._read_retry = policy(
            retries, read=retries, statuses=READ_RETRY_STATUSES, backoff=backoff
        )
        self._write_retry = policy(retries, read=0, statuses=WRITE_RETRY_STATUSES, backoff=backoff)
        self._manager = _pool_manager(self.base_url, pool_size, ca_bundle, insecure)
        self._get_headers = {
            "User-Agent": f"shcfg/{__version__}",
            "Accept": "application/json, text/plain;q=0.9",
            "Accept-Encoding": "gzip",
        }
        self._post_headers = {**self._get_headers, "Content-Type": "application/json"}
        REDACTOR.add(token)
        self._closed = False

    def __repr__(self) -> str:
        return f"Transport(url={self.base_url!r}, token={MASK!r})"

    @property
    def request_count(self) -> int:
        """HTTP attempts sent so far, retries included."""
        return self._counter.total

    def close(self) -> None:
        """Close pooled connections; the transport cannot be used afterwards."""
        if self._closed:
            return
        self._closed = True
        self._manager.clear()
        REDACTOR.discard(self._token)

    def post(
        self,
        query: str,
        body: Mapping[str, Any] | None = None,
        *,
        write: bool,
        into: TypeAdapter[Any] | None = None,
    ) -> Any:
        """Send one query and return its decoded JSON; raise an ``ApiError`` otherwise."""
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
        call = CallState(
            query,
            self._max_tries,
            self._answer_timeout,
            RETRY_BUDGET * self._answer_timeout,
            self._counter,
            self._on_retry,
        )
        self._counter.add()
        method = "GET" if data is None else "POST"
        log.debug("%s %s (%s)", method, query, "write" if write else "read")
        failure = ("connection error", False)
        error: ApiError | None = None
        response: BaseHTTPResponse | None = None
        try:
            response = self._manager.urlopen(
                method,
                self._prefix + query,
                body=data,
                headers=self._get_headers if data is None else self._post_headers,
                retries=(self._write_retry if write else self._read_retry).for_call(call),
                redirect=False,
                timeout=self._timeout,
                preload_content=False,
                decode_content=True,
            )
        except RetryAfterTooLong as exc:
            error = _retry_after_error(query, exc)
        except (HTTPError, OSError) as exc:
            failure = describe_exception(exc)
        if error is not None:
            raise error
        if response is None:
            raise self._transport_error(query, failure, write, call.tries, diagnose=True)
        try:
            status = response.status
            if 300 <= status < 400:
                raise UnexpectedResponseError(
                    query,
                    f"HTTP {status}: redirect refused (redirects are never followed)",
                    status=status,
                )
            raw = self._read_body(query, response, call, write)
            if 200 <= status < 300:
                self._token_accepted.set()
            content_type = response.headers.get("Content-Type", "")
            reason = str(response.reason or "")
            return Answer(query, write, status, reason, raw, content_type, call.tries)
        finally:
            if not response.closed:
                # Body not read to its end (redirect, oversize, broken): the connection
                # cannot carry another request.
                response.close()
            response.release_conn()

    def _transport_error(
        self, query: str, failure: tuple[str, bool], write: bool, tries: int, *, diagnose: bool
    ) -> TransportError:
        description, before_sending = failure
        hint = scheme_mismatch(self.base_url, description) if diagnose else None
        if hint is not None:
            # The other side could not read the request: nothing was processed.
            description, before_sending = f"{description}: {hint}", True
        return TransportError(
            query,
            f"connection failed: {description} (after {plural_tries(tries)})",
            outcome_unknown=write and not before_sending,
        )

    def _read_body(
        self, query: str, response: BaseHTTPResponse, call: CallState, write: bool
    ) -> bytes:
        """The decoded body, counted as it inflates and read by the answer's deadline."""
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            raise UnexpectedResponseError(
                query,
                f"HTTP {response.status}: response body of {int(length)} bytes exceeds "
                f"the {self.max_body_bytes}-byte limit",
                status=response.status,
            )
        deadline = call.answer_deadline()
        chunks: list[bytes] = []
        size = 0
        failure: tuple[str, bool] | None = None
        try:
            while size <= self.max_body_bytes and time.monotonic() <= deadline:
                chunk = response.read1(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                chunks.append(chunk)
            else:
                if size <= self.max_body_bytes:
                    failure = (
                        f"timed out: the answer did not arrive whole within "
                        f"{self._answer_timeout:g} s",
                        False,
                    )
        except (HTTPError, OSError) as exc:
            failure = describe_exception(exc)
        if failure is not None:
            # The server answered, so a write reached it: whatever broke, the outcome is unknown.
            raise self._transport_error(
                query, (failure[0], False), write, call.tries, diagnose=False
            )
        if size > self.max_body_bytes:
            raise UnexpectedResponseError(
                query,
                f"HTTP {response.status}: response body exceeds the "
                f"{self.max_body_bytes}-byte limit",
                status=response.status,
            )
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _pool_manager(
    base_url: str, pool_size: int, ca_bundle: str | None, insecure: bool
) -> PoolManager:
    """One pool for the one server; through the environment's proxy when it names one
    for this host (``https_proxy``/``http_proxy``, ``no_proxy``), as browsers and curl do."""
    options: dict[str, Any] = {
        "num_pools": 2,
        "maxsize": pool_size,
        "cert_reqs": "CERT_NONE" if insecure else "CERT_REQUIRED",
        "ca_certs": ca_bundle,
    }
    scheme, _, host_port = base_url.partition("://")
    host = host_port.rsplit(":", 1)[0] if not host_port.endswith("]") else host_port
    proxy = urllib.request.getproxies().get(scheme)
    if proxy and not urllib.request.proxy_bypass(host.strip("[]")):
        return ProxyManager(proxy, **options)
    return PoolManager(**options)


def _retry_after_error(query: str, exc: RetryAfterTooLong) -> ApiError:
    return error_class_for_status(exc.status)(
        query,
        f"HTTP {exc.status}: the server asks to retry after {exc.seconds:g} s (Retry-After), "
        f"longer than the {RETRY_AFTER_CAP:g} s this client waits",
        status=exc.status,
    )


__all__ = ["Answer", "ApiError", "Transport", "validate_base_url", "validate_token"]
