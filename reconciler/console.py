"""The terminal edge: every line shcfg prints, and the CLI's side of the workflow's Ui.

Everything printed goes through `Output`, so secrets are masked (all their rendered
forms) and control characters are shown as escapes (`\\x1b`) in one place, whichever
renderer produced the text.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.text import Text

from reconciler.apply import ApplyResult, Notify
from reconciler.errors import ShcfgError
from reconciler.plan import Change, Plan
from reconciler.redact import Redactor
from reconciler.render.common import SYMBOLS, for_humans, title, visible

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130


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


def leave_now(message: str) -> None:
    """End the process at once with exit 130. Only where leaving cannot half-apply
    anything: a read may hang for its whole timeout, and waiting for the worker threads
    that carry it is what made Ctrl-C seem not to work."""
    OUTPUT.print(message, err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


def stopping_handler(stop: threading.Event) -> Callable[[int, Any], None]:
    """The apply-time SIGINT handler: the first Ctrl-C lets the requests in flight finish,
    a second one leaves at once (the journal says what was done; apply again converges)."""

    def on_signal(signum: int, frame: Any) -> None:
        if stop.is_set():
            leave_now(
                "Interrupted again: leaving now; a request in flight may or may not have been "
                "applied (see the journal); run apply again to converge."
            )
        stop.set()
        OUTPUT.print("Interrupted: finishing the requests in flight, then stopping.", err=True)

    return on_signal


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
        previous = signal.signal(signal.SIGINT, stopping_handler(stop))
        try:
            with ApplyProgress(total, OUTPUT.err) as progress:
                yield progress.wrap(_notify), stop
        finally:
            signal.signal(signal.SIGINT, previous)


def handle_errors(fn: F) -> F:
    """Expected failures become one line on stderr and exit 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ShcfgError as exc:
            lines = str(exc).splitlines() or [exc.__class__.__name__]
            for line in lines:
                OUTPUT.print(f"Error: {line}", err=True, style="bold red")
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


class ShcfgGroup(click.Group):
    """Maps click's own exits onto the contract: usage errors exit 1, not 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        # Until apply installs its own handler, nothing is being written: Ctrl-C leaves
        # at once instead of waiting for reads that may hang for their whole timeout.
        main_thread = threading.current_thread() is threading.main_thread()
        if main_thread:
            previous = signal.signal(signal.SIGINT, lambda sig, frame: leave_now("Interrupted."))
        try:
            super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        except click.ClickException as exc:
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                hint = f"Try '{exc.ctx.command_path} {exc.ctx.help_option_names[0]}' for help."
                click.echo(f"{exc.ctx.get_usage()}\n{hint}\n", err=True)
            # The message may echo what was typed: it goes through Output like the rest.
            OUTPUT.print(f"Error: {exc.format_message()}", err=True)
            sys.exit(EXIT_ERROR)
        except (click.Abort, KeyboardInterrupt):
            OUTPUT.print("Interrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        finally:
            if main_thread:
                signal.signal(signal.SIGINT, previous)
        sys.exit(EXIT_OK)


def report_apply(outcome: ApplyResult) -> None:
    """The end of an apply: counts, what was not attempted, and its exit code."""
    applied, failed, skipped = outcome.applied, outcome.failed, outcome.not_attempted
    OUTPUT.print(
        f"\nApply {'complete' if outcome.ok else 'stopped'}: {len(applied)} applied, "
        f"{len(failed)} failed, {len(skipped)} not attempted.",
        style="bold" if outcome.ok else "bold red",
    )
    for change in skipped:
        OUTPUT.print(f"  not attempted: {change.action.value} {title(change)}", err=True)
    if outcome.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if failed:
        sys.exit(EXIT_ERROR)
