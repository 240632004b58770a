"""Write the committed JSON Schemas and the kinds' attribute tables:
``python -m reconciler.schemas [SCHEMA_DIR [KIND_DOCS_DIR]]`` (`make schemas`).

Tests compare `schemas/*.json` and the tables in `docs/kinds/*.md` with these renderings,
so a stale file fails `make test`. Both derive from the kinds' declarations.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from reconciler.audit.findings import render_schema as audit_schema
from reconciler.kinds.tables import write_pages
from reconciler.manifest.json_schema import render_schema as manifest_schema
from reconciler.render.schema import render_schema as plan_schema

SCHEMAS: dict[str, Callable[[], str]] = {
    "shcfg-manifest.schema.json": manifest_schema,
    "plan.schema.json": plan_schema,
    "audit.schema.json": audit_schema,
}


def main(argv: list[str] | None = None) -> int:
    """Write every schema into the directory given (default `schemas`), and the attribute
    tables into the kind pages (default `docs/kinds`, skipped when it does not exist)."""
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "schemas")
    out.mkdir(parents=True, exist_ok=True)
    for name, render in SCHEMAS.items():
        (out / name).write_text(render(), encoding="utf-8")
    docs = Path(args[1] if len(args) > 1 else "docs/kinds")
    if docs.is_dir():
        write_pages(docs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
