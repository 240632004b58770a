"""Option bundles and connection set-up shared by every command."""

from __future__ import annotations

import os
import stat
import sys
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.console import (
    OUTPUT,
    F,
)
from reconciler.errors import ShcfgError
from reconciler.redact import MIN_LENGTH

if TYPE_CHECKING:
    from reconciler.client.api import SimpleHelpClient
    from reconciler.manifest import LoadedManifest
    from reconciler.workflow import Options, Target

CONNECTION_OPTIONS = ("url", "token_file", "ca_bundle", "insecure", "timeout", "backup_query")


def connection_options(fn: F) -> F:
    """--url/--token-file/--ca-bundle/--insecure/--timeout/--backup-query, before or after
    the subcommand."""
    fn = click.option(
        "--backup-query",
        default=None,
        metavar="PATH",
        help="Path of the server's backup query (else $SIMPLEHELP_BACKUP_QUERY, "
        "default server/backup).",
    )(fn)
    fn = click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=None,
        help="Seconds for each answer to arrive whole (default 30); a request with its "
        "retries ends within 3 times that.",
    )(fn)
    fn = click.option(
        "--insecure", is_flag=True, default=None, help="Skip TLS verification (loud)."
    )(fn)
    fn = click.option(
        "--ca-bundle", type=click.Path(dir_okay=False), default=None, help="CA bundle for TLS."
    )(fn)
    fn = click.option(
        "--token-file",
        type=click.Path(dir_okay=False),
        default=None,
        help="File holding the API token (else $SIMPLEHELP_API_TOKEN).",
    )(fn)
    fn = click.option(
        "--url", default=None, help="Server URL: scheme://host:port (else $SIMPLEHELP_URL)."
    )(fn)
    return fn


def merged_connection(ctx: click.Context, local: dict[str, Any]) -> dict[str, Any]:
    merged = dict(ctx.obj or {})
    for key in CONNECTION_OPTIONS:
        if local.get(key) is not None:
            merged[key] = local[key]
    return merged


# The token of the shcfg.yaml server a command is running for (doctor, audit, export).
SERVER_TOKEN: ContextVar[str | None] = ContextVar("SERVER_TOKEN", default=None)


def read_token(token_file: str | None) -> str:
    """The API token: the selected server's, else --token-file (a small regular file), else
    $SIMPLEHELP_API_TOKEN."""
    from reconciler.files import read_secret_file

    chosen = SERVER_TOKEN.get()
    if chosen is not None:
        return chosen
    if token_file:
        text, mode = read_secret_file(Path(token_file), "--token-file")
        token = text.strip()
        if not token:
            raise ShcfgError(f"--token-file {token_file}: the file is empty")
        if mode & (stat.S_IRGRP | stat.S_IROTH):
            OUTPUT.print(
                f"Warning: --token-file {token_file} is readable by other users (chmod 600 it).",
                err=True,
                style="bold yellow",
            )
    else:
        token = os.environ.get("SIMPLEHELP_API_TOKEN", "").strip()
    if not token:
        raise ShcfgError("no API token: set SIMPLEHELP_API_TOKEN or pass --token-file PATH")
    return masked_token(token)


def masked_token(token: str) -> str:
    """The token, from now on masked in all output (so it must be long enough to mask)."""
    if len(token) < MIN_LENGTH:
        raise ShcfgError(
            f"the API token is shorter than {MIN_LENGTH} characters: it could not be masked "
            "safely in output; use the full token"
        )
    OUTPUT.redactor.add(token)
    return token


def make_client(conn: dict[str, Any], token: str, concurrency: int = 8) -> SimpleHelpClient:
    from reconciler.client.api import SimpleHelpClient

    url = conn.get("url") or os.environ.get("SIMPLEHELP_URL")
    if not url:
        raise ShcfgError("no server URL: pass --url URL or set SIMPLEHELP_URL")
    if conn.get("insecure"):
        warn_insecure()
        _quiet_library_tls_warnings()
    return SimpleHelpClient(
        url,
        token,
        ca_bundle=conn.get("ca_bundle"),
        insecure=bool(conn.get("insecure")),
        pool_size=max(concurrency, 1),
        timeout=(5.0, float(conn.get("timeout") or 30.0)),
        backup_query=conn.get("backup_query")
        or os.environ.get("SIMPLEHELP_BACKUP_QUERY")
        or "server/backup",
        on_retry=_retry_notice,
    )


def _retry_notice(message: str) -> None:
    """A retry is worth a line on a terminal; in logs and pipelines the outcome is enough."""
    if sys.stderr.isatty():
        OUTPUT.print(message, err=True, style="yellow")


def target_of(conn: dict[str, Any], concurrency: int) -> Target:
    from reconciler.workflow import Target

    token = read_token(conn.get("token_file"))
    return Target(token=token, connect=lambda: make_client(conn, token, concurrency))


def warn_insecure() -> None:
    """Say loudly, once per command, that --insecure leaves the token open to interception."""
    OUTPUT.print(
        "WARNING: --insecure: TLS certificates are NOT verified; the API token can be intercepted.",
        err=True,
        style="bold red",
    )


def _quiet_library_tls_warnings() -> None:
    """The CLI said it once, loudly; a multi-line library warning per request buries that."""
    import logging
    import warnings

    from urllib3.exceptions import InsecureRequestWarning

    warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    warnings.filterwarnings("ignore", message="TLS certificate verification is disabled")
    logging.getLogger("reconciler.client.transport").addFilter(
        lambda record: "insecure mode" not in record.getMessage()
    )


def load(paths: tuple[str, ...], *, resolve_secrets: bool = True) -> LoadedManifest:
    """Manifests for a command that does not run the workflow; warnings go to stderr."""
    from reconciler.manifest import load_manifests

    if not paths:
        raise ShcfgError("no manifest given: pass one or more files or directories")
    loaded = load_manifests(list(paths), resolve_secrets=resolve_secrets)
    OUTPUT.redactor.add_all(loaded.secret_values)
    for warning in loaded.warnings:
        OUTPUT.print(f"Warning: {warning}", err=True, style="bold yellow")
    return loaded


def plan_options(fn: F) -> F:
    fn = click.option(
        "--concurrency",
        type=click.IntRange(1, 64),
        default=None,
        help="Requests in flight at once (default: shcfg.yaml's concurrency, else 8).",
    )(fn)
    fn = click.option(
        "--rotate-secrets", is_flag=True, help="Set write-only passwords of existing objects too."
    )(fn)
    fn = click.option("--force", is_flag=True, help="Allow plans that cross a safety threshold.")(
        fn
    )
    return fn


def workflow_options(concurrency: int, force: bool, rotate_secrets: bool) -> Options:
    from reconciler.workflow import Options

    return Options(concurrency=concurrency, force=force, rotate_secrets=rotate_secrets)
