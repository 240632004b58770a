"""Write the committed JSON Schemas: ``python -m reconciler.schemas [DIR]`` (`make schemas`).

Tests compare `schemas/*.json` with these renderings, so a stale file fails `make test`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from reconciler.audit.findings import render_schema as audit_schema
from reconciler.manifest.json_schema import render_schema as manifest_schema
from reconciler.render.schema import render_schema as plan_schema

SCHEMAS: dict[str, Callable[[], str]] = {
    "shcfg-manifest.schema.json": manifest_schema,
    "plan.schema.json": plan_schema,
    "audit.schema.json": audit_schema,
}


def main(argv: list[str] | None = None) -> int:
    """Write every schema into the directory given (default `schemas`)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "schemas")
    out.mkdir(parents=True, exist_ok=True)
    for name, render in SCHEMAS.items():
        (out / name).write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
