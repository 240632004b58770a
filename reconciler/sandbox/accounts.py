"""Handlers of the technician and technician-group queries (see `routes.py`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Accounts:
    """What the technician and the group handlers differ in: the nested object's name
    (`noun`, also used in messages), its schema, the identity attribute (`key`), how the
    "already exists" message names it (`taken`), and where the store keeps records and
    index."""

    noun: str
    schema: Mapping[str, T]
    key: str
    taken: str
    records: Callable[[Store], dict[int, dict[str, Any]]]
    index: Callable[[Store], dict[str, int]]

    @property
    def lookup(self) -> frozenset[str]:
        """The attributes a request may name the account by."""
        return frozenset({"uniqueID", self.key, self.noun})

    def find(
        self, store: Store, body: dict[str, Any], schema: Mapping[str, T] | None = None
    ) -> tuple[int, bool]:
        """Resolve the account a request names. Returns its ID and whether the nested
        object's identity was the lookup key (else a nested identity is a rename).
        `uniqueID` wins over the top-level identity, which wins over the nested object."""
        uid = opt(body, "uniqueID", INT)
        name = opt(body, self.key, STR)
        nested = opt(body, self.noun, OBJ) or {}
        check_object(nested, schema or self.schema, self.noun)
        if uid is None:
            uid = nested.get("uniqueID")
        if uid is not None:
            if uid not in self.records(store):
                raise not_found(f"unknown {self.noun}: uniqueID {uid}")
            return uid, False
        by_nested = name is None
        if name is None:
            name = nested.get(self.key)
        if name is None:
            lookup = f"uniqueID, {self.key} or {self.noun}.{self.key}"
            raise invalid(f"missing {self.noun} lookup: {lookup}")
        found = self.index(store).get(name)
        if found is None:
            raise not_found(f"unknown {self.noun}: {name}")
        return found, by_nested

    def listing(self, store: Store, body: dict[str, Any]) -> Any:
        """The `.../list` handler."""
        no_data(body)
        return [record["obj"] for record in self.records(store).values()]

    def given(self, store: Store, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """The object a `.../new` request gives, checked, and its new identity."""
        allow_only(body, frozenset({self.noun}), "")
        given = req(body, self.noun, OBJ)
        check_object(given, self.schema, self.noun)
        name = req(given, self.key, STR, f"{self.noun}.")
        self.check_name(store, name)
        return given, name

    def add(self, store: Store, obj: dict[str, Any], **record: Any) -> None:
        """Store a new account under a fresh uniqueID (`record`: what it keeps beside)."""
        obj["uniqueID"] = store.new_id()
        self.records(store)[obj["uniqueID"]] = {"obj": obj, **record}
        self.index(store)[obj[self.key]] = obj["uniqueID"]

    def get(self, store: Store, body: dict[str, Any]) -> Any:
        """The `.../get` handler."""
        allow_only(body, self.lookup, "")
        uid, _ = self.find(store, body)
        return self.records(store)[uid]["obj"]

    def check_name(self, store: Store, name: str, old: str | None = None) -> None:
        """A new or changed identity must be non-empty and not another account's."""
        if not name:
            raise invalid(f"{self.noun}.{self.key} must not be empty")
        if name != old and name in self.index(store):
            raise invalid(f"{self.taken} already exists: {name}")

    def rename(self, store: Store, uid: int, old: str, new: str) -> None:
        """Move the account's index entry to its new identity."""
        if new != old:
            del self.index(store)[old]
            self.index(store)[new] = uid

    def set_password(self, store: Store, body: dict[str, Any]) -> None:
        """The `.../password/set` handler: only the hash is kept."""
        allow_only(body, self.lookup | {"password"}, "")
        password = req(body, "password", STR)
        if not password:
            raise invalid("password must not be empty")
        uid, _ = self.find(store, body)
        self.records(store)[uid]["passwordHash"] = hash_secret(password)


# -- technicians -------------------------------------------------------------

TECHS = _Accounts(
    noun="technician",
    schema=TECHNICIAN,
    key="username",
    taken="username",
    records=lambda s: s.techs,
    index=lambda s: s.tech_by_username,
)
TECH_LOOKUP = TECHS.lookup
technicians_list = TECHS.listing
technicians_get = TECHS.get
technicians_password_set = TECHS.set_password


