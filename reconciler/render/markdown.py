"""A plan as a pull-request comment: risky lines first, deletions next, details folded by kind.

Identities, paths and values come from users and servers, so every piece of them is
escaped: in prose, markdown and HTML punctuation are neutralised and line breaks shown as
`\\n`; in code blocks, the fence is longer than any run of backticks inside, so nothing
an identity holds can close the block, the `<details>` section or the comment's layout.

GitHub refuses comments over 65,536 characters, so the comment is kept under LIMIT:
changes come first, the undeclared objects last (folded), and what does not fit is
counted in a closing line that points to the full plan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import groupby

from reconciler.plan import Action, Change, Plan
from reconciler.render.common import SYMBOLS, after, before, title
from reconciler.render.text import headline

LIMIT = 60_000
LIST_CAP = 50
FULL_PLAN = "see the full plan (the `plan.json` artifact, or `shcfg plan --format json`)"
# Room kept for what is always written after the budget runs out: the fences, `</details>`
# and "… N more" lines that close a cut section, and the closing truncation line.
_RESERVE = 1_000
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")
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


def _cost(lines: Iterable[str]) -> int:
    return sum(len(line) + 1 for line in lines)


class _Page:
    """The comment's lines and what is left of its character budget.

    Sections check `fits` before adding, keeping room for the lines that close them; the
    few short lines written after the budget ran out (`… N more`, the truncation line)
    use the reserve, so a cut comment is still well-formed markdown.
    """

    def __init__(self, limit: int) -> None:
        self.lines: list[str] = []
        self.left = limit - _RESERVE

    def fits(self, lines: list[str], closing: int = 0) -> bool:
        return _cost(lines) + closing <= self.left

    def add(self, lines: list[str]) -> None:
        self.lines += lines
        self.left -= _cost(lines)

    def fill(self, blocks: list[list[str]], closing: int) -> int:
        """Adds blocks in order while they fit, keeping `closing` characters free."""
        shown = 0
        for block in blocks:
            if not self.fits(block, closing):
                break
            self.add(block)
            shown += 1
        return shown


def _more(count: int) -> str:
    return f"… {count:,} more"


def _bullets(page: _Page, heading: list[str], items: list[str], cap: int) -> int:
    """A bullet list of at most `cap` items that fit; returns how many were left out."""
    if not items or not page.fits([*heading, items[0], ""]):
        return len(items)
    page.add(heading)
    left_out = len(items) - page.fill([[item] for item in items[:cap]], _cost([""]))
    page.add([f"- {_more(left_out)}", ""] if left_out else [""])
    return left_out


def _kind_details(page: _Page, kind: str, changes: list[Change]) -> int:
    """One folded `diff` block of a kind's changes; returns how many changes were left out."""
    blocks = [_change_lines(change) for change in changes]
    fence = _fence([line for block in blocks for line in block])
    opening = [f"<details><summary>{escape(kind)} ({len(changes)})</summary>", "", f"{fence}diff"]
    closing = [fence, "", "</details>", ""]
    if not page.fits([*opening, *blocks[0]], _cost(closing)):
        return len(changes)
    page.add(opening)
    left_out = len(changes) - page.fill(blocks, _cost(closing))
    page.add([_code(f"{_more(left_out)} {kind} changes")] if left_out else [])
    page.add(closing)
    return left_out


def _undeclared(page: _Page, plan: Plan) -> int:
    """The undeclared objects, folded (they can be thousands); returns how many left out."""
    items = [
        f"- {escape(u.kind)} {escape(u.identity)}: {escape(u.reason)}" for u in plan.undeclared
    ]
    opening = [f"<details><summary>Not declared, left alone ({len(items)})</summary>", ""]
    closing = ["", "</details>", ""]
    if not items or not page.fits([*opening, items[0]], _cost(closing)):
        return len(items)
    page.add(opening)
    left_out = len(items) - page.fill([[item] for item in items], _cost(closing))
    page.add([f"- {_more(left_out)}"] if left_out else [])
    page.add(closing)
    return left_out


def _truncation_line(changes: int, warnings: int, undeclared: int) -> str:
    parts = [
        f"{count:,} more {noun if count == 1 else noun + 's'}"
        for count, noun in (
            (changes, "change"),
            (warnings, "warning"),
            (undeclared, "undeclared object"),
        )
        if count
    ]
    listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
    return f"**… {listed} not shown here:** {FULL_PLAN}."


def render_markdown(plan: Plan, limit: int = LIMIT) -> str:
    """The comment, at most `limit` characters (GitHub's own limit is 65,536)."""
    summary = plan.summary()
    page = _Page(limit)
    page.add(["## shcfg plan", "", f"**{headline(plan)}**", ""])
    if plan.server:
        page.add([f"Server: {escape(plan.server)}", ""])
    page.add(["| create | update | delete |", "| ---: | ---: | ---: |"])
    page.add([f"| {summary['create']} | {summary['update']} | {summary['delete']} |", ""])
    risky = [
        f"- **{', '.join(c.labels)}**: {c.action.value} {escape(title(c))}"
        for c in plan.changes
        if c.labels
    ]
    _bullets(page, ["### :warning: Security impact", ""], risky, LIST_CAP)
    deletions = [f"- {escape(title(c))}" for c in plan.changes if c.action is Action.DELETE]
    _bullets(page, ["### :x: Deletions", ""], deletions, LIST_CAP)
    warnings = [f"- {escape(w)}" for w in plan.warnings]
    warnings_left_out = _bullets(page, ["### Warnings", ""], warnings, LIST_CAP)
    changes_left_out = 0
    ordered = sorted(plan.changes, key=lambda c: (c.kind, _ORDER[c.action], c.identity))
    for kind, changes in groupby(ordered, key=lambda c: c.kind):
        changes_left_out += _kind_details(page, kind, list(changes))
    undeclared_left_out = _undeclared(page, plan)
    if changes_left_out or warnings_left_out or undeclared_left_out:
        page.add([_truncation_line(changes_left_out, warnings_left_out, undeclared_left_out), ""])
    return "\n".join(page.lines)
