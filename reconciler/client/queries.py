"""The 38 queries of the SimpleHelp API, how each is read, and how request bodies are built."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Every query and whether it writes. Reads are retried on server errors; writes only when
# the request provably never reached the server (see docs/api-notes.md).
QUERIES: Mapping[str, bool] = {
    "technicians/list": False,
    "technicians/new": True,
    "technicians/get": False,
    "technicians/set": True,
    "technicians/remove": True,
    "technicians/password/set": True,
    "technicians/totp/remove": True,
    "groups/list": False,
    "groups/new": True,
    "groups/get": False,
    "groups/set": True,
    "groups/remove": True,
    "groups/password/set": True,
    "groups/permissions/get": False,
    "groups/permissions/set": True,
    "machines/list": False,
    "machines/get": False,
    "machines/set": True,
    "machines/hardware/get": False,
    "machines/monitoring/get": False,
    "machines/notes/get": False,
    "machines/notes/set": True,
    "machines/properties/get": False,
    "machines/properties/set": True,
    "machines/properties/remove": True,
    "machinegroups/properties/get": False,
    "machinegroups/properties/set": True,
    "server/tech-restrictions/get": False,
    "server/tech-restrictions/new": True,
    "server/tech-restrictions/remove": True,
    "server/backup": True,
    "server/hostname/get": False,
    "server/hostname/set": True,
    "history/list": False,
    "alerts/list": False,
    "support/queue/list": False,
    "support/sessions/list": False,
    "access/sessions/list": False,
}

# Lookups of one object: an absent one may be answered 404 or 400 with a reason, and
# both mean "not there" (docs/api-notes.md).
LOOKUPS = frozenset(
    {"technicians/get", "groups/get", "groups/permissions/get", "machinegroups/properties/get"}
)
# String answers: a JSON string or text/plain.
STRING_ANSWERS = frozenset({"server/hostname/get", "machinegroups/properties/get"})
BACKUP_QUERY_HINT = "set its path with --backup-query PATH or SIMPLEHELP_BACKUP_QUERY"


def compact(value: Any) -> Any:
    """Drop ``None`` values at any depth: the client never sends JSON ``null``."""
    if isinstance(value, Mapping):
        return {k: compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        # Machine ID batches are 1,000 strings: no call per string.
        return [v if isinstance(v, str) else compact(v) for v in value if v is not None]
    return value


def machine_ids_body(machine_ids: str | Sequence[str]) -> dict[str, Any]:
    """One machine -> ``machineID``; several -> ``machineIDs`` (both documented)."""
    ids = [machine_ids] if isinstance(machine_ids, str) else list(machine_ids)
    if len(ids) == 1:
        return {"machineID": ids[0]}
    return {"machineIDs": ids}


def lookup_body(
    query: str, unique_id: int | None, by_name: Mapping[str, Any] | None
) -> dict[str, Any]:
    if unique_id is not None:
        return {"uniqueID": unique_id}
    if by_name is None:
        raise ValueError(f"{query}: give a uniqueID or a name")
    return dict(by_name)


def list_or_none(values: Sequence[Any] | None) -> list[Any] | None:
    return None if values is None else list(values)
