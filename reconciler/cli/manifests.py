"""Commands over manifests: validate, plan, apply."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

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


@click.command()
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


@click.command()
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

    connection = merged_connection(ctx, conn)
    result = run_plan(
        paths,
        target_of(connection, concurrency),
        CliUi(fmt),
        workflow_options(concurrency, force, rotate_secrets),
        Path(out) if out else None,
    )
    if out:
        OUTPUT.print(f"Saved the plan to {out}. Apply it with: shcfg apply --plan {out}", err=True)
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


@click.command()
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
    connection = merged_connection(ctx, conn)
    outcome = run_apply(
        Path(plan_file) if plan_file else paths,
        target_of(connection, concurrency),
        CliUi(auto_approve=auto_approve),
        workflow_options(concurrency, force, rotate_secrets),
        journal=Path(journal) if journal else None,
        backup=not no_backup,
    )
    if outcome is not None:
        report_apply(outcome)
