"""The attribute tables of docs/kinds/*.md, generated from the kinds' declarations.

`make schemas` rewrites each table between its markers; a test fails when one is stale.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from reconciler.kinds import REGISTRY
from reconciler.kinds.attrs import attrs_of

ERRATUM = re.compile(r"\berratum (\d+)")
ERRATA = "../api-notes.md#errata-of-the-reference"
BEGIN = "<!-- attributes: generated from the kind's declaration by `make schemas` -->"
END = "<!-- end of generated attributes -->"


def _type(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    options = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
    prop = options[0] if options else prop
    if "$ref" in prop:
        sub = defs[prop["$ref"].rsplit("/", 1)[1]]
        return "object {" + ", ".join(sub.get("properties", {})) + "}"
    kind = prop.get("type")
    if kind == "boolean":
        return "bool"
    if kind == "integer":
        return "int ≥ 0" if prop.get("minimum") == 0 else "int"
    if kind == "string":
        return "secret string" if prop.get("format") == "password" else "string"
    if kind == "array":
        return f"list of {_type(prop.get('items', {}), defs)}"
    if kind == "object":
        values = prop.get("additionalProperties", {})
        names = [_type(v, defs) for v in values.get("anyOf", [values])]
        return "map: name → " + " or ".join(names)
    return str(kind)


def attribute_table(model: type[BaseModel]) -> str:
    """One row per attribute: name, type, how the plan treats it, notes."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    rows = [
        "| attribute | type | handling | security | notes |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, attr in attrs_of(model).items():
        if attr is None:
            raise ValueError(f"{model.__name__}.{name} has no Attr declaration")
        notes = attr.note + (f" (API: `{attr.api}`)" if attr.api else "")
        notes = ERRATUM.sub(rf"[erratum \1]({ERRATA})", notes)  # the list readers can open
        security = "yes" if attr.security else ""
        rows.append(
            f"| `{name}` | {_type(schema['properties'][name], defs)} | {attr.role.value} "
            f"| {security} | {notes} |"
        )
    return "\n".join(rows) + "\n"


def pages() -> dict[str, type[BaseModel]]:
    """docs/kinds page name -> the section model its table describes."""
    return {f"{kind.section.lower()}.md": kind.model for kind in REGISTRY.values()}


def render_page(text: str, model: type[BaseModel]) -> str:
    """The page with its generated table replaced (or added at the end)."""
    block = f"{BEGIN}\n\n{attribute_table(model)}\n{END}"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip("\n") + "\n\n" + block + "\n"


def write_pages(directory: Path) -> None:
    """Rewrite the generated table of every kind page in `directory`."""
    for name, model in pages().items():
        path = directory / name
        path.write_text(render_page(path.read_text(encoding="utf-8"), model), encoding="utf-8")
