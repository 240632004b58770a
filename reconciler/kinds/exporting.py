"""Helpers the kinds share to shape live objects into manifest entries (export)."""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from reconciler.kinds.attrs import Role, fields_with


@dataclass
class ExportPart:
    """A kind's share of one exported manifest file (`section` of the manifest)."""

    data: Any
    header: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)


class EnvNames:
    """Environment variable names for exported secrets: unique, valid, from identities."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def make(self, kind: str, identity: str, attribute: str) -> str:
        slug = re.sub(r"[^A-Z0-9]+", "_", identity.upper()).strip("_") or "X"
        base = f"SHCFG_{kind}_{slug}_{attribute}"
        name, n = base, 2
        while name in self._taken:
            name, n = f"{base}_{n}", n + 1
        self._taken.add(name)
        return name


def text(value: str) -> str:
    """A live string as a manifest string: a literal `${` is escaped as `$${`."""
    return value.replace("${", "$${")


def plain(value: Any) -> Any:
    """A live JSON value as manifest data (strings escaped, recursively)."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _settings_model(model: type[BaseModel], name: str) -> type[BaseModel] | None:
    annotation = model.model_fields[name].annotation
    candidates: tuple[Any, ...] = (annotation, *typing.get_args(annotation))
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def declared_attributes(model: type[BaseModel], live: dict[str, Any]) -> dict[str, Any]:
    """The model's value, set and settings attributes present in a live object, in model
    order; a settings object keeps only the keys (and value types) the manifest accepts."""
    item: dict[str, Any] = {}
    for name in fields_with(model, Role.VALUE, Role.SET, Role.SETTINGS):
        value = live.get(name)
        if value is None:
            continue
        if name in fields_with(model, Role.SETTINGS):
            if not isinstance(value, dict):
                continue
            sub = _settings_model(model, name)
            value = (
                {k: v for k, v in value.items() if k in sub.model_fields}
                if sub is not None
                else {k: v for k, v in sorted(value.items()) if isinstance(v, bool | str)}
            )
        item[name] = plain(sorted(value) if name in fields_with(model, Role.SET) else value)
    return item


def write_only_footer(noun: str, entries: list[tuple[str, str]]) -> list[str]:
    """Comment lines that name the env variables a user may set for write-only passwords."""
    if not entries:
        return []
    lines = [
        f"Write-only {noun} passwords cannot be read back and are not exported. To set one",
        f"on apply, add `password: ${{env:NAME}}` to the {noun} and set NAME:",
    ]
    return lines + [f"  {env}  ({identity})" for env, identity in entries]
