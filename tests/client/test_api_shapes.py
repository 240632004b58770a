"""What each client method sends and how it reads answers, against a scripted server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from reconciler.client import QUERIES, SimpleHelpClient
from reconciler.client.errors import UnexpectedResponseError
from reconciler.client.models import MachineNotes, TechnicianGroup
from tests.client.conftest import CANARY, Reply, ScriptedServer

OK = {"success": True}


@pytest.fixture
def client(server: ScriptedServer) -> Iterator[SimpleHelpClient]:
    c = SimpleHelpClient(server.url, CANARY, backup_query="/admin/backup-now/", backoff_factor=0)
    yield c
    c.close()


Call = Callable[[SimpleHelpClient], Any]

# (method call, query path, expected JSON body or None for no body, server reply)
SHAPES: list[tuple[str, Call, str, Any, Any]] = [
    ("tech-list", lambda c: c.technicians_list(), "technicians/list", None, []),
    (
        "tech-new",
        lambda c: c.technicians_new({"username": "a", "displayName": None}),
        "technicians/new",
        {"technician": {"username": "a"}},
        OK,
    ),
    (
        "tech-get-id",
        lambda c: c.technicians_get(unique_id=3),
        "technicians/get",
        {"uniqueID": 3},
        {"uniqueID": 3, "username": "a"},
    ),
    (
        "tech-get-name",
        lambda c: c.technicians_get(username="a"),
        "technicians/get",
        {"username": "a"},
        {"uniqueID": 3, "username": "a"},
    ),
    (
        "tech-set",
        lambda c: c.technicians_set(3, {"enabled": False}),
        "technicians/set",
        {"uniqueID": 3, "technician": {"enabled": False}},
        OK,
    ),
    ("tech-remove", lambda c: c.technicians_remove(3), "technicians/remove", {"uniqueID": 3}, OK),
    (
        "tech-password",
        lambda c: c.technicians_password_set(3, "pw"),
        "technicians/password/set",
        {"uniqueID": 3, "password": "pw"},
        OK,
    ),
    (
        "tech-totp",
        lambda c: c.technicians_totp_remove(3),
        "technicians/totp/remove",
        {"uniqueID": 3},
        OK,
    ),
    ("groups-list", lambda c: c.groups_list(), "groups/list", None, []),
    (
        "groups-new",
        lambda c: c.groups_new({"name": "G"}),
        "groups/new",
        {"group": {"name": "G"}},
        OK,
    ),
    (
        "groups-get-name",
        lambda c: c.groups_get(name="G"),
        "groups/get",
        {"group": {"name": "G"}},
        {"uniqueID": 1, "name": "G"},
    ),
    (
        "groups-set",
        lambda c: c.groups_set(1, {"maxFileSize": 5}),
        "groups/set",
        {"uniqueID": 1, "group": {"maxFileSize": 5}},
        OK,
    ),
    ("groups-remove", lambda c: c.groups_remove(1), "groups/remove", {"uniqueID": 1}, OK),
    (
        "groups-password",
        lambda c: c.groups_password_set(1, "pw"),
        "groups/password/set",
        {"uniqueID": 1, "password": "pw"},
        OK,
    ),
    (
        "perms-get",
        lambda c: c.groups_permissions_get(1),
        "groups/permissions/get",
        {"uniqueID": 1},
        {"canRunTools": True},
    ),
    (
        "perms-set",
        lambda c: c.groups_permissions_set(1, {"canRunTools": True}),
        "groups/permissions/set",
        {"group": {"uniqueID": 1, "permissions": {"canRunTools": True}}},
        OK,
    ),
    ("machines-list", lambda c: c.machines_list(), "machines/list", None, []),
    (
        "machines-get-one",
        lambda c: c.machines_get(["SG_1"]),
        "machines/get",
        {"machineID": "SG_1"},
        [{"machineID": "SG_1"}],
    ),
    (
        "machines-get-many",
        lambda c: c.machines_get(["SG_1", "SG_2"]),
        "machines/get",
        {"machineIDs": ["SG_1", "SG_2"]},
        [],
    ),
    (
        "machines-set",
        lambda c: c.machines_set(["SG_1"], monitor=True),
        "machines/set",
        {"machineID": "SG_1", "monitor": True},
        OK,
    ),
    (
        "hardware",
        lambda c: c.machines_hardware_get("SG_1"),
        "machines/hardware/get",
        {"machineID": "SG_1"},
        [],
    ),
    (
        "monitoring",
        lambda c: c.machines_monitoring_get(["SG_1"]),
        "machines/monitoring/get",
        {"machineID": "SG_1"},
        [],
    ),
    (
        "notes-get",
        lambda c: c.machines_notes_get(["SG_1"]),
        "machines/notes/get",
        {"machineID": "SG_1"},
        [],
    ),
    (
        "notes-set",
        lambda c: c.machines_notes_set("SG_1", warnings="careful"),
        "machines/notes/set",
        {"machineID": "SG_1", "warnings": "careful"},
        OK,
    ),
    (
        "props-get",
        lambda c: c.machines_properties_get(["SG_1"], include_inherited=True, key="K"),
        "machines/properties/get",
        {"machineID": "SG_1", "key": "K", "includeInherited": True},
        [],
    ),
    (
        "props-set",
        lambda c: c.machines_properties_set("SG_1", "K", "V"),
        "machines/properties/set",
        {"machineID": "SG_1", "key": "K", "value": "V"},
        OK,
    ),
    (
        "props-remove",
        lambda c: c.machines_properties_remove("SG_1", "K"),
        "machines/properties/remove",
        {"machineID": "SG_1", "key": "K"},
        OK,
    ),
    (
        "mg-get",
        lambda c: c.machinegroups_properties_get(["UK", "London"]),
        "machinegroups/properties/get",
        {"groups": ["UK", "London"]},
        ["site"],
    ),
    (
        "mg-set",
        lambda c: c.machinegroups_properties_set(["UK"], "site", "LON"),
        "machinegroups/properties/set",
        {"groups": ["UK"], "key": "site", "value": "LON"},
        OK,
    ),
    (
        "restr-get",
        lambda c: c.server_tech_restrictions_get(),
        "server/tech-restrictions/get",
        None,
        [],
    ),
    (
        "restr-new",
        lambda c: c.server_tech_restrictions_new(["10\\..*"]),
        "server/tech-restrictions/new",
        {"restrictions": ["10\\..*"]},
        OK,
    ),
    (
        "restr-remove",
        lambda c: c.server_tech_restrictions_remove(("a",)),
        "server/tech-restrictions/remove",
        {"restrictions": ["a"]},
        OK,
    ),
    ("backup", lambda c: c.server_backup(), "admin/backup-now", None, OK),
    ("host-get", lambda c: c.server_hostname_get(), "server/hostname/get", None, b'"sh"'),
    (
        "host-set",
        lambda c: c.server_hostname_set("h"),
        "server/hostname/set",
        {"hostname": "h"},
        OK,
    ),
    (
        "history",
        lambda c: c.history_list(max_results=10, machine_id_filters=["SG_1"]),
        "history/list",
        {"maxResults": 10, "machineIDFilters": ["SG_1"]},
        [],
    ),
    ("history-all", lambda c: c.history_list(), "history/list", None, []),
    ("alerts", lambda c: c.alerts_list(), "alerts/list", None, []),
    ("queue", lambda c: c.support_queue_list(), "support/queue/list", None, []),
    ("support", lambda c: c.support_sessions_list(), "support/sessions/list", None, []),
    ("access", lambda c: c.access_sessions_list(), "access/sessions/list", None, []),
]


@pytest.mark.parametrize(
    ("call", "query", "body", "reply"),
    [pytest.param(*shape[1:], id=shape[0]) for shape in SHAPES],
)
def test_request_shape(
    server: ScriptedServer,
    client: SimpleHelpClient,
    call: Call,
    query: str,
    body: Any,
    reply: Any,
) -> None:
    server.queue(Reply(200, reply))
    call(client)
    seen = server.seen[0]
    assert seen.path == f"/api/v1/{CANARY}/{query}"
    assert (json.loads(seen.body) if seen.body else None) == body


def test_query_table_lists_38_queries_and_reads_end_in_list_or_get() -> None:
    assert len(QUERIES) == 38
    for query, write in QUERIES.items():
        assert write == (query.rsplit("/", 1)[-1] not in ("list", "get"))


def test_every_query_has_a_method() -> None:
    for query in QUERIES:
        assert callable(getattr(SimpleHelpClient, query.replace("/", "_").replace("-", "_")))


def test_asking_about_no_machines_sends_nothing(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    assert client.machines_get([]) == []
    assert client.machines_properties_get([]) == []
    assert server.seen == []


def test_lookup_needs_an_id_or_a_name(client: SimpleHelpClient) -> None:
    with pytest.raises(ValueError, match="uniqueID or a name"):
        client.groups_get()


def test_unknown_fields_are_kept(server: ScriptedServer, client: SimpleHelpClient) -> None:
    group = {"uniqueID": 1, "name": "G", "max_userSgSessions": 2, "futureField": [1]}
    group["passwordSettings"] = {"allowGroupPassword": True, "note": "x"}
    server.queue(Reply(200, [group]))
    (parsed,) = client.groups_list()
    assert isinstance(parsed, TechnicianGroup)
    assert parsed.max_userSgSessions == 2
    assert parsed.model_dump(exclude_none=True) == group


@pytest.mark.parametrize("field", ["warning", "warnings"])
def test_notes_accept_warning_or_warnings(
    server: ScriptedServer, client: SimpleHelpClient, field: str
) -> None:
    server.queue(Reply(200, [{"machineID": "SG_1", "notes": "n", field: "w"}]))
    assert client.machines_notes_get(["SG_1"]) == [
        MachineNotes(machineID="SG_1", notes="n", warnings="w")
    ]


@pytest.mark.parametrize("field", ["warning", "warnings"])
def test_brief_machine_reads_keep_only_the_compared_fields(
    server: ScriptedServer, client: SimpleHelpClient, field: str
) -> None:
    server.queue(
        Reply(200, [{"machineID": "SG_1", "monitoringEnabled": True, "os": "Linux"}]),
        Reply(200, [{"machineID": "SG_1", "notes": "n", field: "w", "extra": 1}]),
        Reply(200, [{"machineID": "SG_1", "properties": [{"key": "k", "value": "v", "x": 2}]}]),
    )
    assert client.machines_list_brief() == [{"machineID": "SG_1", "monitoringEnabled": True}]
    assert client.machines_notes_get_brief(["SG_1", "SG_2"]) == [
        {"machineID": "SG_1", "notes": "n", "warnings": "w"}
    ]
    assert client.machines_properties_get_brief("SG_1") == [
        {"machineID": "SG_1", "properties": [{"key": "k", "value": "v"}]}
    ]
    queries = [seen.path.rsplit(f"{CANARY}/", 1)[1] for seen in server.seen]
    assert queries == ["machines/list", "machines/notes/get", "machines/properties/get"]
    assert json.loads(server.seen[1].body) == {"machineIDs": ["SG_1", "SG_2"]}


def test_brief_machine_list_still_checks_the_shape(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    server.queue(Reply(200, [{"monitoringEnabled": True}]))
    with pytest.raises(UnexpectedResponseError, match=r"machines/list: .*\[0\]\.machineID"):
        client.machines_list_brief()


@pytest.mark.parametrize("body", [b"[NaN]", b'["a", Infinity]', b"[1, 2", b"\xff["])
def test_lists_with_non_standard_or_broken_json_are_not_json(
    server: ScriptedServer, client: SimpleHelpClient, body: bytes
) -> None:
    server.queue(Reply(200, body))
    with pytest.raises(
        UnexpectedResponseError, match="technicians/list: HTTP 200: response is not"
    ):
        client.technicians_list()


def test_machinegroup_property_value_with_key(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    server.queue(Reply(200, b'"LON"'))
    assert client.machinegroups_properties_get(["UK"], key="site") == "LON"
    assert json.loads(server.seen[0].body) == {"groups": ["UK"], "key": "site"}


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({"uniqueID": 1, "name": "G"}, "technicians/list: unexpected response: response: "),
        ([{"username": "a"}], "technicians/list: unexpected response: [0].uniqueID: Field"),
        (
            [{"uniqueID": 1, "username": "a", "groupIDs": "1,2"}],
            # "a valid array" when validated from JSON bytes, "a valid list" from objects
            "technicians/list: unexpected response: [0].groupIDs: Input should be a valid ",
        ),
    ],
)
def test_wrong_shapes_name_query_and_field(
    server: ScriptedServer, client: SimpleHelpClient, reply: Any, message: str
) -> None:
    server.queue(Reply(200, reply))
    with pytest.raises(UnexpectedResponseError) as info:
        client.technicians_list()
    assert str(info.value).startswith(message)


def test_request_count_and_context_manager(server: ScriptedServer) -> None:
    server.queue(Reply(200, []), Reply(200, []))
    with SimpleHelpClient(server.url, CANARY) as c:
        c.alerts_list()
        c.alerts_list()
        assert c.request_count == 2
        assert c.url == server.url
