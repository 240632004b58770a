"""The `shcfg` command line: parse options, call the library, map errors to exit codes.

Exit codes: 0 success (no changes with --detailed-exitcode), 1 any error (usage errors
included, so a pipeline never reads a typo as "changes present"), 2 changes present
(plan --detailed-exitcode), 130 interrupted.
"""

from __future__ import annotations

import functools
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.console import Console

from reconciler import __version__
from reconciler.errors import ShcfgError
from reconciler.redact import Redactor

if TYPE_CHECKING:
    from reconciler.apply import ApplyResult
    from reconciler.client.api import SimpleHelpClient
    from reconciler.manifest import LoadedManifest
    from reconciler.plan import Change, Plan

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_INTERRUPTED = 0, 1, 2, 130
CONNECTION_OPTIONS = ("url", "token_file", "ca_bundle", "insecure", "timeout")


class Output:
    """Everything the CLI prints goes through here, so secrets are redacted in one place."""

    def __init__(self) -> None:
        self.redactor = Redactor()
        # No markup or emoji codes: names and paths from manifests and servers are printed
        # as they are ("[x]" stays, "file.yaml:100:5" does not turn into an emoji).
        self.out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)

    def print(self, renderable: Any = "", *, err: bool = False, style: str | None = None) -> None:
        console = self.err if err else self.out
        console.print(self.redactor.renderable(renderable), style=style)

    def write(self, text: str) -> None:
        """Raw text for machine formats (JSON, markdown): no styling, only redaction."""
        sys.stdout.write(self.redactor.text(text))
        sys.stdout.flush()


OUTPUT = Output()


def connection_options(fn: F) -> F:
    """--url/--token-file/--ca-bundle/--insecure/--timeout, before or after the subcommand."""
    fn = click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=None,
        help="Seconds to wait for each answer before giving up on it (default 30).",
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
    if token_file:
        path = Path(token_file)
        try:
            mode = path.stat().st_mode
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ShcfgError(
                f"--token-file {token_file}: cannot read: {exc.__class__.__name__}"
            ) from None
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
    OUTPUT.redactor.add(token)
    return token


def make_client(conn: dict[str, Any], concurrency: int = 8) -> SimpleHelpClient:
    from reconciler.client.api import SimpleHelpClient

    url = conn.get("url") or os.environ.get("SIMPLEHELP_URL")
    if not url:
        raise ShcfgError("no server URL: pass --url URL or set SIMPLEHELP_URL")
    token = read_token(conn.get("token_file"))
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


