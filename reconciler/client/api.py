"""``SimpleHelpClient``: one typed method per query of the SimpleHelp API (38).

Each method only declares its request body and response type; ``_call`` does the rest
(the read/write table in `queries.py` drives the transport's retry policy).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from typing_extensions import Unpack

from reconciler.client.answers import Answer, WriteShape, reason_means_unknown_query
from reconciler.client.decoding import adapter, recast, unexpected
from reconciler.client.errors import NotFoundError, RejectedError, UnknownQueryError
from reconciler.client.models import (
    AccessSession,
    Alert,
    ApiResponse,
    Hardware,
    History,
    Machine,
    MachineBrief,
    MachineNotes,
    MachineNotesBrief,
    MachineProperties,
    MachinePropertiesBrief,
    Monitoring,
    Permissions,
    SupportSession,
    Technician,
    TechnicianGroup,
)
from reconciler.client.queries import (
    BACKUP_QUERY_HINT,
    LOOKUPS,
    QUERIES,
    STRING_ANSWERS,
    compact,
    list_or_none,
    lookup_body,
    machine_ids_body,
)
from reconciler.client.transport import DEFAULT_POOL_SIZE, Transport, TransportOptions
from reconciler.redact import MASK


class SimpleHelpClient:
    """A typed client of one SimpleHelp server's API; safe to share between threads."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        backup_query: str = "server/backup",
        **options: Unpack[TransportOptions],
    ) -> None:
        self._transport = Transport(url, token, **options)
        self._paths = {"server/backup": backup_query.strip("/")}
        # Callers fan out from several thread pools at once; this keeps the requests in
        # flight at `pool_size` (= --concurrency), so the server sees the load it was promised.
        pool_size = options.get("pool_size", DEFAULT_POOL_SIZE)
        self._in_flight = threading.BoundedSemaphore(max(1, pool_size))
        self._observe: Callable[[str, WriteShape], None] | None = None

    def __repr__(self) -> str:
        return f"SimpleHelpClient(url={self._transport.base_url!r}, token={MASK!r})"

    def __enter__(self) -> SimpleHelpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The server's base URL (scheme, host, port; never the token)."""
        return self._transport.base_url

    @property
    def request_count(self) -> int:
        """HTTP requests sent so far, retries included."""
        return self._transport.request_count

    def close(self) -> None:
        """Release pooled connections."""
        self._transport.close()

    @contextlib.contextmanager
    def write_answers(self, observe: Callable[[str, WriteShape], None]) -> Iterator[None]:
        """Meanwhile, tell ``observe`` each accepted write's query and the shape its answer
        came in (the apply journal records it: a server's reading shows in its log)."""
        previous, self._observe = self._observe, observe
        try:
            yield
        finally:
            self._observe = previous

    def _exchange(self, query: str, body: Mapping[str, Any] | None) -> Answer:
        payload = None if body is None else compact(body)
        # The slot covers the round trip only: validating a big answer must not keep
        # another request from going out.
        with self._in_flight:
            return self._transport.exchange(
                self._paths.get(query, query), payload, write=QUERIES[query]
            )

    def _call(self, query: str, type_: Any, body: Mapping[str, Any] | None = None) -> Any:
        """Send ``query`` (a key of ``QUERIES``) and return its answer validated as ``type_``.

        The error is raised outside the ``except`` block so that pydantic's error (which
        quotes the response) is neither the cause nor the context of ours.
        """
        answer = self._exchange(query, body)
        if answer.status == 400 and query in LOOKUPS:
            error = self._transport.status_error(answer)
            if type(error) is RejectedError:
                error = recast(NotFoundError, error)
            raise error
        try:
            return self._transport.decode(
                answer, adapter(type_), text=query in STRING_ANSWERS and type_ is str
            )
        except ValidationError as exc:
            failure = unexpected(query, exc)
        raise failure

    def _write(self, query: str, body: Mapping[str, Any] | None = None) -> ApiResponse:
        """Send a write; any 2xx answer that does not say no is done (its shape kept)."""
        answer = self._exchange(query, body)
        fields, shape = self._transport.decode_write(answer)
        try:
            response = ApiResponse.model_validate({**fields, "shape": shape})
        except ValidationError as exc:
            failure = unexpected(query, exc)
        else:
            if self._observe is not None:
                self._observe(query, shape)
            return response
        raise failure

    # technicians

    def technicians_list(self) -> list[Technician]:
        return self._call("technicians/list", list[Technician])

    def technicians_new(self, technician: Mapping[str, Any]) -> ApiResponse:
        return self._write("technicians/new", {"technician": technician})

    def technicians_get(
        self, *, unique_id: int | None = None, username: str | None = None
    ) -> Technician:
        query = "technicians/get"
        by_name = None if username is None else {"username": username}
        return self._call(query, Technician, lookup_body(query, unique_id, by_name))

    def technicians_set(self, unique_id: int, attrs: Mapping[str, Any]) -> ApiResponse:
        return self._write("technicians/set", {"uniqueID": unique_id, "technician": attrs})

    def technicians_remove(self, unique_id: int) -> ApiResponse:
        return self._write("technicians/remove", {"uniqueID": unique_id})

    def technicians_password_set(self, unique_id: int, password: str) -> ApiResponse:
        return self._write(
            "technicians/password/set", {"uniqueID": unique_id, "password": password}
        )

    def technicians_totp_remove(self, unique_id: int) -> ApiResponse:
        return self._write("technicians/totp/remove", {"uniqueID": unique_id})

    # technician groups

    def groups_list(self) -> list[TechnicianGroup]:
        return self._call("groups/list", list[TechnicianGroup])

    def groups_new(self, group: Mapping[str, Any]) -> ApiResponse:
        return self._write("groups/new", {"group": group})

    def groups_get(
        self, *, unique_id: int | None = None, name: str | None = None
    ) -> TechnicianGroup:
        query = "groups/get"
        by_name = None if name is None else {"group": {"name": name}}
        body = lookup_body(query, unique_id, by_name)
        return self._call(query, TechnicianGroup, body)

    def groups_set(self, unique_id: int, attrs: Mapping[str, Any]) -> ApiResponse:
        return self._write("groups/set", {"uniqueID": unique_id, "group": attrs})

    def groups_remove(self, unique_id: int) -> ApiResponse:
        return self._write("groups/remove", {"uniqueID": unique_id})

    def groups_password_set(self, unique_id: int, password: str) -> ApiResponse:
        return self._write("groups/password/set", {"uniqueID": unique_id, "password": password})

    def groups_permissions_get(self, unique_id: int) -> Permissions:
        query = "groups/permissions/get"
        return self._call(query, Permissions, {"uniqueID": unique_id})

    def groups_permissions_set(
        self, unique_id: int, permissions: Mapping[str, bool]
    ) -> ApiResponse:
        # The permissions travel inside the group object (erratum 11).
        body = {"group": {"uniqueID": unique_id, "permissions": dict(permissions)}}
        return self._write("groups/permissions/set", body)

    # machines

    def machines_list(self) -> list[Machine]:
        return self._call("machines/list", list[Machine])

    def machines_list_brief(self) -> list[MachineBrief]:
        """``machines/list`` as dicts of the ID and monitoring flag only (cheap at 10,000)."""
        return self._call("machines/list", list[MachineBrief])

    def machines_get(self, machine_ids: str | Sequence[str]) -> list[Machine]:
        return self._machines_read("machines/get", machine_ids, list[Machine])

    def machines_set(self, machine_ids: str | Sequence[str], *, monitor: bool) -> ApiResponse:
        return self._write("machines/set", {**machine_ids_body(machine_ids), "monitor": monitor})

    def machines_hardware_get(self, machine_ids: str | Sequence[str]) -> list[Hardware]:
        return self._machines_read("machines/hardware/get", machine_ids, list[Hardware])

    def machines_monitoring_get(self, machine_ids: str | Sequence[str]) -> list[Monitoring]:
        return self._machines_read("machines/monitoring/get", machine_ids, list[Monitoring])

    def machines_notes_get(self, machine_ids: str | Sequence[str]) -> list[MachineNotes]:
        return self._machines_read("machines/notes/get", machine_ids, list[MachineNotes])

    def machines_notes_get_brief(self, machine_ids: str | Sequence[str]) -> list[MachineNotesBrief]:
        """``machines/notes/get`` as dicts of the ID, notes and warnings only."""
        return self._machines_read("machines/notes/get", machine_ids, list[MachineNotesBrief])

    def machines_notes_set(
        self, machine_id: str, *, notes: str | None = None, warnings: str | None = None
    ) -> ApiResponse:
        # `warnings`, as the attribute table says (erratum 5); unset ones are not sent.
        return self._write(
            "machines/notes/set", {"machineID": machine_id, "notes": notes, "warnings": warnings}
        )

    def machines_properties_get(
        self,
        machine_ids: str | Sequence[str],
        *,
        include_inherited: bool = False,
        key: str | None = None,
    ) -> list[MachineProperties]:
        extra = {"key": key, "includeInherited": include_inherited or None}
        return self._machines_read(
            "machines/properties/get", machine_ids, list[MachineProperties], extra
        )

    def machines_properties_get_brief(
        self, machine_ids: str | Sequence[str]
    ) -> list[MachinePropertiesBrief]:
        """``machines/properties/get`` as dicts of the ID and key/value pairs only."""
        return self._machines_read(
            "machines/properties/get", machine_ids, list[MachinePropertiesBrief]
        )

    def machines_properties_set(self, machine_id: str, key: str, value: str) -> ApiResponse:
        body = {"machineID": machine_id, "key": key, "value": value}
        return self._write("machines/properties/set", body)

    def machines_properties_remove(self, machine_id: str, key: str) -> ApiResponse:
        return self._write("machines/properties/remove", {"machineID": machine_id, "key": key})

    def _machines_read(
        self,
        query: str,
        machine_ids: str | Sequence[str],
        type_: Any,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        """Read per-machine data; asking about no machine needs no request."""
        if not machine_ids:
            return []
        return self._call(query, type_, {**machine_ids_body(machine_ids), **(extra or {})})

    # machine groups

    def machinegroups_properties_get(
        self, path: Sequence[str], *, key: str | None = None, include_inherited: bool = False
    ) -> list[str] | str:
        """Without a key: the group's property keys; with one: its value (erratum 8)."""
        query = "machinegroups/properties/get"
        body = {"groups": list(path), "key": key, "includeInherited": include_inherited or None}
        return self._call(query, list[str] if key is None else str, body)

    def machinegroups_properties_set(
        self, path: Sequence[str], key: str, value: str
    ) -> ApiResponse:
        body = {"groups": list(path), "key": key, "value": value}
        return self._write("machinegroups/properties/set", body)

    # server

    def server_tech_restrictions_get(self) -> list[str]:
        query = "server/tech-restrictions/get"
        return self._call(query, list[str])

    def server_tech_restrictions_new(self, restrictions: Sequence[str]) -> ApiResponse:
        return self._write("server/tech-restrictions/new", {"restrictions": list(restrictions)})

    def server_tech_restrictions_remove(self, restrictions: Sequence[str]) -> ApiResponse:
        body = {"restrictions": list(restrictions)}
        return self._write("server/tech-restrictions/remove", body)

    def server_backup(self) -> ApiResponse:
        """Ask the server to save a configuration backup (path configurable, erratum 6).

        A server that does not know the query (404, or 400 saying so) gets an error that
        names both ways to set the path.
        """
        try:
            return self._write("server/backup")
        except RejectedError as exc:
            unknown = exc.status == 404 or (
                exc.status == 400 and reason_means_unknown_query(exc.reason or "")
            )
            if not unknown:
                raise
            error = UnknownQueryError(
                self._paths["server/backup"],
                f"HTTP {exc.status}: {exc.reason}: the server does not know this backup "
                f"query; {BACKUP_QUERY_HINT}",
                status=exc.status,
                reason=exc.reason,
            )
        raise error

    def server_hostname_get(self) -> str:
        query = "server/hostname/get"
        return self._call(query, str)

    def server_hostname_set(self, hostname: str) -> ApiResponse:
        return self._write("server/hostname/set", {"hostname": hostname})

    # history, alerts, sessions

    def history_list(
        self,
        *,
        range_start: int | None = None,
        range_end: int | None = None,
        range_last_modified: bool | None = None,
        max_results: int | None = None,
        text_filter: str | None = None,
        technician_name_filters: Sequence[str] | None = None,
        group_filters: Sequence[int] | None = None,
        machine_id_filters: Sequence[str] | None = None,
        include_support_sessions: bool | None = None,
        include_access_sessions: bool | None = None,
        include_presentation_sessions: bool | None = None,
        search_until_session_id: str | None = None,
    ) -> list[History]:
        body = {
            "rangeStart": range_start,
            "rangeEnd": range_end,
            "rangeLastModified": range_last_modified,
            "maxResults": max_results,
            "textFilter": text_filter,
            "technicianNameFilters": list_or_none(technician_name_filters),
            "groupFilters": list_or_none(group_filters),
            "machineIDFilters": list_or_none(machine_id_filters),
            "includeSupportSessions": include_support_sessions,
            "includeAccessSessions": include_access_sessions,
            "includePresentationSessions": include_presentation_sessions,
            "searchUntilSessionID": search_until_session_id,
        }
        filters = {k: v for k, v in body.items() if v is not None}
        return self._call("history/list", list[History], filters or None)

    def alerts_list(self) -> list[Alert]:
        return self._call("alerts/list", list[Alert])

    def support_queue_list(self) -> list[SupportSession]:
        query = "support/queue/list"
        return self._call(query, list[SupportSession])

    def support_sessions_list(self) -> list[SupportSession]:
        query = "support/sessions/list"
        return self._call(query, list[SupportSession])

    def access_sessions_list(self) -> list[AccessSession]:
        query = "access/sessions/list"
        return self._call(query, list[AccessSession])
