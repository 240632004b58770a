"""The `shcfg` command line: parse options, call the library, map errors to exit codes.

Exit codes: 0 success (no changes with --detailed-exitcode), 1 any error (usage errors
included, so a pipeline never reads a typo as "changes present"), 2 changes present
(plan --detailed-exitcode), 130 interrupted. One module per family of commands; the
option bundles every command spells the same way live in `options.py`.
"""

from __future__ import annotations

from typing import Any

import click

from reconciler import __version__
from reconciler.cli.options import (
    _retry_notice,
    connection_options,
    load,
    make_client,
    read_token,
)
from reconciler.console import OUTPUT, ShcfgGroup

__all__ = ["OUTPUT", "_retry_notice", "cli", "load", "main", "make_client", "read_token"]


@click.group(cls=ShcfgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shcfg")
@connection_options
@click.pass_context
def cli(ctx: click.Context, **conn: Any) -> None:
    """Configuration-as-code for SimpleHelp servers: validate, plan, apply, export."""
    ctx.obj = {k: v for k, v in conn.items() if v is not None}


def _register() -> None:
    """Each family of commands in its own module; one line here adds a command."""
    from reconciler.cli import compare, init, manifests, sandbox, server

    for command in (
        init.init,
        manifests.validate,
        manifests.plan,
        manifests.apply,
        server.export,
        server.doctor,
        server.audit,
        compare.compare,
        sandbox.sandbox,
    ):
        cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="shcfg")