def _check_group_ids(store: Store, ids: list[int]) -> list[int]:
    for gid in ids:
        if gid not in store.groups:
            raise invalid(f"unknown group in technician.groupIDs: {gid}")
    return dedupe(ids)


def technicians_new(store: Store, body: dict[str, Any]) -> None:
    given, username = TECHS.given(store, body)
    obj = technician_defaults(username)
    for key, value in given.items():
        if key not in TECHNICIAN_READ_ONLY:
            obj[key] = value
    obj["groupIDs"] = _check_group_ids(store, obj["groupIDs"])
    TECHS.add(store, obj, passwordHash=None, totpRemoved=0)


def technicians_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, TECH_LOOKUP, "")
    given = req(body, "technician", OBJ)
    uid, by_nested = TECHS.find(store, body)
    obj = store.techs[uid]["obj"]
    updates = {k: v for k, v in given.items() if k not in TECHNICIAN_READ_ONLY}
    if by_nested:
        updates.pop("username", None)
    new_name = updates.get("username", obj["username"])
    TECHS.check_name(store, new_name, obj["username"])
    if "groupIDs" in updates:
        updates["groupIDs"] = _check_group_ids(store, updates["groupIDs"])
    TECHS.rename(store, uid, obj["username"], new_name)
    obj.update(updates)


def technicians_remove(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, TECH_LOOKUP, "")
    uid, _ = TECHS.find(store, body)
    record = store.techs.pop(uid)
    del store.tech_by_username[record["obj"]["username"]]


def technicians_totp_remove(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, TECH_LOOKUP, "")
    uid, _ = TECHS.find(store, body)
    store.techs[uid]["totpRemoved"] += 1


# -- groups --------------------------------------------------------------------

GROUPS = _Accounts(
    noun="group",
    schema=GROUP,
    key="name",
    taken="group name",
    records=lambda s: s.groups,
    index=lambda s: s.group_by_name,
)
GROUP_LOOKUP = GROUPS.lookup
GROUP_WITH_PERMISSIONS = {**GROUP, "permissions": OBJ}
groups_list = GROUPS.listing
groups_get = GROUPS.get
groups_password_set = GROUPS.set_password


def _merged_group(current: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """Top-level attributes replace; nested settings objects merge key by key."""
    merged = dict(current)
    for key, value in given.items():
        if key == "uniqueID":
            continue
        merged[key] = {**current[key], **value} if key in GROUP_NESTED else value
    return merged


def groups_new(store: Store, body: dict[str, Any]) -> None:
    given, name = GROUPS.given(store, body)
    GROUPS.add(store, _merged_group(group_defaults(name), given), permissions={}, passwordHash=None)


def groups_set(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, GROUP_LOOKUP, "")
    given = dict(req(body, "group", OBJ))
    gid, by_nested = GROUPS.find(store, body)
    record = store.groups[gid]
    if by_nested:
        given.pop("name", None)
    merged = _merged_group(record["obj"], given)
    old_name, new_name = record["obj"]["name"], merged["name"]
    GROUPS.check_name(store, new_name, old_name)
    GROUPS.rename(store, gid, old_name, new_name)
    record["obj"] = merged


def groups_remove(store: Store, body: dict[str, Any]) -> None:
    allow_only(body, GROUP_LOOKUP, "")
    gid, _ = GROUPS.find(store, body)
    record = store.groups.pop(gid)
    del store.group_by_name[record["obj"]["name"]]
    for tech in store.techs.values():
        if gid in tech["obj"]["groupIDs"]:
            tech["obj"]["groupIDs"] = [g for g in tech["obj"]["groupIDs"] if g != gid]


def groups_permissions_get(store: Store, body: dict[str, Any]) -> Any:
    allow_only(body, GROUP_LOOKUP, "")
    gid, _ = GROUPS.find(store, body)
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
    gid, _ = GROUPS.find(store, body, GROUP_WITH_PERMISSIONS)
    permissions = req(nested, "permissions", OBJ, "group.")
    check_permissions(permissions, "group.permissions")
    store.groups[gid]["permissions"].update(permissions)
