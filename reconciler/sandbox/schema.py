"""Attribute types of every object the reference defines, checked strictly.

The emulator rejects a wrong type or an unknown attribute with a 400 naming it, so
that a client bug shows up in tests instead of being silently dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.errors import invalid

#: Permission names a Technician Group can hold. The reference names only
#: `canRunTools`; the rest are the emulator's documented choice (docs/sandbox.md).
PERMISSIONS: tuple[str, ...] = (
    "canAccessAdministration",
    "canEditMachineProperties",
    "canEditNotes",
    "canManageGroups",
    "canManageTechnicians",
    "canRecordSessions",
    "canRunTools",
    "canTransferFiles",
    "canUseAppTunnel",
    "canUseChat",
    "canUseRemoteAccess",
    "canUseSupport",
    "canUseTerminal",
    "canViewAlerts",
    "canViewHistory",
)
PERMISSION_SET = frozenset(PERMISSIONS)


@dataclass(frozen=True)
class T:
    """One attribute type: a description for error messages, a predicate, and for
    strict nested objects the schema of their attributes."""

    desc: str
    ok: Callable[[Any], bool]
    fields: Mapping[str, T] | None = None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _list_of(pred: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(pred(x) for x in v)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_obj(v: Any) -> bool:
    return isinstance(v, dict)


STR = T("a string", _is_str)
BOOL = T("a boolean", _is_bool)
INT = T("an integer", _is_int)
STR_LIST = T("an array of strings", _list_of(_is_str))
INT_LIST = T("an array of integers", _list_of(_is_int))
OBJ = T("an object", _is_obj)
OBJ_LIST = T("an array of objects", _list_of(_is_obj))
STR_MAP = T(
    "an object of strings",
    lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
)
OPEN_SETTINGS = T(
    "an object of booleans/strings",
    lambda v: isinstance(v, dict) and all(isinstance(x, bool | str) for x in v.values()),
)


def obj(fields: Mapping[str, T]) -> T:
    """A nested object whose attributes are checked (and unknown ones rejected)."""
    return T("an object", _is_obj, fields)


TECHNICIAN: Mapping[str, T] = {
    "uniqueID": INT,
    "displayName": STR,
    "username": STR,
    "emailAddress": STR,
    "isAnonymous": BOOL,
    "allowLocallyAuthenticatedLogins": BOOL,
    "enabled": BOOL,
    "appProfilesUser": BOOL,
    "groupIDs": INT_LIST,
}
TECHNICIAN_READ_ONLY = frozenset({"uniqueID", "isAnonymous", "appProfilesUser"})

LDAP: Mapping[str, T] = {
    "enabled": BOOL,
    "advanced": BOOL,
    "baseDN": STR,
    "filter": STR,
    "memberOfGroups": STR_LIST,
}
MFA: Mapping[str, T] = {
    "email": BOOL,
    "app": BOOL,
    "emailCodeLength": INT,
    "emailSubject": STR,
    "emailBody": STR,
    "rememberMachine": BOOL,
}
GROUP: Mapping[str, T] = {
    "uniqueID": INT,
    "name": STR,
    "allowAnonymousLogins": BOOL,
    "max_groupShSessions": INT,
    "max_groupSgSessions": INT,
    "max_userShSessions": INT,
    "max_userSgSessions": INT,
    "maxFileSize": INT,
    "requestAccessTimeout": INT,
    "groupSpecificHostname": STR,
    "defaultSgServiceName": STR,
    "videoPassword": STR,
    "sessionSpeedLimitKbps": INT,
    "fpsDelay": INT,
    "ldapSettings": obj(LDAP),
    "mfaSettings": obj(MFA),
    "passwordSettings": OPEN_SETTINGS,
}
GROUP_NESTED = ("ldapSettings", "mfaSettings", "passwordSettings")

ADAPTER: Mapping[str, T] = {"ip": STR, "mac": STR, "name": STR}
MACHINE: Mapping[str, T] = {
    "machineID": STR,
    "online": BOOL,
    "groups": STR_LIST,
    "name": STR,
    "state": STR,
    "protocol": STR,
    "lastRegistrationTime": INT,
    "sessionCount": INT,
    "monitoringEnabled": BOOL,
    "os": STR,
    "hostname": STR,
    "wanIP": STR,
    "ipAddresses": T("an array of Network Adapter Objects", _list_of(_is_obj)),
}


def technician_defaults(username: str) -> dict[str, Any]:
    """A new technician's attributes before the request's own are applied."""
    return {
        "uniqueID": 0,
        "displayName": username,
        "username": username,
        "emailAddress": "",
        "isAnonymous": False,
        "allowLocallyAuthenticatedLogins": True,
        "enabled": True,
        "appProfilesUser": False,
        "groupIDs": [],
    }


def group_defaults(name: str) -> dict[str, Any]:
    """A new group's attributes before the request's own are applied (0 = no limit)."""
    return {
        "uniqueID": 0,
        "name": name,
        "allowAnonymousLogins": False,
        "max_groupShSessions": 0,
        "max_groupSgSessions": 0,
        "max_userShSessions": 0,
        "max_userSgSessions": 0,
        "maxFileSize": 0,
        "requestAccessTimeout": 0,
        "groupSpecificHostname": "",
        "defaultSgServiceName": "",
        "videoPassword": "",
        "sessionSpeedLimitKbps": 0,
        "fpsDelay": 0,
        "ldapSettings": {
            "enabled": False,
            "advanced": False,
            "baseDN": "",
            "filter": "",
            "memberOfGroups": [],
        },
        "mfaSettings": {
            "email": False,
            "app": False,
            "emailCodeLength": 6,
            "emailSubject": "",
            "emailBody": "",
            "rememberMachine": False,
        },
        "passwordSettings": {},
    }


def machine_defaults(machine_id: str) -> dict[str, Any]:
    """A seeded machine's attributes before the seed's own are applied."""
    return {
        "machineID": machine_id,
        "online": False,
        "groups": [],
        "name": machine_id,
        "state": "Unknown",
        "protocol": "TCP",
        "lastRegistrationTime": 0,
        "sessionCount": 0,
        "monitoringEnabled": False,
        "os": "",
        "hostname": "",
        "wanIP": "",
        "ipAddresses": [],
    }


def hardware_defaults(machine_id: str) -> dict[str, Any]:
    """Hardware Object of a machine seeded without one."""
    return {
        "machineID": machine_id,
        "totalMemory": 0,
        "modelName": "",
        "modelIdentifier": "",
        "manufacturer": "",
        "serial": "",
        "eccMemory": False,
        "memory": [],
        "disks": [],
        "processors": [],
    }


def monitoring_defaults(machine: Mapping[str, Any]) -> dict[str, Any]:
    """Monitoring Object of a machine seeded without one, derived from the machine."""
    return {
        "machineID": machine["machineID"],
        "cpuLoadAverages": [],
        "memoryLoadAverages": [],
        "is64bit": True,
        "os": machine["os"],
        "hostname": machine["hostname"],
        "wanIP": machine["wanIP"],
        "lastRestarted": 0,
        "disks": [],
        "cpuOffenders": [],
        "networkAdapters": list(machine["ipAddresses"]),
    }


def check_value(value: Any, t: T, where: str) -> None:
    """Raise a 400 naming `where` when `value` is not of type `t`."""
    if not t.ok(value):
        raise invalid(f"invalid attribute {where}: expected {t.desc}")
    if t.fields is not None:
        check_object(value, t.fields, where)


def check_object(value: Mapping[str, Any], fields: Mapping[str, T], where: str) -> None:
    """Check every attribute of an object against its schema; unknown ones are rejected."""
    for key, item in value.items():
        t = fields.get(key)
        if t is None:
            raise invalid(f"unknown attribute {where}.{key}")
        check_value(item, t, f"{where}.{key}")


def no_data(body: Mapping[str, Any]) -> None:
    """A query without data: any attribute is unknown."""
    allow_only(body, frozenset(), "")


def dedupe(items: Iterable[Any]) -> list[Any]:
    """The items in order, each once."""
    return list(dict.fromkeys(items))


def allow_only(body: Mapping[str, Any], keys: frozenset[str] | set[str], where: str) -> None:
    """Reject attributes a query does not define (typos would otherwise vanish silently)."""
    for key in body:
        if key not in keys:
            raise invalid(f"unknown attribute {where}{key}")


def opt(body: Mapping[str, Any], key: str, t: T, where: str = "") -> Any:
    """An optional attribute of a request body, type-checked; None when absent."""
    if key not in body:
        return None
    value = body[key]
    check_value(value, t, where + key)
    return value


def req(body: Mapping[str, Any], key: str, t: T, where: str = "") -> Any:
    """A required attribute of a request body, type-checked."""
    if key not in body:
        raise invalid(f"missing attribute {where}{key}")
    return opt(body, key, t, where)
