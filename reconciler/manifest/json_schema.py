"""The manifest JSON Schema, generated from the pydantic models (for editors and CI).

Each attribute's description comes from its kind's declaration (`Attr`), so an editor
shows what the plan does with it.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.kinds import REGISTRY
from reconciler.kinds.attrs import attrs_of
from reconciler.manifest.models import Manifest

SCHEMA_ID = "https://github.com/shcfg/shcfg/schemas/shcfg-manifest.schema.json"


def manifest_json_schema() -> dict[str, Any]:
    """JSON Schema of one manifest document."""
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "shcfg manifest"
    for kind in REGISTRY.values():
        properties = schema["$defs"][kind.model.__name__]["properties"]
        for name, attr in attrs_of(kind.model).items():
            if attr is not None:
                note = f": {attr.note}" if attr.note else ""
                properties[name]["description"] = f"{attr.role.value}{note}"
    return schema


def render_schema() -> str:
    """The schema as committed: sorted keys, indent 2, trailing newline."""
    return json.dumps(manifest_json_schema(), sort_keys=True, indent=2) + "\n"
