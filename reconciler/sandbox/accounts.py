"""Handlers of the technician and technician-group queries (see `routes.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.sandbox.errors import invalid, not_found
from reconciler.sandbox.schema import (
    GROUP,
    GROUP_NESTED,
    INT,
    OBJ,
    PERMISSION_SET,
    PERMISSIONS,
    STR,
    TECHNICIAN,
    TECHNICIAN_READ_ONLY,
    T,
    allow_only,
    check_object,
    dedupe,
    group_defaults,
    no_data,
    opt,
    req,
    technician_defaults,
)
from reconciler.sandbox.store import Store, hash_secret

# -- technicians -------------------------------------------------------------

TECH_LOOKUP = frozenset({"uniqueID", "username", "technician"})


def _find_tech(store: Store, body: dict[str, Any]) -> tuple[int, bool]:
    """Resolve the technician a request names. Returns its ID and whether the nested
    `technician.username` was the lookup key (else a nested username is a rename).
    `uniqueID` wins over `username`, which wins over the nested object."""
    uid = opt(body, "uniqueID", INT)
    username = opt(body, "username", STR)
    nested = opt(body, "technician", OBJ) or {}
    check_object(nested, TECHNICIAN, "technician")
    if uid is None:
        uid = nested.get("uniqueID")
    if uid is not None:
        if uid not in store.techs:
            raise not_found(f"unknown technician: uniqueID {uid}")
        return uid, False
    by_nested = username is None
    if username is None:
        username = nested.get("username")
    if username is None:
        raise invalid("missing technician lookup: uniqueID, username or technician.username")
    found = store.tech_by_username.get(username)
    if found is None:
        raise not_found(f"unknown technician: {username}")
    return found, by_nested


def _check_group_ids(store: Store, ids: list[int]) -> list[int]:
    for gid in ids:
        if gid not in store.groups:
            raise invalid(f"unknown group in technician.groupIDs: {gid}")
    return dedupe(ids)


def technicians_list(store: Store, body: dict[str, Any]) -> Any:
    no_data(body)
    return [t["obj"] for t in store.techs.values()]


def technicians_new(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, frozenset({"technician"}), "")
    given = req(body, "technician", OBJ)
    check_object(given, TECHNICIAN, "technician")
    username = req(given, "username", STR, "technician.")
    if not username:
        raise invalid("technician.username must not be empty")
    if username in store.tech_by_username:
        raise invalid(f"username already exists: {username}")
    obj = technician_defaults(username)
    for key, value in given.items():
        if key not in TECHNICIAN_READ_ONLY:
            obj[key] = value
    obj["groupIDs"] = _check_group_ids(store, obj["groupIDs"])
    obj["uniqueID"] = store.new_id()
    store.techs[obj["uniqueID"]] = {"obj": obj, "passwordHash": None, "totpRemoved": 0}
    store.tech_by_username[username] = obj["uniqueID"]


def technicians_get(store: Store, body: dict[str, Any]) -> Any:
    allow_only(body, TECH_LOOKUP, "")
    uid, _ = _find_tech(store, body)
    return store.techs[uid]["obj"]


def technicians_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, TECH_LOOKUP, "")
    given = req(body, "technician", OBJ)
    uid, by_nested = _find_tech(store, body)
    obj = store.techs[uid]["obj"]
    updates = {k: v for k, v in given.items() if k not in TECHNICIAN_READ_ONLY}
    if by_nested:
        updates.pop("username", None)
    new_name = updates.get("username", obj["username"])
    if not new_name:
        raise invalid("technician.username must not be empty")
    if new_name != obj["username"] and new_name in store.tech_by_username:
        raise invalid(f"username already exists: {new_name}")
    if "groupIDs" in updates:
        updates["groupIDs"] = _check_group_ids(store, updates["groupIDs"])
    if new_name != obj["username"]:
        del store.tech_by_username[obj["username"]]
        store.tech_by_username[new_name] = uid
    obj.update(updates)


def technicians_remove(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, TECH_LOOKUP, "")
    uid, _ = _find_tech(store, body)
    record = store.techs.pop(uid)
    del store.tech_by_username[record["obj"]["username"]]


def technicians_password_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, TECH_LOOKUP | {"password"}, "")
    password = req(body, "password", STR)
    if not password:
        raise invalid("password must not be empty")
    uid, _ = _find_tech(store, body)
    store.techs[uid]["passwordHash"] = hash_secret(password)


def technicians_totp_remove(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, TECH_LOOKUP, "")
    uid, _ = _find_tech(store, body)
    store.techs[uid]["totpRemoved"] += 1


# -- groups --------------------------------------------------------------------

GROUP_LOOKUP = frozenset({"uniqueID", "name", "group"})
GROUP_WITH_PERMISSIONS = {**GROUP, "permissions": OBJ}


def _find_group(
    store: Store, body: dict[str, Any], schema: Mapping[str, T] | None = None
) -> tuple[int, bool]:
    """Resolve the group a request names; like `_find_tech`, `uniqueID` wins."""
    uid = opt(body, "uniqueID", INT)
    name = opt(body, "name", STR)
    nested = opt(body, "group", OBJ) or {}
    check_object(nested, schema or GROUP, "group")
    if uid is None:
        uid = nested.get("uniqueID")
    if uid is not None:
        if uid not in store.groups:
            raise not_found(f"unknown group: uniqueID {uid}")
        return uid, False
    by_nested = name is None
    if name is None:
        name = nested.get("name")
    if name is None:
        raise invalid("missing group lookup: uniqueID, name or group.name")
    found = store.group_by_name.get(name)
    if found is None:
        raise not_found(f"unknown group: {name}")
    return found, by_nested


def _merged_group(current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Top-level attributes replace; nested settings objects merge key by key."""
    merged = dict(current)
    for key, value in given.items():
        if key == "uniqueID":
            continue
        merged[key] = {**current[key], **value} if key in GROUP_NESTED else value
    return merged


