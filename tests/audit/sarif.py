"""Validation of SARIF logs against the OASIS SARIF 2.1.0 JSON schema (draft-04).

`data/sarif-schema-2.1.0.json` carries every validation keyword of the official schema
(data/README.md says where it comes from and what was left out: descriptions, defaults).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
)


def validate_sarif(log: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``log`` is valid SARIF 2.1.0."""
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft4Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    validator.validate(log)
