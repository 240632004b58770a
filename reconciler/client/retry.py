"""The client's retry policy as a urllib3 ``Retry``: count tries, tell the user, bound the time.

urllib3 retries inside one ``urlopen`` call; the hooks here use only ``Retry``'s public
methods (``new``, ``is_retry``, ``increment``, ``sleep``, ``get_retry_after``):

- a host name that does not resolve is never retried (it will not resolve in a second);
- only the statuses in the policy's list are retried: urllib3 would also retry a 413 or
  503 carrying ``Retry-After``, which for a write resends what the server may have done;
- a ``Retry-After`` above ``RETRY_AFTER_CAP`` stops the request with an error naming it;
- a retry starts only if it can finish within the request's time budget;
- every retry is counted and announced through the ``on_retry`` callback.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from urllib3.exceptions import InvalidHeader, MaxRetryError, NameResolutionError, ResponseError
from urllib3.util.retry import Retry

from reconciler.client.diagnose import describe_exception

RETRY_AFTER_CAP = 60.0


class Counter:
    """HTTP attempts sent by one transport, retries included (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0

    def add(self) -> None:
        with self._lock:
            self.total += 1


@dataclass
class CallState:
    """One request's retry bookkeeping (one per call, so threads never share it)."""

    query: str
    max_tries: int
    answer_timeout: float
    budget: float
    counter: Counter
    on_retry: Callable[[str], None] | None = None
    start: float = field(default_factory=time.monotonic)
    attempt_start: float = field(default_factory=time.monotonic)
    tries: int = 1

    def answer_deadline(self) -> float:
        """When the current try must have its whole answer."""
        return self.attempt_start + self.answer_timeout


class RetryAfterTooLong(Exception):
    """The server asked for a wait longer than the client accepts."""

    def __init__(self, status: int, seconds: float) -> None:
        super().__init__(status, seconds)
        self.status = status
        self.seconds = seconds


class ClientRetry(Retry):
    """``Retry`` with the hooks above; ``call`` is set on the per-request copy."""

    call: CallState | None = None

    def new(self, **kw: Any) -> ClientRetry:
        retry = super().new(**kw)
        retry.call = self.call
        return retry

    def for_call(self, call: CallState) -> ClientRetry:
        """A copy of this policy bound to one request."""
        retry = self.new()
        retry.call = call
        return retry

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        """Retry exactly the listed statuses; ``Retry-After`` sets the wait, not whether."""
        allowed = self.allowed_methods
        if allowed and method.upper() not in allowed:
            return False
        return status_code in (self.status_forcelist or ())

    def get_retry_after(self, response: Any) -> float | None:
        """An unreadable ``Retry-After`` is ignored (back-off applies) rather than fatal;
        seconds are taken as sent (urllib3 clamps them to six hours, so the error over the
        cap would name a figure the server never sent)."""
        header = response.headers.get("Retry-After", "").strip()
        if header.isascii() and header.isdigit():
            return float(header)
        try:
            return super().get_retry_after(response)
        except InvalidHeader:
            return None

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> ClientRetry:
        if isinstance(error, NameResolutionError):
            raise MaxRetryError(_pool, url, error)
        retry_after = None
        if response is not None and self.respect_retry_after_header:
            retry_after = self.get_retry_after(response)
            if retry_after is not None and retry_after > RETRY_AFTER_CAP:
                response.drain_conn()
                raise RetryAfterTooLong(int(response.status), retry_after)
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        call = self.call
        if call is None:
            return new
        wait = retry_after if retry_after is not None else new.get_backoff_time()
        elapsed = time.monotonic() - call.start
        if elapsed + wait + call.answer_timeout > call.budget:
            # No time for a whole further try: stop here, as an exhausted Retry would.
            raise MaxRetryError(_pool, url, error or ResponseError("no time left to retry"))
        call.tries += 1
        call.counter.add()
        if call.on_retry is not None:
            cause = f"HTTP {response.status}" if response is not None else _cause(error)
            call.on_retry(f"{call.query}: {cause}; retrying ({call.tries}/{call.max_tries})…")
        return new

    def sleep(self, response: Any = None) -> None:
        super().sleep(response)
        if self.call is not None:
            self.call.attempt_start = time.monotonic()


def policy(
    retries: int, *, read: int, statuses: frozenset[int], backoff: tuple[float, float]
) -> ClientRetry:
    """The retry policy for reads or writes (statuses retried; read errors for reads)."""
    return ClientRetry(
        total=retries,
        connect=retries,
        read=read,
        status=retries,
        other=0,
        redirect=0,
        allowed_methods=frozenset({"GET", "POST"}),
        status_forcelist=statuses,
        backoff_factor=backoff[0],
        backoff_jitter=backoff[1],
        respect_retry_after_header=True,
        raise_on_status=False,
        raise_on_redirect=False,
    )


def _cause(error: Exception | None) -> str:
    return "connection error" if error is None else describe_exception(error)[0]
