"""Terraform-like plan text; styles only take effect on a terminal."""

from __future__ import annotations

from rich.text import Text

from reconciler.plan import Action, Plan
from reconciler.render.common import SYMBOLS, VERBS, after, before, summary_line, title

STYLES = {Action.CREATE: "green", Action.UPDATE: "yellow", Action.DELETE: "red"}


def _warnings(plan: Plan) -> str:
    count = len(plan.warnings)
    return f"{count} warning" if count == 1 else f"{count} warnings"


def totals(plan: Plan) -> str:
    """The closing count line; warnings are counted too, so a reader who skims sees them."""
    line = summary_line(plan.summary())
    return f"{line[:-1]}; {_warnings(plan)}." if plan.warnings else line


def headline(plan: Plan) -> str:
    """The first thing a reviewer reads: the counts, or that nothing changes (and why not)."""
    if plan.changes:
        return totals(plan)
    if plan.warnings:
        return f"No changes, {_warnings(plan)}."
    return "No changes. The server matches the manifests."


def render_text(plan: Plan) -> Text:
    """The plan for a terminal: headline, changes, warnings, undeclared objects, totals."""
    out = Text()
    if not plan.changes:
        out.append(headline(plan) + "\n", style="bold")
    else:
        out.append("shcfg will perform the following actions:\n\n")
    for change in plan.changes:
        style = STYLES[change.action]
        out.append(f"  # {title(change)} will be {VERBS[change.action]}")
        if change.labels:
            out.append("  [" + ", ".join(change.labels) + "]", style="bold magenta")
        out.append("\n")
        out.append(f"  {SYMBOLS[change.action]} {title(change)}\n", style=style)
        for fc in change.fields:
            if change.action is Action.CREATE:
                out.append(f"      + {fc.path} = {after(fc)}\n", style="green")
            elif fc.after is None and not fc.sensitive:
                out.append(f"      - {fc.path} = {before(fc)}\n", style="red")
            else:
                out.append(f"      ~ {fc.path}: {before(fc)} -> {after(fc)}\n", style="yellow")
        out.append("\n")
    for warning in plan.warnings:
        out.append(f"Warning: {warning}\n", style="bold yellow")
    if plan.undeclared:
        out.append("\nLive objects not declared in the manifests (left alone):\n")
        for item in plan.undeclared:
            out.append(f'  ? {item.kind} "{item.identity}" ({item.reason})\n', style="cyan")
    if plan.changes or plan.warnings or plan.undeclared:
        out.append("\n")
    out.append(totals(plan) + "\n", style="bold")
    return out
