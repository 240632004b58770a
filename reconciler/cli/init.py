"""`shcfg init`: a starter project (see reconciler/init.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from reconciler.cli.options import connection_options, make_client, merged_connection, read_token
from reconciler.console import OUTPUT, handle_errors


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
@click.option(
    "--from-server",
    is_flag=True,
    help="Fill manifests/ with the export of the server the connection options name.",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help="Requests."
)
@connection_options
@click.pass_context
@handle_errors
def init(
    ctx: click.Context,
    directory: str,
    from_server: bool,
    force: bool,
    concurrency: int,
    **conn: Any,
) -> None:
    """Write a starter shcfg.yaml and manifest layout into DIRECTORY (default: here).

    Existing files are named and left alone unless --force is given.

    \b
    Examples:
      shcfg init                          # shcfg.yaml and empty manifests/
      shcfg init support-config/
      shcfg init --from-server            # manifests/ from $SIMPLEHELP_URL's export
    """
    from reconciler.export import export_manifests
    from reconciler.init import Exporter, init_project

    exporter: Exporter | None = None
    if from_server:
        connection = merged_connection(ctx, conn)
        token = read_token(connection.get("token_file"))

        def exporter(out: Path, overwrite: bool) -> list[Path]:
            client = make_client(connection, token, concurrency)
            try:
                written, placeholders = export_manifests(
                    client, out, concurrency=concurrency, force=overwrite, console=OUTPUT.err
                )
            finally:
                client.close()
            if placeholders:
                OUTPUT.print("Set these environment variables before plan or apply:")
                for name in placeholders:
                    OUTPUT.print(f"  {name}")
            return written

    for path in init_project(Path(directory), force=force, exporter=exporter):
        OUTPUT.print(f"wrote {path}")
    here = "" if Path(directory) == Path() else f"cd {directory} && "
    OUTPUT.print(f"Next: {here}shcfg validate && shcfg plan   (both read shcfg.yaml)")
