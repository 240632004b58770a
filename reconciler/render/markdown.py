"""A plan as a pull-request comment: risky lines first, details folded by kind."""

from __future__ import annotations

from itertools import groupby

from reconciler.plan import Action, Change, Plan
from reconciler.render.common import SYMBOLS, after, before, summary_line, title


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _change_lines(change: Change) -> list[str]:
    lines = [f"{SYMBOLS[change.action]} {title(change)}"]
    for fc in change.fields:
        if change.action is Action.CREATE:
            lines.append(f"    + {fc.path} = {after(fc)}")
        else:
            lines.append(f"    ~ {fc.path}: {before(fc)} -> {after(fc)}")
    return lines


def render_markdown(plan: Plan) -> str:
    summary = plan.summary()
    out = ["## shcfg plan", "", f"**{summary_line(summary)}**", ""]
    out += ["| create | update | delete |", "| ---: | ---: | ---: |"]
    out += [f"| {summary['create']} | {summary['update']} | {summary['delete']} |", ""]
    risky = [c for c in plan.changes if c.labels]
    if risky:
        out += ["### Security impact", ""]
        out += [
            f"- :warning: `{', '.join(c.labels)}`: {c.action.value} {_cell(title(c))}"
            for c in risky
        ]
        out.append("")
    deletions = [c for c in plan.changes if c.action is Action.DELETE]
    if deletions:
        out += ["### Deletions", ""]
        out += [f"- :x: {_cell(title(c))}" for c in deletions]
        out.append("")
    for kind, changes in groupby(sorted(plan.changes, key=lambda c: c.kind), key=lambda c: c.kind):
        items = list(changes)
        out += [f"<details><summary>{kind} ({len(items)})</summary>", "", "```diff"]
        for change in items:
            out += _change_lines(change)
        out += ["```", "", "</details>", ""]
    if plan.warnings:
        out += ["### Warnings", ""] + [f"- {_cell(w)}" for w in plan.warnings] + [""]
    if plan.undeclared:
        out += ["### Not declared (left alone)", ""]
        out += [f"- {u.kind} `{u.identity}`: {u.reason}" for u in plan.undeclared] + [""]
    return "\n".join(out)
