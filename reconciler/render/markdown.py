"""A plan as a pull-request comment: risky lines first, deletions next, details folded by kind.

Identities, paths and values come from users and servers, so every piece of them is
escaped: in prose, markdown and HTML punctuation are neutralised and line breaks shown as
`\\n`; in code blocks, the fence is longer than any run of backticks inside, so nothing
an identity holds can close the block, the `<details>` section or the comment's layout.
"""

from __future__ import annotations

import re
from itertools import groupby

from reconciler.plan import Action, Change, Plan
from reconciler.render.common import SYMBOLS, after, before, summary_line, title

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_ORDER = {Action.DELETE: 0, Action.CREATE: 1, Action.UPDATE: 2}


def escape(text: str) -> str:
    """Text safe to put in a markdown paragraph, list item or table cell (one line)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text).replace("\n", "\\n")


def _code(text: str) -> str:
    """One line of a code block: line breaks inside a value are shown, not taken."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _fence(lines: list[str]) -> str:
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def _labels(change: Change) -> str:
    return f"  [{', '.join(change.labels)}]" if change.labels else ""


def _change_lines(change: Change) -> list[str]:
    lines = [f"{SYMBOLS[change.action]} {title(change)}{_labels(change)}"]
    for fc in change.fields:
        if change.action is Action.CREATE:
            lines.append(f"    + {fc.path} = {after(fc)}")
        elif fc.after is None and not fc.sensitive:
            lines.append(f"    - {fc.path} = {before(fc)}")
        else:
            lines.append(f"    ~ {fc.path}: {before(fc)} -> {after(fc)}")
    return [_code(line) for line in lines]


def render_markdown(plan: Plan) -> str:
    summary = plan.summary()
    out = ["## shcfg plan", "", f"**{summary_line(summary)}**", ""]
    if plan.server:
        out += [f"Server: {escape(plan.server)}", ""]
    out += ["| create | update | delete |", "| ---: | ---: | ---: |"]
    out += [f"| {summary['create']} | {summary['update']} | {summary['delete']} |", ""]
    risky = [c for c in plan.changes if c.labels]
    if risky:
        out += ["### :warning: Security impact", ""]
        out += [f"- **{', '.join(c.labels)}**: {c.action.value} {escape(title(c))}" for c in risky]
        out.append("")
    deletions = [c for c in plan.changes if c.action is Action.DELETE]
    if deletions:
        out += ["### :x: Deletions", ""]
        out += [f"- {escape(title(c))}" for c in deletions]
        out.append("")
    ordered = sorted(plan.changes, key=lambda c: (c.kind, _ORDER[c.action], c.identity))
    for kind, changes in groupby(ordered, key=lambda c: c.kind):
        lines = [line for change in changes for line in _change_lines(change)]
        count = sum(1 for c in plan.changes if c.kind == kind)
        fence = _fence(lines)
        out += [f"<details><summary>{escape(kind)} ({count})</summary>", "", f"{fence}diff"]
        out += [*lines, fence, "", "</details>", ""]
    if plan.warnings:
        out += ["### Warnings", ""] + [f"- {escape(w)}" for w in plan.warnings] + [""]
    if plan.undeclared:
        out += ["### Not declared (left alone)", ""]
        out += [
            f"- {escape(u.kind)} {escape(u.identity)}: {escape(u.reason)}" for u in plan.undeclared
        ]
        out.append("")
    if not plan.changes:
        out += ["No changes. The server matches the manifests.", ""]
    return "\n".join(out)
