"""Small formatting helpers shared by the renderers."""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan import SENSITIVE, Action, Change, FieldChange

VERBS = {Action.CREATE: "created", Action.UPDATE: "updated in place", Action.DELETE: "deleted"}
SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "-"}


def show(value: Any) -> str:
    """A value as a reader would type it in a manifest (JSON scalars and lists)."""
    if value is None:
        return "(none)"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def before(fc: FieldChange) -> str:
    return SENSITIVE if fc.sensitive else show(fc.before)


def after(fc: FieldChange) -> str:
    return SENSITIVE if fc.sensitive else show(fc.after)


def title(change: Change) -> str:
    text = f'{change.kind} "{change.identity}"'
    if change.rename_from:
        text += f' (renamed from "{change.rename_from}")'
    return text


def summary_line(summary: dict[str, int]) -> str:
    return (
        f"Plan: {summary['create']} to create, {summary['update']} to update, "
        f"{summary['delete']} to delete."
    )
