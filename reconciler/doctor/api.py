"""API checks through the client every other command uses: token, reads, backup.

Each read that plan and export make is made once, through the client's typed method,
so a difference in shape is reported exactly as plan would meet it: the query and the
first field that differs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.client.api import SimpleHelpClient
from reconciler.client.errors import (
    ApiError,
    AuthenticationError,
    TransportError,
    UnexpectedResponseError,
)
from reconciler.doctor.checks import Check
from reconciler.doctor.record import Recorder

TOKEN_HINT = (
    "check the token (SIMPLEHELP_API_TOKEN or --token-file) and that the API is enabled on "
    "the server (Administration > API, with this token's key)"
)
SHAPE_HINT = (
    "shcfg does not understand this answer: please report it with the transcript of "
    "`shcfg doctor --record FILE`"
)
BACKUP_HINT = "set the backup query's path with --backup-query PATH or SIMPLEHELP_BACKUP_QUERY"
REFUSED = frozenset({400, 401, 403})
# The reads plan and export make, in the order doctor makes them.
READ_QUERIES = (
    "technicians/list",
    "groups/list",
    "groups/permissions/get",
    "server/tech-restrictions/get",
    "server/hostname/get",
    "machines/list",
    "machines/notes/get",
    "machines/properties/get",
    "machinegroups/properties/get",
    "support/sessions/list",
    "access/sessions/list",
)
AFTER_TOKEN = (*(f"read {q}" for q in READ_QUERIES), "permissions", "backup")


def _refused(exc: ApiError) -> bool:
    return isinstance(exc, AuthenticationError) or exc.status in REFUSED


def check_token(client: SimpleHelpClient, rec: Recorder) -> Check:
    """A cheap read: a refusal is a token (or API access) problem."""
    try:
        rec.call("server/hostname/get", None, client.server_hostname_get)
    except UnexpectedResponseError:
        return Check("token", "ok", "accepted (the answer's shape is checked below)")
    except ApiError as exc:
        if _refused(exc):
            return Check("token", "fail", f"refused: {exc}", TOKEN_HINT)
        return Check("token", "fail", str(exc), _transport_hint(exc))
    return Check("token", "ok", "accepted")


def _transport_hint(exc: ApiError) -> str | None:
    if isinstance(exc, TransportError):
        return "the network checks passed; retry, or raise --timeout"
    return None


@dataclass
class Reads:
    """The answers the later reads and checks depend on."""

    checks: list[Check] = field(default_factory=list)
    permissions: dict[str, bool] | None = None
    group_count: int | None = None


def _read(
    reads: Reads,
    rec: Recorder,
    query: str,
    request: Mapping[str, Any] | None,
    fn: Callable[[], Any],
) -> Any:
    name = f"read {query}"
    try:
        value = rec.call(query, request, fn)
    except UnexpectedResponseError as exc:
        reads.checks.append(Check(name, "fail", str(exc), SHAPE_HINT))
        return None
    except ApiError as exc:
        hint = TOKEN_HINT if _refused(exc) else _transport_hint(exc)
        reads.checks.append(Check(name, "fail", str(exc), hint))
        return None
    reads.checks.append(Check(name, "ok", _describe(value)))
    return value


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"expected shape ({len(value)} item{'' if len(value) == 1 else 's'})"
    if isinstance(value, dict):
        return f"expected shape ({len(value)} entries)"
    return "expected shape"


def _skip(reads: Reads, query: str, why: str) -> None:
    reads.checks.append(Check(f"read {query}", "skip", why))


def check_reads(client: SimpleHelpClient, rec: Recorder) -> Reads:
    """Every read plan and export make, in the order they make them."""
    reads = Reads()
    _read(reads, rec, "technicians/list", None, client.technicians_list)
    groups = _read(reads, rec, "groups/list", None, client.groups_list)
    query = "groups/permissions/get"
    reads.group_count = None if groups is None else len(groups)
    if groups is None:
        _skip(reads, query, "needs groups/list")
    elif not groups:
        _skip(reads, query, "the server has no technician group to ask about")
    else:
        first = groups[0].uniqueID
        reads.permissions = _read(
            reads, rec, query, {"uniqueID": first}, lambda: client.groups_permissions_get(first)
        )
    _read(reads, rec, "server/tech-restrictions/get", None, client.server_tech_restrictions_get)
    _read(reads, rec, "server/hostname/get", None, client.server_hostname_get)
    machines = _read(reads, rec, "machines/list", None, client.machines_list)
    _machine_reads(reads, rec, client, machines)
    _read(reads, rec, "support/sessions/list", None, client.support_sessions_list)
    _read(reads, rec, "access/sessions/list", None, client.access_sessions_list)
    return reads


def _machine_reads(
    reads: Reads, rec: Recorder, client: SimpleHelpClient, machines: list[Any] | None
) -> None:
    per_machine = ("machines/notes/get", "machines/properties/get")
    group_query = "machinegroups/properties/get"
    if machines is None:
        for query in (*per_machine, group_query):
            _skip(reads, query, "needs machines/list")
        return
    if not machines:
        for query in (*per_machine, group_query):
            _skip(reads, query, "the server has no machine to ask about")
        return
    machine_id = machines[0].machineID
    body = {"machineID": machine_id}
    _read(reads, rec, per_machine[0], body, lambda: client.machines_notes_get(machine_id))
    _read(reads, rec, per_machine[1], body, lambda: client.machines_properties_get(machine_id))
    path = next((list(m.groups) for m in machines if m.groups), None)
    if path is None:
        _skip(reads, group_query, "no machine is in a machine group")
        return
    _read(
        reads,
        rec,
        group_query,
        {"groups": path},
        lambda: client.machinegroups_properties_get(path),
    )


def check_permissions(reads: Reads) -> Check:
    """The permission names the server knows (plan refuses a manifest naming another)."""
    if reads.permissions is None:
        if reads.group_count is None:
            why = "needs groups/list"
        elif reads.group_count == 0:
            why = "the server has no technician group to ask"
        else:
            why = "needs groups/permissions/get"
        return Check("permissions", "skip", why)
    names = sorted(reads.permissions)
    return Check("permissions", "ok", f"{len(names)} known: {', '.join(names)}")


def check_backup(client: SimpleHelpClient, rec: Recorder, backup_query: str) -> Check:
    """Opt-in: the backup query works (the server writes a backup file)."""
    try:
        rec.call(backup_query, None, client.server_backup)
    except ApiError as exc:
        if _refused(exc) and exc.status != 400:
            return Check("backup", "fail", str(exc), TOKEN_HINT)
        unknown = exc.status in (400, 404)
        hint = BACKUP_HINT.format(query=backup_query) if unknown else _transport_hint(exc)
        return Check("backup", "fail", str(exc), hint)
    return Check("backup", "ok", f"{backup_query}: the server saved a configuration backup")
