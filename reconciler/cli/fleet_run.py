"""validate, plan and apply over the servers of shcfg.yaml (see reconciler/fleet.py)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.cli.fleet import Selection, apply_summary, print_outcomes
from reconciler.console import OUTPUT, stopping_handler
from reconciler.errors import ShcfgError
from reconciler.project import manifest_set

if TYPE_CHECKING:
    from reconciler.fleet import Member, Outcome
    from reconciler.workflow import Options


def fleet_options(force: bool, rotate_secrets: bool) -> Callable[[int], Options]:
    """Each server's workflow options, from its own concurrency."""
    from reconciler.workflow import Options

    return lambda concurrency: Options(
        concurrency=concurrency, force=force, rotate_secrets=rotate_secrets
    )


def fleet_validate(selection: Selection, paths: tuple[str, ...], resolve_secrets: bool) -> None:
    """Every selected server's resulting set: shared manifests, its overlays, its variables."""
    from reconciler.fleet import validate_fleet

    sets = {name: manifest_set(paths, selection.project, name) for name in selection.servers}
    outcomes = validate_fleet(sets, OUTPUT.redactor, resolve_secrets=resolve_secrets)
    print_outcomes(outcomes, "text")
    if any(o.failed for o in outcomes.values()):
        sys.exit(1)


def fleet_plan(
    chosen: list[Member], fmt: str, out: str | None, parallel: int, detailed: bool
) -> int:
    """Plan every server side by side, print grouped, return the exit code."""
    from reconciler.files import check_directory
    from reconciler.fleet import exit_code, plan_fleet

    out_dir = Path(out) if out else None
    if out_dir is not None:
        check_directory(out_dir, "--out")
        out_dir.mkdir(parents=True, exist_ok=True)
    outcomes = plan_fleet(chosen, OUTPUT.redactor, parallel=parallel, out_dir=out_dir)
    print_outcomes(outcomes, fmt)
    if out_dir is not None:
        OUTPUT.print(
            f"Saved one plan per server in {out_dir}/. Apply them with: "
            f"shcfg apply --all-servers --plan {out_dir}",
            err=True,
        )
    return exit_code(outcomes, detailed=detailed)


def fleet_apply(
    chosen: list[Member],
    auto_approve: bool,
    plans: Path | None,
    backup: bool,
    parallel: int,
    fail_fast: bool,
) -> None:
    """Plan all, confirm once, apply each; the summary is a table of servers."""
    from reconciler.fleet import apply_fleet

    if plans is not None and not plans.is_dir():
        raise ShcfgError(f"--plan {plans}: with servers, give the directory of `plan --out DIR`")

    def confirm(outcomes: dict[str, Outcome]) -> bool:
        print_outcomes(outcomes, "text")
        for outcome in outcomes.values():
            outcome.ui.events.clear()
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise ShcfgError("stdin is not a terminal: pass --auto-approve to apply without asking")
        answer = click.prompt(
            "Apply these changes to every server above? Only 'yes' will be accepted",
            default="",
            show_default=False,
        )
        return bool(answer.strip() == "yes")

    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, stopping_handler(stop))
    try:
        outcomes = apply_fleet(
            chosen,
            OUTPUT.redactor,
            confirm,
            parallel=parallel,
            plans=plans,
            backup=backup,
            fail_fast=fail_fast,
            stop=stop,
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    print_outcomes(outcomes, "text")
    apply_summary(outcomes, interrupted=stop.is_set() and not fail_fast)


def each_server(
    selection: Selection,
    conn: dict[str, Any],
    body: Callable[[str, dict[str, Any]], int],
    fmt: str,
    *,
    offline: bool = False,
) -> tuple[int, dict[str, str]]:
    """Run a read-only command's `body` once per server, one after the other, each under a
    heading line (on stderr for machine formats); the worst exit code wins (1 over 2).
    Also returns why each server that failed did (machine formats put it in their one
    document). `offline` bodies read no server: they need no url or token."""
    from reconciler.cli.fleet import server_connection
    from reconciler.cli.options import SERVER_TOKEN
    from reconciler.render.fleet import heading

    assert selection.project is not None
    codes, errors = [], {}
    for name in selection.servers:
        try:
            if offline:
                OUTPUT.print(heading(name), err=fmt != "text", style="bold")
                codes.append(body(name, conn))
                continue
            own, token = server_connection(selection.project, name, conn)
            OUTPUT.print(heading(name, own["url"]), err=fmt != "text", style="bold")
            reset = SERVER_TOKEN.set(token)
            try:
                codes.append(body(name, own))
            finally:
                SERVER_TOKEN.reset(reset)
        except ShcfgError as exc:
            errors[name] = OUTPUT.redactor.text(str(exc))
            for line in str(exc).splitlines():
                OUTPUT.print(f"Error: [{name}] {line}", err=True, style="bold red")
            codes.append(1)
    return (1 if 1 in codes else max(codes, default=0)), errors
