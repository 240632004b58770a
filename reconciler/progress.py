"""Progress of a long apply or read: rich on a terminal, plain lines otherwise.

A CI log has no terminal to redraw a bar in, so there the progress is a line every
`interval` seconds or every `every` changes (whichever comes first), and one at the end.
It is fed by the `notify` callback of `apply_plan`, which may be called from pool threads.
A read (export) has no total to count towards: it shows the requests sent so far.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

Notify = Callable[[str, Any, str], None]
INTERVAL = 5.0


class ApplyProgress:
    """Counts changes as they finish and reports how far the apply has got."""

    def __init__(
        self,
        total: int,
        console: Console,
        *,
        interval: float = INTERVAL,
        every: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        bar: bool | None = None,
    ) -> None:
        self.total = total
        self.console = console
        self.interval = interval
        self.every = every or max(10, total // 10)
        self.clock = clock
        self.done = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._start = clock()
        self._last_time = self._start
        self._last_done = 0
        self._bar: Progress | None = None
        self._task: Any = None
        use_bar = console.is_terminal if bar is None else bar
        if use_bar:
            self._bar = Progress(
                TextColumn("Applying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )

    def __enter__(self) -> ApplyProgress:
        if self._bar is not None:
            self._bar.start()
            self._task = self._bar.add_task("apply", total=self.total)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._bar is not None:
            self._bar.stop()
        elif self.done != self._last_done or self.done == 0:
            self._line()

    def wrap(self, notify: Notify) -> Notify:
        """A notify callback that reports the change, then counts it."""

        def wrapped(event: str, change: Any, message: str) -> None:
            notify(event, change, message)
            self.update(event)

        return wrapped

    def update(self, event: str) -> None:
        """Count one finished change ("applied" or a failure)."""
        with self._lock:
            self.done += 1
            if event != "applied":
                self.failed += 1
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done)
                return
            now = self.clock()
            if self.done - self._last_done >= self.every or now - self._last_time >= self.interval:
                self._line(now)

    def _line(self, now: float | None = None) -> None:
        now = self.clock() if now is None else now
        self._last_time, self._last_done = now, self.done
        failed = f", {self.failed} failed" if self.failed else ""
        self.console.print(
            f"Progress: {self.done}/{self.total} changes{failed}, {now - self._start:.0f}s elapsed",
            highlight=False,
        )


class _Count(ProgressColumn):
    """A live count, read afresh at every refresh (the reads report nothing themselves)."""

    def __init__(self, count: Callable[[], int], unit: str) -> None:
        super().__init__()
        self.count = count
        self.unit = unit

    def render(self, task: Task) -> Text:
        return Text(f"{self.count():,} {self.unit}")


class ReadProgress:
    """While a server is read: a spinner with the requests sent so far on a terminal,
    a line before and a line after otherwise."""

    def __init__(
        self,
        what: str,
        requests: Callable[[], int],
        console: Console,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.requests = requests
        self.console = console
        self.clock = clock
        self._start = clock()
        self._bar: Progress | None = None
        if console.is_terminal:
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn(f"Reading {what}"),
                _Count(requests, "requests"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )

    def __enter__(self) -> ReadProgress:
        self._start = self.clock()
        if self._bar is not None:
            self._bar.start()
            self._bar.add_task("read", total=None)
        else:
            self.console.print(f"Reading {self.what}...", highlight=False)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        if exc_type is None:
            self.console.print(
                f"Read {self.what}: {self.requests():,} requests in "
                f"{self.clock() - self._start:.1f}s",
                highlight=False,
            )
