"""Fold validated documents into one manifest, refusing anything declared twice.

Besides the merged model, the merge keys every secret reference by the object and top-level
field that hold it (``secret_refs``), and records where each object was declared.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from reconciler.manifest.documents import LIST_KINDS, Document, PathKey
from reconciler.manifest.issues import Issue, Location
from reconciler.manifest.models import Ignore, Manifest, Policy, Prune, Server
from reconciler.manifest.overlay import Overlay, overlaid

Locations = dict[tuple[str, str], Location]
SecretRefs = dict[tuple[str, str, str], str]
# What a path of a document belongs to: (kind, identity, field or None for "the next key").
_Owners = dict[PathKey, tuple[str, str, str | None]]
_IDENTITY_ATTRIBUTE = {section: attribute for section, attribute, _ in LIST_KINDS}


@dataclass
class Merged:
    """The merged model, where each object was declared, and every secret reference."""

    model: Manifest
    locations: Locations
    secret_refs: SecretRefs


def merge(
    documents: list[tuple[Document, Manifest]],
    issues: list[Issue],
    *,
    overlays: set[str] | frozenset[str] = frozenset(),
) -> Merged:
    """One manifest from many documents; conflicts are appended to ``issues``.

    Documents of the files in ``overlays`` may also set attributes of objects the other
    files declare (see ``reconciler.manifest.overlay``).
    """
    merger = _Merger(issues)
    for doc, model in documents:
        merger.add(doc, model, overlay=doc.file in overlays)
    return merger.result()


def identity(section: str, item: BaseModel) -> str:
    """An object's identity as shown in messages and keys (a machine group path as ``a/b``)."""
    value = getattr(item, _IDENTITY_ATTRIBUTE[section])
    return "/".join(value) if isinstance(value, list) else str(value)


class _Merger:
    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        self.locations: Locations = {}
        self.secret_refs: SecretRefs = {}
        self.lists: dict[str, list[Any]] = {section: [] for section, _, _ in LIST_KINDS}
        self.server: dict[str, Any] = {}
        self.flags: dict[str, dict[str, tuple[Any, Location]]] = {
            "prune": {},
            "ignore": {},
            "policy": {},
        }
        self.exceptions: list[Any] = []
        self.overlay = Overlay()

    def declare(
        self, key: tuple[str, str], where: Location, what: str, *, overlay: bool = False
    ) -> bool | None:
        """True when new, None when an overlay sets attributes of a shared object, else
        False (and the conflict is an issue naming both places)."""
        first = self.locations.get(key)
        if first is not None:
            if overlay and self.overlay.claim(key, where):
                return None
            self.issues.append(
                Issue(where, f"{what} already declared at {self.overlay.place(key, first)}")
            )
            return False
        self.locations[key] = where
        if overlay:
            self.overlay.claim(key, where)
        return True

    def add(self, doc: Document, model: Manifest, *, overlay: bool = False) -> None:
        owners: _Owners = {}
        for section, _, noun in LIST_KINDS:
            items = self.lists[section]
            for index, item in enumerate(getattr(model, section)):
                ident = identity(section, item)
                where = doc.where((section, index))
                new = self.declare((section, ident), where, f"{noun} {ident!r}", overlay=overlay)
                if new:
                    items.append(item)
                elif new is None:
                    at = next(i for i, x in enumerate(items) if identity(section, x) == ident)
                    items[at] = overlaid(items[at], item)
                owners[(section, index)] = (section, ident, None)
        self._add_server(doc, model.server, owners, overlay)
        for index, waiver in enumerate(model.policyExceptions):
            self.exceptions.append(waiver)
            key = ("policyExceptions", f"{waiver.rule}:{waiver.target}")
            self.locations.setdefault(key, doc.where(("policyExceptions", index)))
        for section in ("prune", "ignore", "policy"):
            sub: BaseModel = getattr(model, section)
            for name in sorted(sub.model_fields_set):
                value = getattr(sub, name)
                where = doc.where((section, name), key=True)
                previous = self.flags[section].get(name)
                if previous is None:
                    self.flags[section][name] = (value, where)
                    self.locations[(section, name)] = where
                elif previous[0] != value:
                    self.issues.append(
                        Issue(where, f"{section}.{name} already set differently at {previous[1]}")
                    )
                owners[(section, name)] = (section, name, name)
        for path, original in doc.refs.items():
            self._record_ref(doc, path, original, owners)

    def _add_server(self, doc: Document, server: Server, owners: _Owners, overlay: bool) -> None:
        for name in ("hostname", "keepAccessFrom"):
            value = getattr(server, name)
            if value is None:
                continue
            where = doc.where(("server", name), key=True)
            if (
                self.declare(("server", name), where, f"server.{name}", overlay=overlay)
                is not False
            ):
                self.server[name] = value
            owners[("server", name)] = ("server", name, name)
        if server.techRestrictions is not None:
            merged = self.server.setdefault("techRestrictions", [])
            for index, pattern in enumerate(server.techRestrictions):
                where = doc.where(("server", "techRestrictions", index))
                if self.declare(
                    ("techRestrictions", pattern), where, f"tech restriction {pattern!r}"
                ):
                    merged.append(pattern)
                owners[("server", "techRestrictions", index)] = (
                    "techRestrictions",
                    pattern,
                    "pattern",
                )

    def _record_ref(self, doc: Document, path: PathKey, original: str, owners: _Owners) -> None:
        """Key a reference by the object and top-level field that contain it."""
        for cut in range(len(path), 0, -1):
            owner = owners.get(path[:cut])
            if owner is None:
                continue
            kind, ident, field_name = owner
            if field_name is None:
                if cut == len(path):
                    return
                field_name, top = str(path[cut]), path[: cut + 1]
            else:
                top = path[:cut]
            text = original if top == path else json.dumps(_original(doc, top), sort_keys=True)
            self.secret_refs[(kind, ident, field_name)] = text
            return

    def result(self) -> Merged:
        prune = Prune(**{name: value for name, (value, _) in self.flags["prune"].items()})
        ignore = Ignore(**{name: value for name, (value, _) in self.flags["ignore"].items()})
        policy = Policy(**{name: value for name, (value, _) in self.flags["policy"].items()})
        model = Manifest(
            version=1,
            server=Server(**self.server),
            prune=prune,
            ignore=ignore,
            policy=policy,
            policyExceptions=self.exceptions,
            **self.lists,
        )
        return Merged(model, self.locations, self.secret_refs)


def _original(doc: Document, top: PathKey) -> Any:
    """The field's value as written, references unresolved, for ``secret_refs``."""
    node: Any = doc.data
    for part in top:
        node = node[part]
    return _unresolve(doc, top, node)


def _unresolve(doc: Document, path: PathKey, node: Any) -> Any:
    if path in doc.refs:
        return doc.refs[path]
    if isinstance(node, dict):
        return {k: _unresolve(doc, (*path, k), v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unresolve(doc, (*path, i), v) for i, v in enumerate(node)]
    return node
