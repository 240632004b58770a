"""Small formatting helpers shared by the renderers, and the one terminal sanitiser."""

from __future__ import annotations

import json
import re
from typing import Any

from reconciler.plan import SENSITIVE, Action, Change, FieldChange, Plan

VERBS = {Action.CREATE: "created", Action.UPDATE: "updated in place", Action.DELETE: "deleted"}
SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}

# C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), lone
# surrogates (which no encoder can write), and the bidi overrides that reorder a line.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile("[\n\r]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep_newlines: bool = True) -> str:
    """`text` with every control character shown as an escape (`\\x1b`), never executed.

    A username or a server's reason holding ESC sequences could otherwise retitle the
    terminal or erase what a reviewer reads. Every human output goes through this.
    """
    text = _CONTROL.sub(_escape, text)
    if not keep_newlines:
        text = _LINE_BREAKS.sub(lambda m: "\\n" if m.group(0) == "\n" else "\\r", text)
    return text


def for_humans(plan: Plan) -> Plan:
    """The plan with identities, reasons and warnings made visible, one line each.

    For the text and markdown renderers, before any of it reaches a rich Text (which
    silently drops some controls) or a pull-request comment. Values keep their own
    escaping (`show`); JSON renders the plan as it is (json.dumps escapes it).
    """

    def line(text: str) -> str:
        return visible(text, keep_newlines=False)

    changes = [
        c.model_copy(
            update={
                "identity": line(c.identity),
                "rename_from": None if c.rename_from is None else line(c.rename_from),
            }
        )
        for c in plan.changes
    ]
    undeclared = [
        u.model_copy(update={"identity": line(u.identity), "reason": line(u.reason)})
        for u in plan.undeclared
    ]
    warnings = [line(w) for w in plan.warnings]
    return plan.model_copy(
        update={"changes": changes, "undeclared": undeclared, "warnings": warnings}
    )


def show(value: Any) -> str:
    """A value as a reader would type it in a manifest (JSON scalars and lists)."""
    if value is None:
        return "(none)"
    return visible(json.dumps(value, ensure_ascii=False, sort_keys=True))


def before(fc: FieldChange) -> str:
    return SENSITIVE if fc.sensitive else show(fc.before)


def after(fc: FieldChange) -> str:
    return SENSITIVE if fc.sensitive else show(fc.after)


def title(change: Change) -> str:
    """`kind "identity"`, on one line whatever the identity holds."""
    text = f'{change.kind} "{visible(change.identity, keep_newlines=False)}"'
    if change.rename_from:
        text += f' (renamed from "{visible(change.rename_from, keep_newlines=False)}")'
    return text


def summary_line(summary: dict[str, int]) -> str:
    return (
        f"Plan: {summary['create']} to create, {summary['update']} to update, "
        f"{summary['delete']} to delete."
    )
