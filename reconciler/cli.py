"""The `shcfg` command line: parse options, call the library, map errors to exit codes.

Exit codes: 0 success (no changes with --detailed-exitcode), 1 any error (usage errors
included, so a pipeline never reads a typo as "changes present"), 2 changes present
(plan --detailed-exitcode), 130 interrupted.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler import __version__
from reconciler.console import (
    EXIT_CHANGES,
    EXIT_ERROR,
    OUTPUT,
    CliUi,
    F,
    ShcfgGroup,
    handle_errors,
    report_apply,
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


def _connection(ctx: click.Context, local: dict[str, Any]) -> dict[str, Any]:
    merged = dict(ctx.obj or {})
    for key in CONNECTION_OPTIONS:
        if local.get(key) is not None:
            merged[key] = local[key]
    return merged


def read_token(token_file: str | None) -> str:
    """The API token, from --token-file (a small regular file) or $SIMPLEHELP_API_TOKEN."""
    from reconciler.files import read_secret_file

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
    return _masked(token)


def _masked(token: str) -> str:
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
        OUTPUT.print(
            "WARNING: --insecure: TLS certificates are NOT verified; the API token can be "
            "intercepted.",
            err=True,
            style="bold red",
        )
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


def _target(conn: dict[str, Any], concurrency: int) -> Target:
    from reconciler.workflow import Target

    token = read_token(conn.get("token_file"))
    return Target(token=token, connect=lambda: make_client(conn, token, concurrency))


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


@click.group(cls=ShcfgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shcfg")
@connection_options
@click.pass_context
def cli(ctx: click.Context, **conn: Any) -> None:
    """Configuration-as-code for SimpleHelp servers: validate, plan, apply, export."""
    ctx.obj = {k: v for k, v in conn.items() if v is not None}


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


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--skip-secrets",
    is_flag=True,
    help="Check ${env:}/${file:} syntax only, not that they resolve (pre-commit, no secrets).",
)
@handle_errors
def validate(paths: tuple[str, ...], skip_secrets: bool) -> None:
    """Check manifests offline: schema, references, duplicates, regexes, secrets.

    \b
    Examples:
      shcfg validate manifests/
      shcfg validate --skip-secrets manifests/   # pre-commit, without the secrets
    """
    from reconciler.audit.policy import check_declared
    from reconciler.manifest import ManifestError, check_references

    loaded = load(paths, resolve_secrets=not skip_secrets)
    issues = check_references(loaded) + check_declared(loaded)
    if issues:
        raise ManifestError(issues)
    model = loaded.model
    for name in loaded.files:
        OUTPUT.print(f"Read {name}")
    OUTPUT.print(
        f"Valid: {len(loaded.files)} file(s), {len(model.groups)} group(s), "
        f"{len(model.technicians)} technician(s), {len(model.machines)} machine(s), "
        f"{len(model.machineGroups)} machine group(s)."
    )


def plan_options(fn: F) -> F:
    fn = click.option(
        "--concurrency",
        type=click.IntRange(1, 64),
        default=8,
        show_default=True,
        help="Requests in flight at once.",
    )(fn)
    fn = click.option(
        "--rotate-secrets", is_flag=True, help="Set write-only passwords of existing objects too."
    )(fn)
    fn = click.option("--force", is_flag=True, help="Allow plans that cross a safety threshold.")(
        fn
    )
    return fn


def _options(concurrency: int, force: bool, rotate_secrets: bool) -> Options:
    from reconciler.workflow import Options

    return Options(concurrency=concurrency, force=force, rotate_secrets=rotate_secrets)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False), help="Save the plan for `apply --plan`.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
@plan_options
@connection_options
@click.pass_context
@handle_errors
def plan(
    ctx: click.Context,
    paths: tuple[str, ...],
    out: str | None,
    fmt: str,
    detailed_exitcode: bool,
    rotate_secrets: bool,
    force: bool,
    concurrency: int,
    **conn: Any,
) -> None:
    """Show what apply would change. Makes no write call.

    \b
    Examples:
      shcfg plan manifests/
      shcfg plan manifests/ --format markdown --detailed-exitcode
      shcfg plan manifests/ --out plan.json   # then: shcfg apply --plan plan.json
    """
    from reconciler.workflow import run_plan

    connection = _connection(ctx, conn)
    result = run_plan(
        paths,
        _target(connection, concurrency),
        CliUi(fmt),
        _options(concurrency, force, rotate_secrets),
        Path(out) if out else None,
    )
    if out:
        OUTPUT.print(f"Saved the plan to {out}. Apply it with: shcfg apply --plan {out}", err=True)
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False), help="Apply a saved plan.")
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--no-backup", is_flag=True, help="Skip the configuration backup (not advised).")
@click.option(
    "--journal",
    type=click.Path(dir_okay=False),
    default=".shcfg/journal.jsonl",
    show_default=True,
    help="Append a JSON-lines record of this apply here.",
)
@plan_options
@connection_options
@click.pass_context
@handle_errors
def apply(
    ctx: click.Context,
    paths: tuple[str, ...],
    plan_file: str | None,
    auto_approve: bool,
    no_backup: bool,
    journal: str,
    rotate_secrets: bool,
    force: bool,
    concurrency: int,
    **conn: Any,
) -> None:
    """Plan, confirm, back up the server configuration, then apply in dependency order.

    \b
    Examples:
      shcfg apply manifests/
      shcfg apply manifests/ --auto-approve          # in a pipeline
      shcfg apply --plan plan.json --auto-approve    # exactly a reviewed plan
    """
    from reconciler.workflow import run_apply

    if plan_file and paths:
        raise ShcfgError("pass either manifests or --plan FILE, not both")
    connection = _connection(ctx, conn)
    outcome = run_apply(
        Path(plan_file) if plan_file else paths,
        _target(connection, concurrency),
        CliUi(auto_approve=auto_approve),
        _options(concurrency, force, rotate_secrets),
        journal=Path(journal) if journal else None,
        backup=not no_backup,
    )
    if outcome is not None:
        report_apply(outcome)


@cli.command()
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
@connection_options
@click.pass_context
@handle_errors
def export(
    ctx: click.Context, out_dir: str, include_machines: bool, concurrency: int, **conn: Any
) -> None:
    """Write the live configuration as manifests (secrets become ${env:...} placeholders).

    \b
    Examples:
      shcfg export --out exported/
      shcfg export --out exported/ --no-machines   # people and groups only
    """
    from reconciler.export import export_manifests
    from reconciler.files import check_directory

    check_directory(Path(out_dir), "--out")
    connection = _connection(ctx, conn)
    client = make_client(connection, read_token(connection.get("token_file")), concurrency)
    try:
        written, placeholders = export_manifests(
            client, Path(out_dir), include_machines=include_machines, concurrency=concurrency
        )
    finally:
        client.close()
    for path in written:
        OUTPUT.print(f"wrote {path}")
    if placeholders:
        OUTPUT.print("Set these environment variables before plan or apply (exported secrets):")
        for name in placeholders:
            OUTPUT.print(f"  {name}")


@cli.command()
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

    if not run(_connection(ctx, conn), fmt=fmt, probe_backup=probe_backup, record=record):
        sys.exit(EXIT_ERROR)


@cli.command()
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
        _connection(ctx, conn),
        fmt=fmt,
        fail_on=fail_on,
        manifests=manifests,
        max_admins=max_admins,
        concurrency=concurrency,
    )
    if code:
        sys.exit(code)


@cli.command()
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
    _masked(token)
    try:
        config = SandboxConfig(token=token, **{k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ShcfgError(f"sandbox: {'.'.join(map(str, first['loc']))}: {first['msg']}") from None
    try:
        run_sandbox(config)
    except SandboxError as exc:
        raise ShcfgError("sandbox: " + " ".join(str(exc).split())) from None


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="shcfg")
