"""The manifest JSON Schema, generated from the pydantic models (for editors and CI)."""

from __future__ import annotations

import json
from typing import Any

from reconciler.manifest.models import Manifest

SCHEMA_ID = "https://github.com/shcfg/shcfg/schemas/shcfg-manifest.schema.json"


def manifest_json_schema() -> dict[str, Any]:
    """JSON Schema of one manifest document."""
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "shcfg manifest"
    return schema


def render_schema() -> str:
    """The schema as committed: sorted keys, indent 2, trailing newline."""
    return json.dumps(manifest_json_schema(), sort_keys=True, indent=2) + "\n"
