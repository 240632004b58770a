"""Progress of long applies: plain periodic lines when the output is not a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from reconciler.progress import ApplyProgress
from tests.e2e.conftest import Shcfg


class FakeClock:
    """A clock the test moves by hand: no sleeping, no timing in assertions."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _plain(
    total: int, *, every: int | None = None, interval: float = 5.0
) -> tuple[ApplyProgress, io.StringIO, FakeClock]:
    buffer = io.StringIO()
    clock = FakeClock()
    console = Console(file=buffer, force_terminal=False, width=200)
    progress = ApplyProgress(total, console, clock=clock, every=every, interval=interval)
    return progress, buffer, clock


def test_plain_lines_every_n_changes_and_at_the_end() -> None:
    progress, buffer, _ = _plain(25, every=10)
    with progress:
        for _ in range(24):
            progress.update("applied")
        progress.update("failed")
    assert buffer.getvalue().splitlines() == [
        "Progress: 10/25 changes, 0s elapsed",
        "Progress: 20/25 changes, 0s elapsed",
        "Progress: 25/25 changes, 1 failed, 0s elapsed",
    ]


def test_plain_line_after_the_interval_even_between_counts() -> None:
    progress, buffer, clock = _plain(1000, interval=5.0)
    with progress:
        progress.update("applied")
        clock.now += 6
        progress.update("applied")
        clock.now += 1
        progress.update("applied")
    assert buffer.getvalue().splitlines() == [
        "Progress: 2/1000 changes, 6s elapsed",
        "Progress: 3/1000 changes, 7s elapsed",
    ]


def test_wrap_reports_then_counts() -> None:
    seen: list[str] = []
    progress, _, _ = _plain(2)
    with progress:
        notify = progress.wrap(lambda event, change, message: seen.append(event))
        notify("applied", None, "")
        notify("failed", None, "boom")
    assert seen == ["applied", "failed"]
    assert (progress.done, progress.failed) == (2, 1)


def test_apply_prints_progress_in_plain_mode(shcfg: Shcfg) -> None:
    path = shcfg.manifest(
        """\
        version: 1
        server: {hostname: new.example.com}
        groups: [{name: A}, {name: B}]
        technicians: [{username: alice, groups: [A]}]
        """
    )
    result = shcfg("apply", str(path), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert "Progress: 4/4 changes" in result.stderr
    assert "\x1b[" not in result.stderr


def test_terminal_mode_draws_a_bar_and_prints_no_plain_lines() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with ApplyProgress(3, console, bar=True) as progress:
        for _ in range(3):
            progress.update("applied")
    assert progress.done == 3
    assert "Progress:" not in buffer.getvalue()
    assert "3/3" in buffer.getvalue()
