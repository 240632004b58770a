"""JSON Schema of `plan --format json` (written by ``python -m reconciler.schemas``).

Written from the same enums the plan uses, so labels, actions and kinds cannot drift from
what the renderer emits; `schemas/plan.schema.json` is this output, checked fresh by a test.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.kinds import REGISTRY
from reconciler.plan import FORMAT_VERSION, SENSITIVE, Action, Label

SCHEMA_ID = "https://github.com/shcfg/shcfg/schemas/plan.schema.json"


def _closed(required: list[str], properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    """An object that allows only the listed properties: every object of a plan is."""
    return {
        "type": "object",
        "required": required,
        "additionalProperties": False,
        "properties": properties,
        **more,
    }


def plan_json_schema() -> dict[str, Any]:
    """The schema of a JSON plan document (docs/plan-format.md): one server's, or a fleet's
    ``{"servers": {NAME: plan}}``."""
    count = {"type": "integer", "minimum": 0}
    field = _closed(
        ["path", "before", "after", "sensitive"],
        {
            "path": {"type": "string", "description": "Attribute, dotted for nested ones."},
            "before": {"description": "Live value; null when absent (or on create)."},
            "after": {"description": "Declared value; null when removed."},
            "sensitive": {"type": "boolean"},
        },
        description=f"One attribute. Secrets show as {SENSITIVE!r} on both sides.",
    )
    change = _closed(
        ["action", "kind", "identity", "labels", "fields"],
        {
            "action": {"enum": [a.value for a in Action]},
            "kind": {"enum": sorted(REGISTRY)},
            "identity": {"type": "string"},
            "renamedFrom": {"type": "string", "description": "Old identity of a rename."},
            "labels": {
                "type": "array",
                "uniqueItems": True,
                "items": {"enum": [label.value for label in Label]},
            },
            "fields": {"type": "array", "items": {"$ref": "#/$defs/field"}},
        },
    )
    undeclared = _closed(
        ["kind", "identity", "reason"],
        {"kind": {"type": "string"}, "identity": {"type": "string"}, "reason": {"type": "string"}},
    )
    plan = _closed(
        ["format_version", "server", "summary", "changes", "warnings"],
        {
            "format_version": {"const": FORMAT_VERSION},
            "server": {"type": "string", "description": "Server URL, never with the token."},
            "summary": _closed([a.value for a in Action], {a.value: count for a in Action}),
            "changes": {"type": "array", "items": {"$ref": "#/$defs/change"}},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "undeclared": {"type": "array", "items": {"$ref": "#/$defs/undeclared"}},
        },
    )
    no_plan = _closed(["error"], {"error": {"type": "string"}})
    fleet = _closed(
        ["servers"],
        {
            "servers": {
                "type": "object",
                "additionalProperties": {"oneOf": [{"$ref": "#/$defs/plan"}, no_plan]},
            }
        },
        description="Servers of shcfg.yaml: each one's plan, or why it has none.",
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "shcfg plan",
        "description": "One server's plan, or (with servers: in shcfg.yaml) one per server.",
        "oneOf": [{"$ref": "#/$defs/plan"}, {"$ref": "#/$defs/fleet"}],
        "$defs": {
            "change": change,
            "field": field,
            "undeclared": undeclared,
            "plan": plan,
            "fleet": fleet,
        },
    }


def render_schema() -> str:
    """The schema as committed: sorted keys, indent 2, trailing newline."""
    return json.dumps(plan_json_schema(), sort_keys=True, indent=2) + "\n"