def groups_list(store: Store, body: dict[str, Any]) -> Any:
    no_data(body)
    return [g["obj"] for g in store.groups.values()]


def groups_new(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, frozenset({"group"}), "")
    given = req(body, "group", OBJ)
    check_object(given, GROUP, "group")
    name = req(given, "name", STR, "group.")
    if not name:
        raise invalid("group.name must not be empty")
    if name in store.group_by_name:
        raise invalid(f"group name already exists: {name}")
    obj = _merged_group(group_defaults(name), given)
    obj["uniqueID"] = store.new_id()
    store.groups[obj["uniqueID"]] = {"obj": obj, "permissions": {}, "passwordHash": None}
    store.group_by_name[name] = obj["uniqueID"]


def groups_get(store: Store, body: dict[str, Any]) -> Any:
    allow_only(body, GROUP_LOOKUP, "")
    gid, _ = _find_group(store, body)
    return store.groups[gid]["obj"]


def groups_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, GROUP_LOOKUP, "")
    given = dict(req(body, "group", OBJ))
    gid, by_nested = _find_group(store, body)
    record = store.groups[gid]
    if by_nested:
        given.pop("name", None)
    merged = _merged_group(record["obj"], given)
    old_name, new_name = record["obj"]["name"], merged["name"]
    if not new_name:
        raise invalid("group.name must not be empty")
    if new_name != old_name:
        if new_name in store.group_by_name:
            raise invalid(f"group name already exists: {new_name}")
        del store.group_by_name[old_name]
        store.group_by_name[new_name] = gid
    record["obj"] = merged


def groups_remove(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, GROUP_LOOKUP, "")
    gid, _ = _find_group(store, body)
    record = store.groups.pop(gid)
    del store.group_by_name[record["obj"]["name"]]
    for tech in store.techs.values():
        if gid in tech["obj"]["groupIDs"]:
            tech["obj"]["groupIDs"] = [g for g in tech["obj"]["groupIDs"] if g != gid]


def groups_password_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, GROUP_LOOKUP | {"password"}, "")
    password = req(body, "password", STR)
    if not password:
        raise invalid("password must not be empty")
    gid, _ = _find_group(store, body)
    store.groups[gid]["passwordHash"] = hash_secret(password)


def groups_permissions_get(store: Store, body: dict[str, Any]) -> Any:
    allow_only(body, GROUP_LOOKUP, "")
    gid, _ = _find_group(store, body)
    held = store.groups[gid]["permissions"]
    return {name: held.get(name, False) for name in PERMISSIONS}


def check_permissions(permissions: dict[str, Any], where: str) -> None:
    """Every name must be a known permission and every value a boolean."""
    for name, value in permissions.items():
        if name not in PERMISSION_SET:
            raise invalid(f"unknown permission: {name}")
        if not isinstance(value, bool):
            raise invalid(f"invalid attribute {where}.{name}: expected a boolean")


def groups_permissions_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, GROUP_LOOKUP, "")
    nested = req(body, "group", OBJ)
    gid, _ = _find_group(store, body, GROUP_WITH_PERMISSIONS)
    permissions = req(nested, "permissions", OBJ, "group.")
    check_permissions(permissions, "group.permissions")
    store.groups[gid]["permissions"].update(permissions)
