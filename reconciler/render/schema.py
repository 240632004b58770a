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


def plan_json_schema() -> dict[str, Any]:
    """The schema of a JSON plan document (docs/plan-format.md): one server's, or a fleet's
    ``{"servers": {NAME: plan}}``."""
    count = {"type": "integer", "minimum": 0}
    field = {
        "type": "object",
        "description": f"One attribute. Secrets show as {SENSITIVE!r} on both sides.",
        "required": ["path", "before", "after", "sensitive"],
        "additionalProperties": False,
        "properties": {
            "path": {"type": "string", "description": "Attribute, dotted for nested ones."},
            "before": {"description": "Live value; null when absent (or on create)."},
            "after": {"description": "Declared value; null when removed."},
            "sensitive": {"type": "boolean"},
        },
    }
    change = {
        "type": "object",
        "required": ["action", "kind", "identity", "labels", "fields"],
        "additionalProperties": False,
        "properties": {
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
    }
    undeclared = {
        "type": "object",
        "required": ["kind", "identity", "reason"],
        "additionalProperties": False,
        "properties": {
            "kind": {"type": "string"},
            "identity": {"type": "string"},
            "reason": {"type": "string"},
        },
    }
    plan = {
        "type": "object",
        "required": ["format_version", "server", "summary", "changes", "warnings"],
        "additionalProperties": False,
        "properties": {
            "format_version": {"const": FORMAT_VERSION},
            "server": {"type": "string", "description": "Server URL, never with the token."},
            "summary": {
                "type": "object",
                "required": [a.value for a in Action],
                "additionalProperties": False,
                "properties": {a.value: count for a in Action},
            },
            "changes": {"type": "array", "items": {"$ref": "#/$defs/change"}},
            "warnings": {"type": "array", "items": {"type": "string"}},
            "undeclared": {"type": "array", "items": {"$ref": "#/$defs/undeclared"}},
        },
    }
    fleet = {
        "type": "object",
        "description": "Servers of shcfg.yaml: each one's plan, or why it has none.",
        "required": ["servers"],
        "additionalProperties": False,
        "properties": {
            "servers": {
                "type": "object",
                "additionalProperties": {
                    "oneOf": [
                        {"$ref": "#/$defs/plan"},
                        {
                            "type": "object",
                            "required": ["error"],
                            "additionalProperties": False,
                            "properties": {"error": {"type": "string"}},
                        },
                    ]
                },
            }
        },
    }
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
