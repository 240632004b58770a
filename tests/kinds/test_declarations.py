"""Each kind's declaration is complete, and everything derived from it agrees with it.

A field added to a kind's manifest model without an `Attr` fails here; one declared as
compared must show up in a plan; the manifest root, `prune`, `ignore`, the apply order,
the docs tables and the JSON Schema follow the kinds.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel

from reconciler.kinds import REGISTRY, list_sections
from reconciler.kinds.attrs import COMPARED, EXCLUDED, Role, attrs_of, fields_with
from reconciler.kinds.base import Kind, compared
from reconciler.kinds.machines import LiveMachine
from reconciler.kinds.tables import pages, render_page
from reconciler.manifest import models
from reconciler.manifest.models import Ignore, Manifest, Prune
from tests.kinds.conftest import Load, empty_live, plan_of

DOCS = Path(__file__).resolve().parents[2] / "docs" / "kinds"
KINDS = sorted(REGISTRY)


def _sample(prop: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A valid value of a JSON Schema property, different from every empty live value."""
    options = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
    prop = options[0]
    if "$ref" in prop:
        sub = defs[prop["$ref"].rsplit("/", 1)[1]]
        return {k: _sample(v, defs) for k, v in sub["properties"].items()}
    kind = prop.get("type")
    if kind == "object":
        return {"k": _sample(prop["additionalProperties"], defs)}
    if kind == "array":
        return [_sample(prop["items"], defs)]
    return {"boolean": True, "integer": 7, "string": "sample"}[kind]


def _declared_everything(kind: Kind) -> dict[str, Any]:
    """An object of the kind's model with every attribute the kind compares declared."""
    schema = kind.model.model_json_schema()
    defs = schema.get("$defs", {})
    data = {name: _sample(schema["properties"][name], defs) for name in compared(kind, *COMPARED)}
    for name in fields_with(kind.model, Role.IDENTITY):
        data[name] = ["id-1"] if name == "path" else "id-1"
    return data


#: Live state in which the declared object exists (machines, machine groups, server
#: settings) or does not (accounts, which are then created).
LIVE: dict[str, dict[str, Any]] = {
    "groups": {},
    "technicians": {},
    "server": {"server": "old.example.com"},
    "techRestrictions": {"techRestrictions": []},
    "machines": {"machines": {"id-1": LiveMachine(None, "", "", {})}},
    "machineGroups": {"machineGroups": {"id-1": {}}},
}


@pytest.mark.parametrize("name", KINDS)
def test_every_attribute_carries_a_declaration(name: str) -> None:
    missing = [n for n, attr in attrs_of(REGISTRY[name].model).items() if attr is None]
    assert missing == [], f"{name}: declare each of {missing} with an Attr"


def test_every_attribute_is_compared_by_a_kind_or_explicitly_excluded() -> None:
    owners: dict[type[BaseModel], set[str]] = {}
    for kind in REGISTRY.values():
        owners.setdefault(kind.model, set()).update(compared(kind, *COMPARED))
    for model, names in owners.items():
        for field, attr in attrs_of(model).items():
            assert field in names or (attr is not None and attr.role in EXCLUDED), (
                f"{model.__name__}.{field} is neither compared by a kind nor excluded"
            )


@pytest.mark.parametrize("name", KINDS)
def test_every_compared_attribute_shows_up_in_a_plan(name: str, load: Load) -> None:
    kind = REGISTRY[name]
    declared = _declared_everything(kind)
    section: Any = declared if kind.section == "server" else [declared]
    manifest = load({kind.section: section})
    result = plan_of(name, manifest, empty_live(**LIVE[name]))
    touched = {f.path.split(".")[0] for c in result.changes for f in c.fields}
    if any(not c.fields for c in result.changes):  # an object per entry (restrictions)
        touched |= set(kind.attributes or ())
    assert set(compared(kind, *COMPARED)) <= touched, result.changes


def _typed_view() -> dict[str, str]:
    """The fields of the ``TYPE_CHECKING`` Manifest class (what mypy sees), as written."""
    tree = ast.parse(Path(models.__file__).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Manifest":
            return {
                stmt.target.id: ast.unparse(stmt.annotation)
                for stmt in node.body
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
            }
    raise AssertionError("no typed view of Manifest")


def test_the_typed_view_of_the_root_matches_the_root_built_from_the_kinds() -> None:
    """mypy reads the sections through a stub; each one it names is a real field of the
    same type (a new kind needs no line in it: its section is typed ``Any`` there)."""
    view = _typed_view()
    assert set(view) <= set(Manifest.model_fields)
    for name, written in view.items():
        annotation = Manifest.model_fields[name].annotation
        if get_origin(annotation) is list:
            assert written == f"list[{get_args(annotation)[0].__name__}]", name
        else:
            assert written == annotation.__name__, name


def test_a_new_kind_gets_its_section_from_its_registration_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One module plus its REGISTRY entry: the root is built from REGISTRY."""
    extra = SimpleNamespace(name="widgets", section="widgets", model=REGISTRY["groups"].model)
    monkeypatch.setitem(REGISTRY, "widgets", extra)
    sections = models._sections()
    assert "widgets" in sections
    assert "Group" in str(sections["widgets"][0])


def test_the_manifest_root_has_exactly_the_kinds_sections() -> None:
    sections = {kind.section for kind in REGISTRY.values()}
    assert set(Manifest.model_fields) == sections | {
        "version",
        "prune",
        "ignore",
        "policy",
        "policyExceptions",
    }
    for kind in REGISTRY.values():
        annotation = str(Manifest.model_fields[kind.section].annotation)
        assert kind.model.__name__ in annotation
    assert set(Prune.model_fields) == {k.prune for k in REGISTRY.values() if k.prune}
    assert set(Ignore.model_fields) == {k.name for k in REGISTRY.values() if k.ignorable}
    assert list_sections() == [
        ("groups", "name", "group"),
        ("technicians", "username", "technician"),
        ("machines", "machineID", "machine"),
        ("machineGroups", "path", "machine group"),
    ]


@pytest.mark.parametrize("name", KINDS)
def test_a_kind_applies_after_the_kinds_it_depends_on(name: str) -> None:
    kind = REGISTRY[name]
    for dependency in kind.depends_on:
        assert REGISTRY[dependency].phase < kind.phase


@pytest.mark.parametrize("page", sorted(pages()))
def test_docs_tables_are_generated_from_the_declarations(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    assert render_page(text, pages()[page]) == text, "run `make schemas`"


def test_the_json_schema_shows_write_only_secrets_as_passwords() -> None:
    for kind in REGISTRY.values():
        schema = kind.model.model_json_schema()
        for name in fields_with(kind.model, Role.WRITE_ONLY, Role.READABLE_SECRET):
            prop = schema["properties"][name]
            assert any(o.get("format") == "password" for o in prop.get("anyOf", [prop]))
