"""The CLI's side of shcfg.yaml: project defaults, `--server` selection, grouped output."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.cli.options import make_client, masked_token, read_token
from reconciler.console import EXIT_ERROR, EXIT_INTERRUPTED, OUTPUT, F, show_plan
from reconciler.errors import ShcfgError
from reconciler.project import Project, current_project, manifest_set

if TYPE_CHECKING:
    from reconciler.fleet import Member, Outcome
    from reconciler.workflow import Options, Target

DEFAULT_CONCURRENCY = 8


def parallel_option(fn: F) -> F:
    """--parallel-servers N: plan and apply work on that many servers at once."""
    return click.option(
        "--parallel-servers",
        type=click.IntRange(1, 64),
        default=4,
        show_default=True,
        help="Servers of shcfg.yaml planned (and applied) at once.",
    )(fn)


def server_options(fn: F) -> F:
    """--server NAME (repeatable), --all-servers."""
    fn = click.option(
        "--all-servers", is_flag=True, help="Every server of shcfg.yaml (apply, export)."
    )(fn)
    fn = click.option(
        "--server",
        "servers",
        multiple=True,
        metavar="NAME",
        help="A server of shcfg.yaml (repeatable); default: all (apply/export: required).",
    )(fn)
    return fn


@dataclass(frozen=True)
class Selection:
    """The project file (if any) and the servers of this run (empty: no `servers:`)."""

    project: Project | None
    servers: tuple[str, ...]


def select(names: tuple[str, ...], all_servers: bool, *, required: str | None) -> Selection:
    """Which servers this run covers; `required` names a command that must be told."""
    project = current_project()
    defined = list(project.model.servers) if project is not None else []
    if not defined:
        if names or all_servers:
            raise ShcfgError("--server and --all-servers need a shcfg.yaml with servers:")
        return Selection(project, ())
    unknown = [n for n in names if n not in defined]
    if unknown:
        raise ShcfgError(
            f"no server {unknown[0]!r} in {project.path if project else ''}: "
            f"known servers are {', '.join(defined)}"
        )
    if names:
        return Selection(project, tuple(dict.fromkeys(names)))
    if required and not all_servers:
        raise ShcfgError(
            f"{required} changes or writes per server: pass --server NAME (repeatable) "
            "or --all-servers"
        )
    return Selection(project, tuple(defined))


def with_defaults(project: Project | None, conn: dict[str, Any], concurrency: int | None) -> int:
    """Apply the project file's defaults under the CLI's (and the environment's) options.

    With servers, the backup query is each server's (`server_connection`): its own, else
    the project's.
    """
    if (
        project is not None
        and not project.model.servers
        and project.model.backupQuery
        and not _backup_query_given(conn)
    ):
        conn["backup_query"] = project.model.backupQuery
    if concurrency is not None:
        return concurrency
    if project is not None and project.model.concurrency:
        return project.model.concurrency
    return DEFAULT_CONCURRENCY


def _backup_query_given(conn: dict[str, Any]) -> bool:
    return bool(conn.get("backup_query") or os.environ.get("SIMPLEHELP_BACKUP_QUERY"))


def _target(link: dict[str, Any], token: str, concurrency: int) -> Target:
    """A server's `Target`: its token, and a client made from its connection options."""
    from reconciler.workflow import Target

    return Target(token=token, connect=lambda: make_client(link, token, concurrency))


def refuse_single_server_options(project: Project, conn: dict[str, Any]) -> None:
    """--url and --token-file name one server: with servers:, each names its own."""
    given = [f"--{k.replace('_', '-')}" for k in ("url", "token_file") if conn.get(k)]
    if given:
        raise ShcfgError(
            f"{' and '.join(given)}: with servers: in {project.path}, each server names its "
            "own url and token; choose servers with --server NAME"
        )


def server_connection(
    project: Project, name: str, conn: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """A server's connection options and token: its url/urlEnv, tokenEnv/tokenFile (read
    like --token-file, and masked in all output), caBundle, backupQuery."""
    refuse_single_server_options(project, conn)
    entry = project.model.servers[name]
    url = entry.url or os.environ.get(entry.urlEnv or "", "")
    if not url:
        raise ShcfgError(f"server {name}: environment variable {entry.urlEnv} is not set")
    if entry.tokenFile:
        token = read_token(str(project.resolve(entry.tokenFile)))
    else:
        token = os.environ.get(entry.tokenEnv or "", "").strip()
        if not token:
            raise ShcfgError(f"server {name}: environment variable {entry.tokenEnv} is not set")
        token = masked_token(token)
    own = dict(conn, url=url)
    if not conn.get("ca_bundle") and entry.caBundle:
        own["ca_bundle"] = str(project.resolve(entry.caBundle))
    backup_query = entry.backupQuery or project.model.backupQuery
    if not _backup_query_given(conn) and backup_query:
        own["backup_query"] = backup_query
    return own, token


def members(
    selection: Selection,
    paths: tuple[str, ...],
    conn: dict[str, Any],
    concurrency: int | None,
    options: Callable[[int], Options],
    journal: Path | None = None,
) -> list[Member]:
    """One `Member` per selected server, each with its own options, target and journal."""
    from reconciler.fleet import Member

    project = selection.project
    assert project is not None
    refuse_single_server_options(project, conn)
    out = []
    for name in selection.servers:
        entry = project.model.servers[name]
        own = concurrency or entry.concurrency or project.model.concurrency or DEFAULT_CONCURRENCY
        target: Target | None = None
        problem: str | None = None
        url = entry.url or ""
        try:
            link, token = server_connection(project, name, conn)
            target, url = _target(link, token, own), link["url"]
        except ShcfgError as exc:  # this server fails alone, like one that refuses its token
            problem = str(exc)
        out.append(
            Member(
                name=name,
                url=url,
                target=target,
                problem=problem,
                sources=manifest_set(paths, project, name),
                options=options(own),
                journal=journal.parent / f"{journal.stem}-{name}{journal.suffix}"
                if journal is not None
                else None,
            )
        )
    return out


def print_outcomes(outcomes: dict[str, Outcome], fmt: str) -> None:
    """Everything each server showed, grouped under a heading line per server."""
    from reconciler.render.fleet import heading, render_fleet_json, render_fleet_markdown

    if fmt in ("json", "markdown"):
        results = {
            name: o.plan if o.plan is not None else (o.error or "not attempted")
            for name, o in outcomes.items()
        }
        render = render_fleet_json if fmt == "json" else render_fleet_markdown
        OUTPUT.write(render(results), json=fmt == "json")
        for name, o in outcomes.items():
            _messages(name, o, err_only=True)
        return
    for name, o in outcomes.items():
        if o.ui.events or (o.error is not None and not o.reported):
            OUTPUT.print(heading(name, o.url), style="bold")
            _messages(name, o, err_only=False)


def _messages(name: str, outcome: Outcome, *, err_only: bool) -> None:
    from reconciler.render.common import SYMBOLS, title

    for kind, payload in outcome.ui.events:
        if kind == "plan" and not err_only:
            show_plan(payload, "text")
        elif kind == "warn":
            OUTPUT.print(f"Warning: [{name}] {payload}", err=True, style="bold yellow")
        elif kind == "note":
            OUTPUT.print(f"[{name}] {payload}", err=err_only)
        elif kind in ("applied", "failed") and not err_only:
            change, message = payload
            line = f"  {SYMBOLS[change.action]} {title(change)}: "
            OUTPUT.print(line + ("done" if kind == "applied" else f"FAILED: {message}"))
    if outcome.error is not None and not outcome.reported:
        for line in outcome.error.splitlines():
            OUTPUT.print(f"Error: [{name}] {line}", err=True, style="bold red")
        outcome.reported = True


def apply_summary(outcomes: dict[str, Outcome], *, interrupted: bool = False) -> None:
    """The table of servers: applied / failed / not attempted, then the exit code."""
    OUTPUT.print("\nserver".ljust(21) + "status".ljust(16) + "applied  failed  not attempted")
    for name, o in outcomes.items():
        result = o.result
        if not o.attempted:
            status = "not attempted"
        elif o.failed:
            status = "FAILED"
        else:
            status = "applied" if result is not None else "no changes"
        counts = (
            (len(result.applied), len(result.failed), len(result.not_attempted))
            if result is not None
            else (0, 0, 0)
        )
        OUTPUT.print(
            f"{name:<20}{status:<16}{counts[0]:>7}{counts[1]:>8}{counts[2]:>15}",
            style="red" if o.failed else None,
        )
    if interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if any(o.failed or not o.attempted for o in outcomes.values()):
        sys.exit(EXIT_ERROR)
