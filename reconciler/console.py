"""The terminal edge: every line shcfg prints, and the CLI's side of the workflow's Ui.

Everything printed goes through `Output`, so secrets are masked (all their rendered
forms) and control characters are shown as escapes (`\\x1b`) in one place, whichever
renderer produced the text.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from reconciler.apply import Notify
from reconciler.errors import ShcfgError
from reconciler.plan import Change, Plan
from reconciler.redact import Redactor
from reconciler.render.common import SYMBOLS, for_humans, title, visible


class Output:
    """Redacts, then makes control characters visible, then prints."""

    def __init__(self) -> None:
        self.redactor = Redactor()
        # No markup or emoji codes: names and paths from manifests and servers are printed
        # as they are ("[x]" stays, "file.yaml:100:5" does not turn into an emoji).
        self.out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

    def safe(self, value: Any) -> Any:
        """A str or rich Text, masked and with its control characters shown."""
        value = self.redactor.renderable(value)
        if isinstance(value, Text):
            plain = value.plain
            shown = visible(plain)
            return value if shown == plain else Text(shown)
        return visible(value) if isinstance(value, str) else value

    def print(self, renderable: Any = "", *, err: bool = False, style: str | None = None) -> None:
        console = self.err if err else self.out
        console.print(self.safe(renderable), style=style)

    def write(self, text: str, *, json: bool = False) -> None:
        """Raw text for machine formats: no styling. JSON is escaped by its renderer."""
        text = self.redactor.text(text)
        sys.stdout.write(text if json else visible(text))
        sys.stdout.flush()


OUTPUT = Output()


def show_plan(plan: Plan, fmt: str) -> None:
    """Print a plan; human formats get its strings made visible first."""
    from reconciler.render import render_json, render_markdown, render_text

    if fmt == "json":
        OUTPUT.write(render_json(plan), json=True)
    elif fmt == "markdown":
        OUTPUT.write(render_markdown(for_humans(plan)))
    else:
        OUTPUT.print(render_text(for_humans(plan)))


def _notify(event: str, change: Change, message: str) -> None:
    if event == "applied":
        OUTPUT.print(f"  {SYMBOLS[change.action]} {title(change)}: done")
    else:
        OUTPUT.print(f"  {SYMBOLS[change.action]} {title(change)}: FAILED: {message}", style="red")


class CliUi:
    """The workflow's Ui on a terminal (or a CI log)."""

    def __init__(self, fmt: str = "text", *, auto_approve: bool = False) -> None:
        self.redactor = OUTPUT.redactor
        self.fmt = fmt
        self.auto_approve = auto_approve

    def show_plan(self, plan: Plan) -> None:
        show_plan(plan, self.fmt)

    def warn(self, message: str) -> None:
        OUTPUT.print(f"Warning: {message}", err=True, style="bold yellow")

    def note(self, message: str) -> None:
        OUTPUT.print(message, err=True)

    def confirm(self) -> bool:
        if self.auto_approve:
            return True
        if not sys.stdin.isatty():
            raise ShcfgError("stdin is not a terminal: pass --auto-approve to apply without asking")
        answer = click.prompt(
            "Apply these changes? Only 'yes' will be accepted", default="", show_default=False
        )
        return bool(answer.strip() == "yes")

    @contextlib.contextmanager
    def applying(self, total: int) -> Iterator[tuple[Notify, threading.Event]]:
        """Ctrl-C now finishes the requests in flight, then stops; progress is shown."""
        from reconciler.progress import ApplyProgress

        stop = threading.Event()

        def on_signal(signum: int, frame: Any) -> None:
            stop.set()
            OUTPUT.print("Interrupted: finishing the requests in flight, then stopping.", err=True)

        previous = signal.signal(signal.SIGINT, on_signal)
        try:
            with ApplyProgress(total, OUTPUT.err) as progress:
                yield progress.wrap(_notify), stop
        finally:
            signal.signal(signal.SIGINT, previous)
