"""The machine-readable plan (docs/plan-format.md, schemas/plan.schema.json)."""

from __future__ import annotations

import json
import re
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


# json.dumps escapes C0 controls; these it passes through raw with ensure_ascii=False:
# C1 controls (0x9b is a one-byte CSI), lone surrogates (unencodable) and bidi overrides.
_UNSAFE = re.compile("[\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def render_json(plan: Plan) -> str:
    """UTF-8 JSON; characters a terminal would act on (or cannot encode) as \\uXXXX."""
    text = json.dumps(plan_data(plan), indent=2, sort_keys=True, ensure_ascii=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text) + "\n"
