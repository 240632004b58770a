"""Warnings: what loads but is probably not what the author meant.

Checked on the document as written (before secrets are resolved, so no value can leak):
a secret attribute given as a literal string instead of a reference, and a YAML flow list
that split an LDAP distinguished name at its commas.
"""

from __future__ import annotations

import re
import types
from functools import cache
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr

from reconciler.manifest.documents import Document, PathKey, format_path
from reconciler.manifest.issues import Issue
from reconciler.manifest.models import Manifest
from reconciler.manifest.secrets import has_reference

# One relative distinguished name, "cn=field": what each item of a split DN looks like.
_RDN = re.compile(r"\s*(cn|ou|dc|o|c|l|st|uid|street)\s*=[^,=]*\Z", re.IGNORECASE)


def document_warnings(doc: Document) -> list[Issue]:
    """Every warning about one document, in document order."""
    return _literal_secrets(doc) + _split_dns(doc, (), doc.data)


def _literal_secrets(doc: Document) -> list[Issue]:
    out = []
    data = doc.data if isinstance(doc.data, dict) else {}
    for section, names in sensitive_attributes().items():
        items = data.get(section)
        for index, item in enumerate(items if isinstance(items, list) else []):
            for name in names:
                value = item.get(name) if isinstance(item, dict) else None
                if isinstance(value, str) and not has_reference(value):
                    out.append(
                        Issue(
                            doc.where((section, index, name)),
                            f"{format_path((section, index, name))}: a secret written in the "
                            "manifest; reference it with ${env:NAME} or ${file:PATH} instead",
                        )
                    )
    return out


@cache
def sensitive_attributes() -> dict[str, tuple[str, ...]]:
    """The secret (``SecretStr``) attributes of each kind, by manifest section."""
    found: dict[str, tuple[str, ...]] = {}
    for section, info in Manifest.model_fields.items():
        for item in _models_in(info.annotation):
            names = tuple(
                name
                for name, attribute in item.model_fields.items()
                if SecretStr in _types_in(attribute.annotation)
            )
            if names:
                found[section] = names
    return found


def _types_in(annotation: Any) -> set[Any]:
    origin = get_origin(annotation)
    if origin is None:
        return {annotation}
    found = set() if origin in (Union, types.UnionType) else {origin}
    for arg in get_args(annotation):
        found |= _types_in(arg)
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    return [t for t in _types_in(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]


def _split_dns(doc: Document, path: PathKey, node: Any) -> list[Issue]:
    """A list with two or more items that each look like one ``attr=value`` of a DN."""
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _split_dns(doc, (*path, key), value)
    elif isinstance(node, list):
        fragments = [i for i, item in enumerate(node) if isinstance(item, str) and _RDN.match(item)]
        if len(fragments) >= 2:
            first = (*path, fragments[0])
            out.append(
                Issue(
                    doc.where(first),
                    f"{format_path(first)}: items {node[fragments[0]]!r}, "
                    f"{node[fragments[1]]!r}… look like one LDAP distinguished name split at "
                    "its commas; quote the whole DN: ['cn=...,ou=...,dc=...']",
                )
            )
        for index, item in enumerate(node):
            out += _split_dns(doc, (*path, index), item)
    return out
