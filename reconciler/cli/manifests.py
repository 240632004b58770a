"""Commands over manifests: validate, plan, apply."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from reconciler.cli.fleet import (
    members,
    parallel_option,
    select,
    server_options,
    with_defaults,
)
from reconciler.cli.fleet_run import fleet_apply, fleet_options, fleet_plan, fleet_validate
from reconciler.cli.options import (
    connection_options,
    load,
    merged_connection,
    plan_options,
    target_of,
    workflow_options,
)
from reconciler.console import (
    EXIT_CHANGES,
    OUTPUT,
    CliUi,
    handle_errors,
    report_apply,
)
from reconciler.errors import ShcfgError
from reconciler.project import manifest_set


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--skip-secrets",
    is_flag=True,
    help="Check ${env:}/${file:} syntax only, not that they resolve (pre-commit, no secrets).",
)
@server_options
@handle_errors
def validate(
    paths: tuple[str, ...],
    skip_secrets: bool,
    servers: tuple[str, ...],
    all_servers: bool,
) -> None:
    """Check manifests offline: schema, references, duplicates, regexes, secrets.

    \b
    Examples:
      shcfg validate manifests/
      shcfg validate --skip-secrets manifests/   # pre-commit, without the secrets
    """
    from reconciler.audit.policy import check_declared
    from reconciler.manifest import ManifestError, check_references

    selection = select(servers, all_servers, required=None)
    if selection.servers:
        fleet_validate(selection, paths, not skip_secrets)
        return
    sources = manifest_set(paths, selection.project)
    loaded = load(sources.paths, resolve_secrets=not skip_secrets)
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


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--out",
    type=click.Path(),
    help="Save the plan for `apply --plan` (with servers: a directory, one NAME.json each).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option("--detailed-exitcode", is_flag=True, help="Exit 2 when there are changes.")
@plan_options
@server_options
@parallel_option
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
    concurrency: int | None,
    servers: tuple[str, ...],
    all_servers: bool,
    parallel_servers: int,
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

    connection = merged_connection(ctx, conn)
    selection = select(servers, all_servers, required=None)
    requests = with_defaults(selection.project, connection, concurrency)
    if selection.servers:
        chosen = members(
            selection, paths, connection, concurrency, fleet_options(force, rotate_secrets)
        )
        sys.exit(fleet_plan(chosen, fmt, out, parallel_servers, detailed_exitcode))
    result = run_plan(
        manifest_set(paths, selection.project),
        target_of(connection, requests),
        CliUi(fmt),
        workflow_options(requests, force, rotate_secrets),
        Path(out) if out else None,
    )
    if out:
        OUTPUT.print(f"Saved the plan to {out}. Apply it with: shcfg apply --plan {out}", err=True)
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(),
    help="Apply a saved plan (with servers: the directory of `plan --out DIR`).",
)
@click.option("--fail-fast", is_flag=True, help="With servers: stop all at the first failure.")
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
@server_options
@parallel_option
@connection_options
@click.pass_context
@handle_errors
def apply(
    ctx: click.Context,
    paths: tuple[str, ...],
    plan_file: str | None,
    fail_fast: bool,
    auto_approve: bool,
    no_backup: bool,
    journal: str,
    rotate_secrets: bool,
    force: bool,
    concurrency: int | None,
    servers: tuple[str, ...],
    all_servers: bool,
    parallel_servers: int,
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
    connection = merged_connection(ctx, conn)
    selection = select(servers, all_servers, required="apply")
    requests = with_defaults(selection.project, connection, concurrency)
    if selection.servers:
        chosen = members(
            selection,
            paths,
            connection,
            concurrency,
            fleet_options(force, rotate_secrets),
            Path(journal) if journal else None,
        )
        saved = Path(plan_file) if plan_file else None
        fleet_apply(chosen, auto_approve, saved, not no_backup, parallel_servers, fail_fast)
        return
    outcome = run_apply(
        Path(plan_file) if plan_file else manifest_set(paths, selection.project),
        target_of(connection, requests),
        CliUi(auto_approve=auto_approve),
        workflow_options(requests, force, rotate_secrets),
        journal=Path(journal) if journal else None,
        backup=not no_backup,
    )
    if outcome is not None:
        report_apply(outcome)
