"""Every one of the 38 queries over real HTTP against the bundled sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.client import QUERIES, SimpleHelpClient
from reconciler.client.errors import (
    ApiError,
    AuthenticationError,
    RejectedError,
    ServerError,
    TransportError,
)
from reconciler.client.models import ApiResponse
from reconciler.sandbox import Sandbox, SandboxConfig
from tests.client.test_api_shapes import SHAPES

TOKEN = "sandbox-token-77"

SEED: dict[str, Any] = {
    "hostname": "support.example.com",
    "techRestrictions": ["10\\.0\\..*"],
    "groups": [
        {"name": "Helpdesk", "max_groupShSessions": 10, "permissions": {"canManageGroups": True}}
    ],
    "technicians": [
        {"username": "alice", "displayName": "Alice", "groups": ["Helpdesk"], "password": "pw1"}
    ],
    "machines": [
        {
            "machineID": "SG_1",
            "name": "Front desk",
            "groups": ["United Kingdom", "London"],
            "notes": "front",
            "warnings": "careful",
            "properties": {"License": "ABC"},
        },
        {"machineID": "SG_2", "name": "Back office"},
    ],
    "machineGroups": [{"path": ["United Kingdom", "London"], "properties": {"site": "LON"}}],
    "history": [
        {"sessionID": "h1", "type": "Access", "start": 1000, "technicianUsername": "alice"},
        {"sessionID": "h2", "type": "Support", "start": 2000, "technicianUsername": "alice"},
    ],
    "alerts": [{"name": "Disk full", "active": True, "severity": "critical"}],
    "supportQueue": [{"sessionID": "q1", "customer": {"customerID": "c1"}}],
    "supportSessions": [{"sessionID": "s1", "technicianUsername": "alice"}],
    "accessSessions": [{"sessionID": "a1", "machine": {"machineID": "SG_1"}}],
}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(token=TOKEN, seed=SEED, data_dir=tmp_path)) as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[SimpleHelpClient]:
    c = SimpleHelpClient(sandbox.url, TOKEN, retries=1, backoff_factor=0)
    yield c
    c.close()


def rejected(action: Any, *match: str) -> ApiError:
    """Run a call expected to fail with a 4xx/`success: false` carrying a reason."""
    with pytest.raises(RejectedError) as info:
        action()
    assert info.value.reason
    for text in match:
        assert text.lower() in str(info.value).lower()
    return info.value


def ids(client: SimpleHelpClient) -> tuple[int, int]:
    alice = client.technicians_get(username="alice")
    group = client.groups_get(name="Helpdesk")
    return alice.uniqueID, group.uniqueID


def test_the_seed_reads_back(client: SimpleHelpClient) -> None:
    (tech,) = client.technicians_list()
    (group,) = client.groups_list()
    assert tech.username == "alice"
    assert tech.groupIDs == [group.uniqueID]
    assert group.max_groupShSessions == 10


def test_technicians(client: SimpleHelpClient) -> None:
    alice, group = ids(client)
    assert client.technicians_get(unique_id=alice).displayName == "Alice"
    result = client.technicians_new({"username": "bob", "groupIDs": [group]})
    assert isinstance(result, ApiResponse)
    bob = client.technicians_get(username="bob")
    client.technicians_set(bob.uniqueID, {"displayName": "Bob B", "enabled": False})
    assert client.technicians_get(unique_id=bob.uniqueID).displayName == "Bob B"
    client.technicians_password_set(bob.uniqueID, "s3cret")
    client.technicians_totp_remove(bob.uniqueID)
    client.technicians_remove(bob.uniqueID)
    assert [t.username for t in client.technicians_list()] == ["alice"]


def test_technician_failures(client: SimpleHelpClient) -> None:
    rejected(lambda: client.technicians_new({"username": "alice"}), "technicians/new")
    rejected(lambda: client.technicians_get(unique_id=999999), "technicians/get")
    rejected(lambda: client.technicians_get(username="nobody"), "technicians/get")
    rejected(lambda: client.technicians_set(999999, {"enabled": True}), "technicians/set")
    rejected(lambda: client.technicians_remove(999999), "technicians/remove")
    rejected(lambda: client.technicians_password_set(999999, "x"), "technicians/password/set")
    rejected(lambda: client.technicians_totp_remove(999999), "technicians/totp/remove")


def test_groups(client: SimpleHelpClient) -> None:
    _, helpdesk = ids(client)
    assert client.groups_get(unique_id=helpdesk).name == "Helpdesk"
    client.groups_new({"name": "Tier2", "maxFileSize": 1024, "mfaSettings": {"app": True}})
    tier2 = client.groups_get(name="Tier2")
    assert tier2.maxFileSize == 1024
    client.groups_set(tier2.uniqueID, {"max_userSgSessions": 3})
    assert client.groups_get(unique_id=tier2.uniqueID).max_userSgSessions == 3
    client.groups_password_set(tier2.uniqueID, "grouppw")
    assert client.groups_permissions_get(helpdesk)["canManageGroups"] is True
    client.groups_permissions_set(tier2.uniqueID, {"canManageGroups": True})
    assert client.groups_permissions_get(tier2.uniqueID)["canManageGroups"] is True
    client.groups_remove(tier2.uniqueID)
    assert [g.name for g in client.groups_list()] == ["Helpdesk"]


def test_group_failures(client: SimpleHelpClient) -> None:
    rejected(lambda: client.groups_new({"name": "Helpdesk"}), "groups/new")
    rejected(lambda: client.groups_get(unique_id=999999), "groups/get")
    rejected(lambda: client.groups_get(name="Nope"), "groups/get")
    rejected(lambda: client.groups_set(999999, {"maxFileSize": 1}), "groups/set")
    rejected(lambda: client.groups_remove(999999), "groups/remove")
    rejected(lambda: client.groups_password_set(999999, "x"), "groups/password/set")
    rejected(lambda: client.groups_permissions_get(999999), "groups/permissions/get")
    rejected(
        lambda: client.groups_permissions_set(999999, {"canManageGroups": True}),
        "groups/permissions/set",
    )


def test_machines(client: SimpleHelpClient) -> None:
    assert {m.machineID for m in client.machines_list()} == {"SG_1", "SG_2"}
    (one,) = client.machines_get(["SG_1"])
    assert one.name == "Front desk"
    assert {m.machineID for m in client.machines_get(["SG_1", "SG_2"])} == {"SG_1", "SG_2"}
    client.machines_set(["SG_1", "SG_2"], monitor=True)
    assert all(m.monitoringEnabled for m in client.machines_list())
    (hardware,) = client.machines_hardware_get(["SG_1"])
    assert hardware.machineID == "SG_1"
    (monitoring,) = client.machines_monitoring_get("SG_1")
    assert monitoring.machineID == "SG_1"
    (notes,) = client.machines_notes_get(["SG_1"])
    assert (notes.notes, notes.warnings) == ("front", "careful")
    client.machines_notes_set("SG_1", notes="new notes", warnings="new warning")
    (notes,) = client.machines_notes_get(["SG_1"])
    assert (notes.notes, notes.warnings) == ("new notes", "new warning")


def test_machine_properties(client: SimpleHelpClient) -> None:
    (props,) = client.machines_properties_get(["SG_1"])
    assert [(p.key, p.value) for p in props.properties or []] == [("License", "ABC")]
    client.machines_properties_set("SG_1", "Owner", "IT")
    (props,) = client.machines_properties_get(["SG_1"], key="Owner")
    assert [(p.key, p.value) for p in props.properties or []] == [("Owner", "IT")]
    (inherited,) = client.machines_properties_get(["SG_1"], include_inherited=True)
    keys = {p.key for p in inherited.properties or []}
    assert {"License", "Owner", "site"} <= keys
    client.machines_properties_remove("SG_1", "Owner")
    (props,) = client.machines_properties_get(["SG_1"])
    assert [p.key for p in props.properties or []] == ["License"]


def test_machine_failures(client: SimpleHelpClient) -> None:
    rejected(lambda: client.machines_get(["SG_404"]), "machines/get")
    rejected(lambda: client.machines_set(["SG_404"], monitor=True), "machines/set")
    rejected(lambda: client.machines_hardware_get(["SG_404"]), "machines/hardware/get")
    rejected(lambda: client.machines_monitoring_get(["SG_404"]), "machines/monitoring/get")
    rejected(lambda: client.machines_notes_get(["SG_404"]), "machines/notes/get")
    rejected(lambda: client.machines_notes_set("SG_404", notes="x"), "machines/notes/set")
    rejected(lambda: client.machines_properties_get(["SG_404"]), "machines/properties/get")
    rejected(lambda: client.machines_properties_set("SG_404", "k", "v"), "properties/set")
    rejected(lambda: client.machines_properties_remove("SG_404", "k"), "properties/remove")


def test_machine_groups(client: SimpleHelpClient) -> None:
    path = ["United Kingdom", "London"]
    assert client.machinegroups_properties_get(path) == ["site"]
    assert client.machinegroups_properties_get(path, key="site") == "LON"
    client.machinegroups_properties_set(path, "region", "EU")
    assert sorted(client.machinegroups_properties_get(path)) == ["region", "site"]
    client.machinegroups_properties_set(["United Kingdom"], "country", "UK")
    inherited = client.machinegroups_properties_get(path, include_inherited=True)
    assert "country" in inherited
    rejected(lambda: client.machinegroups_properties_get(["Atlantis"]), "machinegroups")
    rejected(
        lambda: client.machinegroups_properties_set([], "k", "v"), "machinegroups/properties/set"
    )


def test_server(client: SimpleHelpClient, sandbox: Sandbox) -> None:
    assert client.server_tech_restrictions_get() == ["10\\.0\\..*"]
    client.server_tech_restrictions_new(["192\\.168\\..*"])
    assert client.server_tech_restrictions_get() == ["10\\.0\\..*", "192\\.168\\..*"]
    client.server_tech_restrictions_remove(["10\\.0\\..*"])
    assert client.server_tech_restrictions_get() == ["192\\.168\\..*"]
    assert client.server_backup().success is True
    assert client.server_hostname_get() == "support.example.com"
    client.server_hostname_set("help.example.org")
    assert client.server_hostname_get() == "help.example.org"


def test_server_failures(client: SimpleHelpClient) -> None:
    rejected(lambda: client.server_tech_restrictions_new(["("]), "tech-restrictions/new")
    rejected(lambda: client.server_tech_restrictions_remove(["nope"]), "tech-restrictions/remove")
    not_a_string: Any = 123
    rejected(lambda: client.server_hostname_set(not_a_string), "server/hostname/set")


def test_backup_query_path_is_configurable(sandbox: Sandbox, tmp_path: Path) -> None:
    with Sandbox(
        SandboxConfig(token=TOKEN, data_dir=tmp_path / "b", backup_query="admin/backup")
    ) as other:
        moved = SimpleHelpClient(other.url, TOKEN, backup_query="admin/backup")
        assert moved.server_backup().success is True
        stock = SimpleHelpClient(other.url, TOKEN, retries=0)
        rejected(stock.server_backup, "server/backup")
        moved.close()
        stock.close()


def test_history_alerts_sessions(client: SimpleHelpClient) -> None:
    assert [h.sessionID for h in client.history_list()] == ["h2", "h1"]
    assert [h.sessionID for h in client.history_list(max_results=1)] == ["h2"]
    only_access = client.history_list(include_support_sessions=False)
    assert [h.sessionID for h in only_access] == ["h1"]
    assert [a.name for a in client.alerts_list()] == ["Disk full"]
    (queued,) = client.support_queue_list()
    assert queued.customer is not None
    assert queued.customer.customerID == "c1"
    assert [s.sessionID for s in client.support_sessions_list()] == ["s1"]
    (access,) = client.access_sessions_list()
    assert access.machine is not None
    assert access.machine.machineID == "SG_1"


def test_history_failure(client: SimpleHelpClient) -> None:
    rejected(lambda: client.history_list(max_results=-1), "history/list")


@pytest.mark.parametrize(("call", "query"), [pytest.param(s[1], s[2], id=s[0]) for s in SHAPES])
def test_wrong_token_is_refused_for_every_query(sandbox: Sandbox, call: Any, query: str) -> None:
    wrong = SimpleHelpClient(sandbox.url, "not-the-token", retries=0)
    with pytest.raises(AuthenticationError) as info:
        call(wrong)
    assert info.value.status in (401, 403)
    assert info.value.outcome_unknown is False
    wrong.close()


def test_every_query_is_served(client: SimpleHelpClient, sandbox: Sandbox) -> None:
    """Drive the whole surface once and check the sandbox saw all 38 queries."""
    test_technicians(client)
    test_groups(client)
    test_machines(client)
    test_machine_properties(client)
    test_machine_groups(client)
    test_server(client, sandbox)
    test_history_alerts_sessions(client)
    seen = {call.query for call in sandbox.calls}
    assert seen == set(QUERIES)


def test_injected_faults_follow_the_retry_policy(tmp_path: Path) -> None:
    config = SandboxConfig(
        token=TOKEN, seed=SEED, data_dir=tmp_path, fail_rate=1.0, fail_kinds=("500",)
    )
    with Sandbox(config) as sb:
        c = SimpleHelpClient(sb.url, TOKEN, retries=2, backoff_factor=0)
        with pytest.raises(ServerError) as read_error:
            c.groups_list()
        assert read_error.value.outcome_unknown is False
        assert c.request_count == 3
        with pytest.raises(ServerError) as write_error:
            c.groups_remove(1)
        assert write_error.value.outcome_unknown is True
        assert c.request_count == 4
        c.close()


def test_injected_reset_on_a_write_is_outcome_unknown(tmp_path: Path) -> None:
    config = SandboxConfig(
        token=TOKEN, seed=SEED, data_dir=tmp_path, fail_rate=1.0, fail_kinds=("reset",)
    )
    with Sandbox(config) as sb:
        c = SimpleHelpClient(sb.url, TOKEN, retries=2, backoff_factor=0)
        with pytest.raises(TransportError) as info:
            c.server_hostname_set("x.example")
        assert info.value.outcome_unknown is True
        assert len(sb.calls) == 1
        c.close()
