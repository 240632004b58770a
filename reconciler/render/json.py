"""The machine-readable plan (docs/plan-format.md, schemas/plan.schema.json)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan import SENSITIVE, Plan


def plan_data(plan: Plan) -> dict[str, Any]:
    changes = []
    for change in plan.changes:
        item: dict[str, Any] = {
            "action": change.action.value,
            "kind": change.kind,
            "identity": change.identity,
            "labels": [label.value for label in change.labels],
            "fields": [
                {
                    "path": fc.path,
                    "before": SENSITIVE if fc.sensitive else fc.before,
                    "after": SENSITIVE if fc.sensitive else fc.after,
                    "sensitive": fc.sensitive,
                }
                for fc in change.fields
            ],
        }
        if change.rename_from:
            item["renamedFrom"] = change.rename_from
        changes.append(item)
    return {
        "format_version": plan.format_version,
        "server": plan.server,
        "summary": plan.summary(),
        "changes": changes,
        "warnings": list(plan.warnings),
        "undeclared": [u.model_dump() for u in plan.undeclared],
    }


def render_json(plan: Plan) -> str:
    return json.dumps(plan_data(plan), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
