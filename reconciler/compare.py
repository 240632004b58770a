"""`shcfg compare`: are two servers configured alike, once each one's variables are undone?

Each server is read as export reads it (every object, shaped by its kind), then every value
of that server's variables is put back as ``${var:NAME}``, so that a hostname that differs
only because its variable differs is no difference. What is left is compared object by
object (matched by identity) and field by field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.client.api import SimpleHelpClient
from reconciler.export import MACHINE_KINDS, build_documents
from reconciler.kinds import REGISTRY
from reconciler.manifest.documents import LIST_KINDS
from reconciler.reconcile import read_live

_IDENTITY = {section: attribute for section, attribute, _ in LIST_KINDS}


@dataclass(frozen=True)
class Difference:
    """One field of one object that differs; `field` None means the object is on one side."""

    kind: str
    identity: str
    field: str | None
    a: Any
    b: Any


def live_configuration(
    client: SimpleHelpClient, *, concurrency: int, include_machines: bool
) -> dict[str, Any]:
    """The server's configuration as export would write it: section → data."""
    kinds = [k for k in REGISTRY if include_machines or k not in MACHINE_KINDS]
    live = read_live(client, None, concurrency=concurrency, everything=True, kinds=kinds)
    documents, _ = build_documents(live, kinds)
    merged: dict[str, Any] = {}
    for doc in documents.values():
        merged.update({k: v for k, v in doc.data.items() if k != "version"})
    return merged


def with_variables(config: Any, variables: Mapping[str, str]) -> Any:
    """`config` with each variable's value (a whole word or more) written as ``${var:K}``."""
    pairs = sorted(((v, k) for k, v in variables.items() if v), key=lambda p: -len(p[0]))
    if not pairs:
        return config
    pattern = re.compile(
        "|".join(rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])" for value, _ in pairs)
    )
    names = dict(pairs)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {walk(k): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            return pattern.sub(lambda m: "${var:" + names[m.group(0)] + "}", node)
        return node

    return walk(config)


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[Difference]:
    """Every difference between two configurations, in a stable order."""
    out: list[Difference] = []
    for section in sorted(set(a) | set(b)):
        left, right = _objects(section, a.get(section)), _objects(section, b.get(section))
        for identity in sorted(set(left) | set(right)):
            if identity not in right:
                out.append(Difference(section, identity, None, "present", "absent"))
            elif identity not in left:
                out.append(Difference(section, identity, None, "absent", "present"))
            else:
                fa, fb = _flat(left[identity]), _flat(right[identity])
                out += [
                    Difference(section, identity, name, fa.get(name), fb.get(name))
                    for name in sorted(set(fa) | set(fb))
                    if fa.get(name) != fb.get(name)
                ]
    return out


def _objects(section: str, data: Any) -> dict[str, Any]:
    """A section's objects by identity (the server's settings are one object, `server`)."""
    if data is None:
        return {}
    attribute = _IDENTITY.get(section)
    if attribute is None or not isinstance(data, list):
        return {section: data}
    out = {}
    for item in data:
        key = item.get(attribute)
        out["/".join(key) if isinstance(key, list) else str(key)] = {
            k: v for k, v in item.items() if k != attribute
        }
    return out


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    """Nested settings as dotted paths; lists of plain values compared as sets."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(node, list) and all(not isinstance(v, dict | list) for v in node):
        return {prefix: sorted(node, key=lambda v: json.dumps(v, sort_keys=True))}
    return {prefix: node}
