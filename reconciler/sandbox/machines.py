"""Handlers of the machine and machine-group queries (see `routes.py`)."""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.errors import invalid, not_found
from reconciler.sandbox.schema import BOOL, STR, STR_LIST, allow_only, dedupe, no_data, opt, req
from reconciler.sandbox.store import Store, Text

# -- machines ----------------------------------------------------------------------

MACHINE_SELECT = frozenset({"machineID", "machineIDs"})


def _machine_ids(store: Store, body: dict[str, Any]) -> list[str]:
    """The machines a request names by `machineID` and/or `machineIDs`; all must exist."""
    one = opt(body, "machineID", STR)
    many = opt(body, "machineIDs", STR_LIST)
    if one is None and many is None:
        raise invalid("missing attribute machineID or machineIDs")
    ids = dedupe(([one] if one is not None else []) + (many or []))
    for mid in ids:
        if mid not in store.machines:
            raise not_found(f"unknown machine: {mid}")
    return ids


def _inherited(store: Store, path: list[str]) -> dict[str, str]:
    """Properties of a machine group path merged from the root down (nearer wins)."""
    merged: dict[str, str] = {}
    key = tuple(path)
    for end in range(1, len(key) + 1):
        merged.update(store.machine_groups.get(key[:end], {}))
    return merged


def machines_list(store: Store, body: dict[str, Any]) -> Any:
    no_data(body)
    return store.json_array("obj", store.machines, lambda mid: store.machines[mid]["obj"])


def warm_machine_answers(store: Store) -> None:
    """Encode every machine's list, notes and properties items before the first read
    asks for them (after a write they are encoded again on demand)."""
    machines_list(store, {})
    store.json_array("notes", store.machines, lambda mid: _notes(store, mid))
    store.json_array("properties", store.machines, lambda mid: _properties(store, mid))


def machines_get(store: Store, body: dict[str, Any]) -> Any:
    allow_only(body, MACHINE_SELECT, "")
    return [store.machines[mid]["obj"] for mid in _machine_ids(store, body)]


def machines_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, MACHINE_SELECT | {"monitor", "name"}, "")
    monitor = opt(body, "monitor", BOOL)
    name = opt(body, "name", STR)
    if monitor is None and name is None:
        raise invalid("nothing to set: give monitor or name")
    for mid in _machine_ids(store, body):
        obj = store.machines[mid]["obj"]
        if monitor is not None:
            obj["monitoringEnabled"] = monitor
        if name is not None:
            obj["name"] = name


def machines_hardware_get(store: Store, body: dict[str, Any]) -> Any:
    allow_only(body, MACHINE_SELECT, "")
    return [store.machines[mid]["hardware"] for mid in _machine_ids(store, body)]


def machines_monitoring_get(store: Store, body: dict[str, Any]) -> Any:
    allow_only(body, MACHINE_SELECT, "")
    return [store.machines[mid]["monitoring"] for mid in _machine_ids(store, body)]


def machines_notes_get(store: Store, body: dict[str, Any]) -> Any:
    allow_only(body, MACHINE_SELECT, "")
    return store.json_array("notes", _machine_ids(store, body), lambda mid: _notes(store, mid))


def _notes(store: Store, mid: str) -> dict[str, Any]:
    machine = store.machines[mid]
    return {"machineID": mid, "notes": machine["notes"], "warnings": machine["warnings"]}


def machines_notes_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, MACHINE_SELECT | {"notes", "warnings", "warning"}, "")
    notes = opt(body, "notes", STR)
    warnings = opt(body, "warnings", STR)
    alias = opt(body, "warning", STR)
    if warnings is None:
        warnings = alias
    if notes is None and warnings is None:
        raise invalid("nothing to set: give notes or warnings")
    for mid in _machine_ids(store, body):
        machine = store.machines[mid]
        if notes is not None:
            machine["notes"] = notes
        if warnings is not None:
            machine["warnings"] = warnings


def machines_properties_get(store: Store, body: dict[str, Any]) -> Any:
    allow_only(body, MACHINE_SELECT | {"includeInherited", "key"}, "")
    inherited = opt(body, "includeInherited", BOOL) or False
    key = opt(body, "key", STR)
    ids = _machine_ids(store, body)
    if not inherited and key is None:
        return store.json_array("properties", ids, lambda mid: _properties(store, mid))
    return [_properties(store, mid, inherited=inherited, key=key) for mid in ids]


def _properties(
    store: Store, mid: str, *, inherited: bool = False, key: str | None = None
) -> dict[str, Any]:
    machine = store.machines[mid]
    props = machine["properties"]
    if inherited:
        props = {**_inherited(store, machine["obj"]["groups"]), **props}
    if key is not None:
        props = {key: props[key]} if key in props else {}
    return {"machineID": mid, "properties": [{"key": k, "value": props[k]} for k in sorted(props)]}


def machines_properties_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, MACHINE_SELECT | {"key", "value"}, "")
    key = req(body, "key", STR)
    value = req(body, "value", STR)
    if not key:
        raise invalid("key must not be empty")
    for mid in _machine_ids(store, body):
        store.machines[mid]["properties"][key] = value


def machines_properties_remove(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, MACHINE_SELECT | {"key"}, "")
    key = req(body, "key", STR)
    for mid in _machine_ids(store, body):
        store.machines[mid]["properties"].pop(key, None)


# -- machine groups ------------------------------------------------------------------


def _machine_group(store: Store, body: dict[str, Any]) -> tuple[str, ...]:
    path = tuple(req(body, "groups", STR_LIST))
    if not path:
        raise invalid("groups must name a machine group path")
    if path not in store.machine_groups:
        raise not_found(f"unknown machine group: {' / '.join(path)}")
    return path


def machinegroups_properties_get(store: Store, body: dict[str, Any]) -> Any:
    allow_only(body, frozenset({"groups", "includeInherited", "key"}), "")
    path = _machine_group(store, body)
    inherited = opt(body, "includeInherited", BOOL) or False
    key = opt(body, "key", STR)
    props = _inherited(store, list(path)) if inherited else store.machine_groups[path]
    if key is None:
        return sorted(props)
    if key not in props:
        raise not_found(f"no property {key} on machine group {' / '.join(path)}")
    return Text(props[key])


def machinegroups_properties_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, frozenset({"groups", "key", "value"}), "")
    path = _machine_group(store, body)
    key = req(body, "key", STR)
    value = req(body, "value", STR)
    if not key:
        raise invalid("key must not be empty")
    store.machine_groups[path][key] = value
