"""`shcfg sandbox`: the bundled API emulator."""

from __future__ import annotations

import os
from typing import Any

import click

from reconciler.cli.options import masked_token
from reconciler.console import handle_errors
from reconciler.errors import ShcfgError


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="0: any free port.",
)
@click.option("--token", "token", default=None, help="API token (else $SIMPLEHELP_API_TOKEN).")
@click.option(
    "--data-dir", type=click.Path(file_okay=False), default=None, help="Persist state here."
)
@click.option(
    "--seed", type=click.Path(dir_okay=False, exists=True), default=None, help="YAML/JSON seed."
)
@click.option("--latency-ms", type=click.FloatRange(0), default=0.0, help="Delay per request.")
@click.option(
    "--fail-rate", type=click.FloatRange(0, 1), default=0.0, help="Share of requests to fail."
)
@click.option(
    "--fail-kinds", default="500", show_default=True, help="500,503,429,reset,timeout,html"
)
@click.option("--fail-seed", type=int, default=0, show_default=True, help="Replayable faults.")
@click.option(
    "--durable/--no-durable",
    default=None,
    help="Write state before acknowledging each write (default), or write behind.",
)
@click.option(
    "--server-version",
    default=None,
    help="Release named by the public /allversions page (default 5.5.16).",
)
@click.option(
    "--readings",
    type=click.Choice(["default", "all"]),
    default=None,
    help="all: every reading below not given takes its other value (docs/sandbox.md).",
)
@click.option(
    "--refuse-bodyless-post/--accept-bodyless-post",
    default=None,
    help="Refuse a POST without a body with a 400 (default: accept).",
)
@click.option(
    "--write-answer",
    type=click.Choice(["response", "empty", "true", "ok"]),
    default=None,
    help="Answer to a write: API Response Object (default), empty, true or text OK.",
)
@click.option(
    "--text-strings/--json-strings",
    default=None,
    help="String answers as text/plain (default: a JSON string).",
)
@click.option(
    "--absent-status",
    type=click.Choice([404, 400]),
    default=None,
    help="Status of an absent object (default 404).",
)
@click.option(
    "--auth-status",
    type=click.Choice([401, 403, 400]),
    default=None,
    help="Status of a wrong token (default 401).",
)
@click.option("--backup-query", default=None, help="Path of the backup query [server/backup].")
@click.option(
    "--tls-cert", type=click.Path(dir_okay=False, exists=True), default=None, help="Serve HTTPS."
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Key of --tls-cert.",
)
@click.option("--allow-remote", is_flag=True, help="Allow binding a non-loopback address.")
@click.option("--verbose", is_flag=True, help="Log each request (never the token).")
@handle_errors
def sandbox(token: str | None, **options: Any) -> None:
    """Run the bundled SimpleHelp API emulator on loopback.

    \b
    Example:
      shcfg sandbox --port 8080 --data-dir state/   # token from $SIMPLEHELP_API_TOKEN
    """
    from pydantic import ValidationError

    from reconciler.sandbox import SandboxConfig, SandboxError, run_sandbox

    token = token or os.environ.get("SIMPLEHELP_API_TOKEN")
    if not token:
        raise ShcfgError("no token: pass --token T or set SIMPLEHELP_API_TOKEN")
    masked_token(token)
    try:
        config = SandboxConfig(token=token, **{k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ShcfgError(f"sandbox: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    try:
        run_sandbox(config)
    except SandboxError as exc:
        raise ShcfgError("sandbox: " + " ".join(str(exc).split())) from None
