"""Seed loading: a YAML/JSON file or a dict describing the server's initial state.

The format (docs/sandbox.md) is close to the API's own objects, with groups named
rather than numbered. Missing attributes get the defaults of `schema.py`.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from reconciler.sandbox.accounts import GROUPS, TECHS, check_permissions
from reconciler.sandbox.errors import ApiFailure, SeedError
from reconciler.sandbox.schema import (
    GROUP,
    MACHINE,
    OBJ,
    OBJ_LIST,
    STR,
    STR_LIST,
    STR_MAP,
    TECHNICIAN,
    T,
    check_object,
    group_defaults,
    hardware_defaults,
    machine_defaults,
    monitoring_defaults,
    technician_defaults,
)
from reconciler.sandbox.store import Store, hash_secret

SEED_GROUP = {
    **{k: v for k, v in GROUP.items() if k != "uniqueID"},
    "permissions": OBJ,
    "password": STR,
}
SEED_TECHNICIAN = {
    **{k: v for k, v in TECHNICIAN.items() if k not in ("uniqueID", "groupIDs")},
    "groups": STR_LIST,
    "password": STR,
}
SEED_MACHINE = {
    **MACHINE,
    "notes": STR,
    "warnings": STR,
    "properties": STR_MAP,
    "hardware": OBJ,
    "monitoring": OBJ,
}
SEED_MACHINE_GROUP = {"path": STR_LIST, "properties": STR_MAP}
SEED: dict[str, T] = {
    "hostname": STR,
    "techRestrictions": STR_LIST,
    "groups": OBJ_LIST,
    "technicians": OBJ_LIST,
    "machines": OBJ_LIST,
    "machineGroups": OBJ_LIST,
    "history": OBJ_LIST,
    "alerts": OBJ_LIST,
    "supportQueue": OBJ_LIST,
    "supportSessions": OBJ_LIST,
    "accessSessions": OBJ_LIST,
}


def load_seed(source: Path | dict[str, Any] | None) -> dict[str, Any]:
    """Read a seed from a `.json` file, a YAML file, or take a dict as it is."""
    if source is None:
        return {}
    if isinstance(source, dict):
        return source
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"cannot read seed {source}: {exc.strerror}") from None
    try:
        data = json.loads(text) if source.suffix == ".json" else YAML(typ="safe").load(text)
    except (ValueError, YAMLError) as exc:
        raise SeedError(f"seed {source} is not valid {source.suffix or 'YAML'}: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SeedError(f"seed {source} must be a mapping at the top level")
    return data


def apply_seed(store: Store, seed: dict[str, Any]) -> None:
    """Populate an empty store from a seed; SeedError names the offending entry."""
    try:
        _apply(store, seed)
    except ApiFailure as exc:
        raise SeedError(f"seed: {exc.reason}") from None


def _apply(store: Store, seed: dict[str, Any]) -> None:
    check_object(seed, SEED, "seed")
    store.hostname = seed.get("hostname", "")
    store.restrictions = list(dict.fromkeys(seed.get("techRestrictions", [])))
    for i, entry in enumerate(seed.get("groups", [])):
        _seed_group(store, entry, f"groups[{i}]")
    for i, entry in enumerate(seed.get("technicians", [])):
        _seed_technician(store, entry, f"technicians[{i}]")
    for i, entry in enumerate(seed.get("machines", [])):
        _seed_machine(store, entry, f"machines[{i}]")
    for i, entry in enumerate(seed.get("machineGroups", [])):
        check_object(entry, SEED_MACHINE_GROUP, f"machineGroups[{i}]")
        path = tuple(entry.get("path", []))
        if not path:
            raise SeedError(f"seed: machineGroups[{i}].path must not be empty")
        store.add_machine_group(path)
        store.machine_groups[path].update(entry.get("properties", {}))
    store.history = sorted(seed.get("history", []), key=lambda h: -int(h.get("start", 0)))
    store.alerts = list(seed.get("alerts", []))
    store.support_queue = list(seed.get("supportQueue", []))
    store.support_sessions = list(seed.get("supportSessions", []))
    store.access_sessions = list(seed.get("accessSessions", []))


def _identity(
    entry: dict[str, Any],
    where: str,
    schema: Mapping[str, T],
    key: str,
    taken: Container[str],
    what: str | None = None,
) -> Any:
    """Check a seed entry and return its identity (`key`, called `what` in messages),
    required and not yet `taken`."""
    check_object(entry, schema, where)
    name = entry.get(key)
    if not name:
        raise SeedError(f"seed: {where}.{key} is required")
    if name in taken:
        raise SeedError(f"seed: {where}: duplicate {what or key} {name}")
    return name


def _password_hash(entry: dict[str, Any]) -> str | None:
    """Only the hash of a seeded password is kept, as for one set through the API."""
    password = entry.get("password")
    return hash_secret(password) if password else None


def _seed_group(store: Store, entry: dict[str, Any], where: str) -> None:
    name = _identity(entry, where, SEED_GROUP, "name", store.group_by_name, "group name")
    permissions = entry.get("permissions", {})
    check_permissions(permissions, f"{where}.permissions")
    obj = group_defaults(name)
    for key, value in entry.items():
        if key in ("permissions", "password"):
            continue
        obj[key] = {**obj[key], **value} if isinstance(obj.get(key), dict) else value
    GROUPS.add(store, obj, permissions=dict(permissions), passwordHash=_password_hash(entry))


def _seed_technician(store: Store, entry: dict[str, Any], where: str) -> None:
    username = _identity(entry, where, SEED_TECHNICIAN, "username", store.tech_by_username)
    obj = technician_defaults(username)
    for name in entry.get("groups", []):
        if name not in store.group_by_name:
            raise SeedError(f"seed: {where}.groups: unknown group {name}")
        if store.group_by_name[name] not in obj["groupIDs"]:
            obj["groupIDs"].append(store.group_by_name[name])
    for key, value in entry.items():
        if key not in ("groups", "password"):
            obj[key] = value
    TECHS.add(store, obj, passwordHash=_password_hash(entry), totpRemoved=0)


def _seed_machine(store: Store, entry: dict[str, Any], where: str) -> None:
    mid = _identity(entry, where, SEED_MACHINE, "machineID", store.machines)
    obj = machine_defaults(mid)
    obj.update({k: v for k, v in entry.items() if k in MACHINE})
    store.machines[mid] = {
        "obj": obj,
        "notes": entry.get("notes", ""),
        "warnings": entry.get("warnings", ""),
        "properties": dict(entry.get("properties", {})),
        "hardware": {**hardware_defaults(mid), **entry.get("hardware", {}), "machineID": mid},
        "monitoring": {
            **monitoring_defaults(obj),
            **entry.get("monitoring", {}),
            "machineID": mid,
        },
    }
    if obj["groups"]:
        store.add_machine_group(tuple(obj["groups"]))
