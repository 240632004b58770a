"""`shcfg compare --server A --server B`: two servers' live configurations side by side."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import click

from reconciler.cli.fleet import select, server_connection, with_defaults
from reconciler.cli.options import connection_options, make_client, merged_connection
from reconciler.console import EXIT_CHANGES, OUTPUT, handle_errors
from reconciler.errors import ShcfgError


@click.command()
@click.option("--server", "servers", multiple=True, metavar="NAME", help="Twice: A, then B.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--include-machines",
    is_flag=True,
    help="Compare machines and machine-group properties too (twins' agents usually differ).",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=None, help="Requests per server."
)
@connection_options
@click.pass_context
@handle_errors
def compare(
    ctx: click.Context,
    servers: tuple[str, ...],
    fmt: str,
    include_machines: bool,
    concurrency: int | None,
    **conn: Any,
) -> None:
    """Compare the live configurations of two servers of shcfg.yaml, after each one's
    variables: exit 0 when they match, 2 when they differ, 1 on error.

    \b
    Examples:
      shcfg compare --server prod --server dr
      shcfg compare --server prod --server dr --format json
    """
    from reconciler.compare import differences, live_configuration, with_variables

    if len(set(servers)) != 2:
        raise ShcfgError("compare needs two different servers: --server A --server B")
    connection = merged_connection(ctx, conn)
    selection = select(servers, False, required=None)
    project = selection.project
    assert project is not None
    requests = with_defaults(project, connection, concurrency)
    links = [server_connection(project, name, connection) for name in servers]

    def read(index: int) -> Any:
        own, token = links[index]
        client = make_client(own, token, requests)
        try:
            config = live_configuration(
                client, concurrency=requests, include_machines=include_machines
            )
        finally:
            client.close()
        return with_variables(config, project.model.servers[servers[index]].vars)

    with ThreadPoolExecutor(2, thread_name_prefix="compare") as pool:
        left, right = pool.map(read, (0, 1))
    found = differences(left, right)
    a, b = servers
    if fmt == "json":
        data = {
            "servers": [a, b],
            "equal": not found,
            "differences": [
                {"kind": d.kind, "identity": d.identity, "field": d.field, a: d.a, b: d.b}
                for d in found
            ],
        }
        OUTPUT.write(json.dumps(data, indent=2, sort_keys=True) + "\n", json=True)
    else:
        for d in found:
            what = f"{d.kind} {d.identity!r}"
            if d.field is None:
                side = a if d.a == "present" else b
                OUTPUT.print(f"{what}: only on {side}")
            else:
                OUTPUT.print(f"{what}: {d.field}: {_shown(d.a)} ({a}) != {_shown(d.b)} ({b})")
        OUTPUT.print(
            f"{len(found)} difference(s) between {a} and {b}."
            if found
            else f"No differences: {a} and {b} match (after their variables)."
        )
    if found:
        sys.exit(EXIT_CHANGES)


def _shown(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, ensure_ascii=False)