def handle_errors(fn: F) -> F:
    """Expected failures become one line on stderr and exit 1, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ShcfgError as exc:
            lines = str(exc).splitlines() or [exc.__class__.__name__]
            for line in lines:
                OUTPUT.print(f"Error: {line}", err=True, style="bold red")
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


class ShcfgGroup(click.Group):
    """Maps click's own exits onto the contract: usage errors exit 1, not 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        except click.ClickException as exc:
            exc.show()
            sys.exit(EXIT_ERROR)
        except (click.Abort, KeyboardInterrupt):
            OUTPUT.print("Interrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        sys.exit(EXIT_OK)


@click.group(cls=ShcfgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="shcfg")
@connection_options
@click.pass_context
def cli(ctx: click.Context, **conn: Any) -> None:
    """Configuration-as-code for SimpleHelp servers: validate, plan, apply, export."""
    ctx.obj = {k: v for k, v in conn.items() if v is not None}


def _load(paths: tuple[str, ...], *, resolve_secrets: bool = True) -> LoadedManifest:
    from reconciler.manifest import load_manifests

    if not paths:
        raise ShcfgError("no manifest given: pass one or more files or directories")
    loaded = load_manifests(list(paths), resolve_secrets=resolve_secrets)
    OUTPUT.redactor.add_all(loaded.secret_values)
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
    """Check manifests offline: schema, references, duplicates, regexes, secrets."""
    from reconciler.manifest import ManifestError, check_references

    loaded = _load(paths, resolve_secrets=not skip_secrets)
    issues = check_references(loaded)
    if issues:
        raise ManifestError(issues)
    model = loaded.model
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


def _build_plan(
    paths: tuple[str, ...], conn: dict[str, Any], *, rotate: bool, force: bool, concurrency: int
) -> tuple[LoadedManifest, SimpleHelpClient, dict[str, Any], Plan]:
    from reconciler.reconcile import make_plan, read_live
    from reconciler.safety import check_plan

    loaded = _load(paths)
    client = make_client(conn, concurrency)
    try:
        live = read_live(client, loaded, concurrency=concurrency)
        plan = make_plan(loaded, live, server=client.url, rotate_secrets=rotate)
        check_plan(plan, loaded, client, force=force)
    except BaseException:
        client.close()
        raise
    return loaded, client, live, plan


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
    """Show what apply would change. Makes no write call."""
    from reconciler.saved import save_plan

    loaded, client, _, result = _build_plan(
        paths, _connection(ctx, conn), rotate=rotate_secrets, force=force, concurrency=concurrency
    )
    client.close()
    _show_plan(result, fmt)
    if out:
        save_plan(result, loaded, Path(out))
        OUTPUT.print(f"Saved the plan to {out}. Apply it with: shcfg apply --plan {out}", err=True)
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


def _show_plan(result: Plan, fmt: str) -> None:
    from reconciler.render import render_json, render_markdown, render_text

    if fmt == "json":
        OUTPUT.write(render_json(result))
    elif fmt == "markdown":
        OUTPUT.write(render_markdown(result))
    else:
        OUTPUT.print(render_text(result))


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
    """Plan, confirm, back up the server configuration, then apply in dependency order."""
    from reconciler.apply import Journal, apply_plan, new_context, run_backup
    from reconciler.kinds.groups import ids_by_name
    from reconciler.progress import ApplyProgress
    from reconciler.reconcile import make_refresh, secret_lookup
    from reconciler.safety import check_plan
    from reconciler.saved import load_saved_plan

    connection = _connection(ctx, conn)
    if plan_file:
        if paths:
            raise ShcfgError("pass either manifests or --plan FILE, not both")
        loaded, client, live, result = load_saved_plan(
            Path(plan_file),
            lambda p: _load(tuple(p)),
            lambda: make_client(connection, concurrency),
            concurrency=concurrency,
        )
        # Guards again at apply time: sessions start and manifests change after a plan.
        check_plan(result, loaded, client, force=force)
    else:
        loaded, client, live, result = _build_plan(
            paths, connection, rotate=rotate_secrets, force=force, concurrency=concurrency
        )
    _show_plan(result, "text")
    _warn_owed_secrets(Path(journal) if journal else None, result)
    if not result.has_changes:
        client.close()
        return
    if not auto_approve:
        if not sys.stdin.isatty():
            raise ShcfgError("stdin is not a terminal: pass --auto-approve to apply without asking")
        answer = click.prompt("Apply these changes? Only 'yes' will be accepted", default="")
        if answer.strip() != "yes":
            raise ShcfgError("apply cancelled")
    log = Journal(Path(journal) if journal else None)
    log.write("start", server=client.url, changes=len(result.changes), checksum=result.checksum())
    if no_backup:
        OUTPUT.print(
            "WARNING: --no-backup: the server configuration is NOT backed up before changes.",
            err=True,
            style="bold red",
        )
        log.write("backup", outcome="skipped")
    else:
        run_backup(client, log)
        OUTPUT.print("Configuration backup requested on the server.", err=True)
    context = new_context(client, secret_lookup(loaded), ids_by_name(live), concurrency)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        OUTPUT.print("Interrupted: finishing the requests in flight, then stopping.", err=True)

    previous = signal.signal(signal.SIGINT, on_signal)
    try:
        with ApplyProgress(len(result.changes), OUTPUT.err) as progress:
            outcome = apply_plan(
                result,
                context,
                journal=log,
                refresh=make_refresh(client, loaded, result, concurrency, rotate_secrets),
                notify=progress.wrap(_notify),
                stop=stop,
            )
    finally:
        signal.signal(signal.SIGINT, previous)
        context.pool.shutdown(cancel_futures=True)
        client.close()
    _report(outcome)


def _warn_owed_secrets(journal: Path | None, result: Plan) -> None:
    """A password an earlier apply never confirmed cannot be seen in a plan: say so."""
    from reconciler.apply import owed_secrets

    setting = {c.key for c in result.changes if c.field("password") is not None}
    owed = [
        f"{kind} {name!r}" for kind, name in owed_secrets(journal) if (kind, name) not in setting
    ]
    if owed:
        OUTPUT.print(
            f"Warning: an earlier apply did not confirm the password of {', '.join(owed)} "
            "(see the journal); run apply with --rotate-secrets to set it.",
            err=True,
            style="bold yellow",
        )


def _notify(event: str, change: Change, message: str) -> None:
    from reconciler.render.common import SYMBOLS, title

    if event == "applied":
        OUTPUT.print(f"  {SYMBOLS[change.action]} {title(change)}: done")
    else:
        OUTPUT.print(f"  {SYMBOLS[change.action]} {title(change)}: FAILED: {message}", style="red")


def _report(outcome: ApplyResult) -> None:
    from reconciler.render.common import title

    applied, failed, skipped = outcome.applied, outcome.failed, outcome.not_attempted
    OUTPUT.print(
        f"\nApply {'complete' if outcome.ok else 'stopped'}: {len(applied)} applied, "
        f"{len(failed)} failed, {len(skipped)} not attempted.",
        style="bold" if outcome.ok else "bold red",
    )
    for change in skipped:
        OUTPUT.print(f"  not attempted: {change.action.value} {title(change)}", err=True)
    if outcome.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if failed:
        sys.exit(EXIT_ERROR)


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
    """Write the live configuration as manifests (secrets become ${env:...} placeholders)."""
    from reconciler.export import export_manifests

    client = make_client(_connection(ctx, conn), concurrency)
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
    "--backup-query", default="server/backup", show_default=True, help="Path of the backup query."
)
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
    """Run the bundled SimpleHelp API emulator on loopback."""
    from pydantic import ValidationError

    from reconciler.sandbox import SandboxConfig, SandboxError, run_sandbox

    token = token or os.environ.get("SIMPLEHELP_API_TOKEN")
    if not token:
        raise ShcfgError("no token: pass --token T or set SIMPLEHELP_API_TOKEN")
    OUTPUT.redactor.add(token)
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
