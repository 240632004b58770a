"""Commands that only read a server: export, doctor, audit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from reconciler.cli.fleet import Selection, select, server_options, with_defaults
from reconciler.cli.fleet_run import each_server
from reconciler.cli.options import (
    connection_options,
    make_client,
    merged_connection,
    read_token,
)
from reconciler.console import (
    EXIT_ERROR,
    OUTPUT,
    handle_errors,
)


@click.command()
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), default="exported", show_default=True
)
@click.option(
    "--include-machines/--no-machines",
    default=True,
    show_default=True,
    help="Export machine and machine-group properties.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Requests in flight.",
)
@click.option("--force", is_flag=True, help="Overwrite YAML in --out that export did not write.")
@server_options
@connection_options
@click.pass_context
@handle_errors
def export(
    ctx: click.Context,
    out_dir: str,
    include_machines: bool,
    concurrency: int,
    force: bool,
    servers: tuple[str, ...],
    all_servers: bool,
    **conn: Any,
) -> None:
    """Write the live configuration as manifests (secrets become ${env:...} placeholders).

    Only files an earlier export wrote are replaced: other YAML in --out is refused.

    \b
    Examples:
      shcfg export --out exported/
      shcfg export --out exported/ --no-machines   # people and groups only
    """
    connection = merged_connection(ctx, conn)
    selection = select(servers, all_servers, required="export")
    with_defaults(selection.project, connection, None)
    if selection.servers:

        def one(name: str, own: dict[str, Any]) -> int:
            _export(own, Path(out_dir) / name, include_machines, concurrency, force)
            return 0

        sys.exit(each_server(selection, connection, one, "text")[0])
    _export(connection, Path(out_dir), include_machines, concurrency, force)


def _export(
    connection: dict[str, Any], out: Path, include_machines: bool, concurrency: int, force: bool
) -> None:
    """Export one server into `out` (with servers: in shcfg.yaml, OUT/NAME/)."""
    from reconciler.export import export_manifests
    from reconciler.files import check_directory

    out_dir = str(out)
    check_directory(out, "--out")
    client = make_client(connection, read_token(connection.get("token_file")), concurrency)
    try:
        written, placeholders = export_manifests(
            client,
            Path(out_dir),
            include_machines=include_machines,
            concurrency=concurrency,
            force=force,
            console=OUTPUT.err,
        )
    finally:
        client.close()
    for path in written:
        OUTPUT.print(f"wrote {path}")
    if placeholders:
        OUTPUT.print("Set these environment variables before plan or apply (exported secrets):")
        for name in placeholders:
            OUTPUT.print(f"  {name}")


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--probe-backup", is_flag=True, help="Also try the backup query (writes a backup file)."
)
@click.option(
    "--record",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a transcript of the exchanges (token removed, secrets masked).",
)
@server_options
@connection_options
@click.pass_context
@handle_errors
def doctor(
    ctx: click.Context,
    fmt: str,
    probe_backup: bool,
    record: str | None,
    servers: tuple[str, ...],
    all_servers: bool,
    **conn: Any,
) -> None:
    """Check, read-only, that the server works with shcfg; exit 0 when usable.

    \b
    Examples:
      shcfg doctor
      shcfg doctor --format json --record doctor.json   # attach to a bug report
      shcfg doctor --probe-backup --backup-query server/backup
    """
    from reconciler.doctor import diagnose, run
    from reconciler.doctor.checks import report_data, usable

    connection = merged_connection(ctx, conn)
    selection = select(servers, all_servers, required=None)
    with_defaults(selection.project, connection, None)
    if selection.servers:
        documents: dict[str, Any] = {}

        def one(name: str, own: dict[str, Any]) -> int:
            path = str(Path(record).with_stem(f"{Path(record).stem}-{name}")) if record else None
            if fmt == "json":
                checks = diagnose(own, probe_backup=probe_backup, record=path)
                documents[name] = report_data(checks)
                return 0 if usable(checks) else EXIT_ERROR
            return 0 if run(own, fmt=fmt, probe_backup=probe_backup, record=path) else EXIT_ERROR

        code, errors = each_server(selection, connection, one, fmt)
        if fmt == "json":
            every = {n: documents.get(n) or {"error": errors[n]} for n in selection.servers}
            OUTPUT.write(json.dumps({"servers": every}, indent=2) + "\n")
        sys.exit(code)
    if not run(connection, fmt=fmt, probe_backup=probe_backup, record=record):
        sys.exit(EXIT_ERROR)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown", "sarif"]),
    default="text",
    show_default=True,
)
@click.option(
    "--fail-on",
    type=click.Choice(["low", "medium", "high"]),
    default="high",
    show_default=True,
    help="Exit 2 when a finding at or above this severity exists.",
)
@click.option(
    "--manifests",
    multiple=True,
    type=click.Path(),
    help="Audit these manifests too (alone when no server URL is set); repeatable.",
)
@click.option(
    "--max-admins",
    type=click.IntRange(0),
    default=3,
    show_default=True,
    help="Technicians a group may grant administration permissions to.",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help="Requests."
)
@server_options
@connection_options
@click.pass_context
@handle_errors
def audit(
    ctx: click.Context,
    fmt: str,
    fail_on: str,
    manifests: tuple[str, ...],
    max_admins: int,
    concurrency: int,
    servers: tuple[str, ...],
    all_servers: bool,
    **conn: Any,
) -> None:
    """Report security findings of the live server and/or manifests (read-only).

    \b
    Examples:
      shcfg audit
      shcfg audit --format sarif --fail-on high > audit.sarif
      shcfg audit --manifests manifests/          # the desired state, offline
    """
    from reconciler.audit.command import run_audit

    connection = merged_connection(ctx, conn)
    selection = select(servers, all_servers, required=None)
    with_defaults(selection.project, connection, None)
    if selection.servers:
        sys.exit(
            _audit_servers(selection, connection, fmt, fail_on, manifests, max_admins, concurrency)
        )
    code = run_audit(
        connection,
        fmt=fmt,
        fail_on=fail_on,
        manifests=manifests,
        max_admins=max_admins,
        concurrency=concurrency,
    )
    if code:
        sys.exit(code)


def _audit_servers(
    selection: Selection,
    connection: dict[str, Any],
    fmt: str,
    fail_on: str,
    manifests: tuple[str, ...],
    max_admins: int,
    concurrency: int,
) -> int:
    """Each server's live state or, with --manifests, each server's resulting manifest set
    (shared + its overlays + its variables, as validate checks it, offline); JSON and SARIF
    are one document for all of them."""
    from reconciler.audit.command import build_report, exit_code, fallback_file
    from reconciler.audit.findings import Report
    from reconciler.audit.render import (
        render_fleet_json,
        render_fleet_sarif,
        render_markdown,
        render_text,
    )
    from reconciler.project import manifest_set

    reports: dict[str, Report | str] = {}
    fallback = fallback_file(None)

    def one(name: str, own: dict[str, Any]) -> int:
        sources = manifest_set(manifests, selection.project, name) if manifests else None
        report, _ = build_report(
            own,
            sources=sources,
            live=not manifests,
            max_admins=max_admins,
            concurrency=concurrency,
        )
        reports[name] = report
        if fmt == "markdown":
            OUTPUT.write(render_markdown(report))
        elif fmt == "text":
            OUTPUT.print(render_text(report))
        return exit_code(report, fail_on)

    code, errors = each_server(selection, connection, one, fmt, offline=bool(manifests))
    every = {n: reports.get(n) or errors[n] for n in selection.servers}
    if fmt == "json":
        OUTPUT.write(render_fleet_json(every))
    elif fmt == "sarif":
        OUTPUT.write(render_fleet_sarif(every, fallback=fallback))
    return code
