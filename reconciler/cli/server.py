"""Commands that only read a server: export, doctor, audit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

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
@connection_options
@click.pass_context
@handle_errors
def export(
    ctx: click.Context,
    out_dir: str,
    include_machines: bool,
    concurrency: int,
    force: bool,
    **conn: Any,
) -> None:
    """Write the live configuration as manifests (secrets become ${env:...} placeholders).

    Only files an earlier export wrote are replaced: other YAML in --out is refused.

    \b
    Examples:
      shcfg export --out exported/
      shcfg export --out exported/ --no-machines   # people and groups only
    """
    from reconciler.export import export_manifests
    from reconciler.files import check_directory

    check_directory(Path(out_dir), "--out")
    connection = merged_connection(ctx, conn)
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
@connection_options
@click.pass_context
@handle_errors
def doctor(
    ctx: click.Context, fmt: str, probe_backup: bool, record: str | None, **conn: Any
) -> None:
    """Check, read-only, that the server works with shcfg; exit 0 when usable.

    \b
    Examples:
      shcfg doctor
      shcfg doctor --format json --record doctor.json   # attach to a bug report
      shcfg doctor --probe-backup --backup-query server/backup
    """
    from reconciler.doctor import run

    if not run(merged_connection(ctx, conn), fmt=fmt, probe_backup=probe_backup, record=record):
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

    code = run_audit(
        merged_connection(ctx, conn),
        fmt=fmt,
        fail_on=fail_on,
        manifests=manifests,
        max_admins=max_admins,
        concurrency=concurrency,
    )
    if code:
        sys.exit(code)
