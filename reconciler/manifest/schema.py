"""The manifest JSON Schema, for editors and CI; ``python -m reconciler.manifest.schema [FILE]``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from reconciler.manifest.models import Manifest

SCHEMA_ID = "https://github.com/shcfg/shcfg/schemas/shcfg-manifest.schema.json"


def manifest_json_schema() -> dict[str, Any]:
    """JSON Schema of one manifest document, generated from the pydantic models."""
    schema = Manifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "shcfg manifest"
    return schema


def render_schema() -> str:
    """The schema as committed: sorted keys, indent 2, trailing newline."""
    return json.dumps(manifest_json_schema(), sort_keys=True, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the schema to the file named by the first argument, or to stdout."""
    args = sys.argv[1:] if argv is None else argv
    text = render_schema()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
