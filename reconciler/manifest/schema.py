"""Write the manifest JSON Schema: ``python -m reconciler.manifest.schema [FILE]``."""

from __future__ import annotations

import sys
from pathlib import Path

from reconciler.manifest.json_schema import render_schema


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
