"""Every query of the reference, over raw HTTP: success paths and failures."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.sandbox import PERMISSIONS, Sandbox
from reconciler.sandbox.routes import build_routes
from reconciler.sandbox.store import verify_secret
from tests.sandbox.conftest import ADMINS, ALICE, BOB, HELPDESK, Api


def test_backup_query_path_is_configurable() -> None:
    routes = build_routes("custom/backup")
    assert routes["custom/backup"].write
    assert "server/backup" not in routes


def _tech(sb: Sandbox, uid: int) -> dict[str, Any]:
    return next(t for t in sb.snapshot()["technicians"] if t["obj"]["uniqueID"] == uid)


def _group(sb: Sandbox, gid: int) -> dict[str, Any]:
    return next(g for g in sb.snapshot()["groups"] if g["obj"]["uniqueID"] == gid)


# -- technicians -------------------------------------------------------------------------


def test_technicians_list_returns_seeded_objects_with_defaults(api: Api) -> None:
    techs = api.ok("technicians/list")
    assert [t["username"] for t in techs] == ["alice", "bob"]
    assert techs[0] == {
        "uniqueID": ALICE,
        "displayName": "Alice",
        "username": "alice",
        "emailAddress": "",
        "isAnonymous": False,
        "allowLocallyAuthenticatedLogins": True,
        "enabled": True,
        "appProfilesUser": False,
        "groupIDs": [HELPDESK],
    }
    assert techs[1]["isAnonymous"] is True
    assert techs[1]["groupIDs"] == [HELPDESK, ADMINS]


def test_technicians_new_returns_only_success_and_assigns_next_id(api: Api) -> None:
    body = {"technician": {"username": "carol", "groupIDs": [ADMINS], "isAnonymous": True}}
    assert api.ok("technicians/new", body) == {"success": True}
    carol = api.ok("technicians/get", {"username": "carol"})
    assert carol["uniqueID"] == BOB + 1
    assert carol["groupIDs"] == [ADMINS]
    assert carol["isAnonymous"] is False  # read-only: ignored on new
    api.ok("groups/new", {"group": {"name": "Later"}})
    assert api.ok("groups/get", {"group": {"name": "Later"}})["uniqueID"] == BOB + 2


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        ({"technician": {"username": "alice"}}, 400, "username already exists"),
        ({"technician": {"displayName": "x"}}, 400, "missing attribute technician.username"),
        ({"technician": {"username": ""}}, 400, "must not be empty"),
        ({"technician": {"username": "c", "groupIDs": [999]}}, 400, "999"),
        ({"technician": {"username": "c", "enabled": "yes"}}, 400, "technician.enabled"),
        ({"technician": {"username": "c", "groupIDs": [True]}}, 400, "technician.groupIDs"),
        ({"technician": {"username": "c", "colour": "red"}}, 400, "technician.colour"),
        ({}, 400, "missing attribute technician"),
    ],
)
def test_technicians_new_rejects(api: Api, body: Any, status: int, reason: str) -> None:
    assert reason in api.fail("technicians/new", body, status)
    assert len(api.ok("technicians/list")) == 2


def test_technicians_get_by_each_lookup(api: Api) -> None:
    assert api.ok("technicians/get", {"uniqueID": ALICE})["username"] == "alice"
    assert api.ok("technicians/get", {"username": "bob"})["uniqueID"] == BOB
    assert api.ok("technicians/get", {"technician": {"username": "alice"}})["uniqueID"] == ALICE
    assert api.ok("technicians/get", {"technician": {"uniqueID": BOB}})["username"] == "bob"


def test_unique_id_wins_over_username(api: Api) -> None:
    found = api.ok("technicians/get", {"uniqueID": BOB, "username": "alice"})
    assert found["username"] == "bob"
    nested = api.ok("technicians/get", {"uniqueID": BOB, "technician": {"username": "alice"}})
    assert nested["username"] == "bob"
    group = api.ok("groups/get", {"uniqueID": ADMINS, "group": {"name": "Helpdesk"}})
    assert group["name"] == "Admins"


def test_technicians_get_failures(api: Api) -> None:
    assert "uniqueID 999" in api.fail("technicians/get", {"uniqueID": 999}, 404)
    assert "nobody" in api.fail("technicians/get", {"username": "nobody"}, 404)
    assert "missing technician lookup" in api.fail("technicians/get", {}, 400)
    assert "uniqueID" in api.fail("technicians/get", {"uniqueID": "3"}, 400)


def test_technicians_set_updates_only_given_attributes(sandbox: Sandbox, api: Api) -> None:
    body = {"technician": {"username": "alice", "displayName": "Alice S", "appProfilesUser": True}}
    assert api.ok("technicians/set", body) == {"success": True}
    alice = api.ok("technicians/get", {"uniqueID": ALICE})
    assert alice["displayName"] == "Alice S"
    assert alice["emailAddress"] == ""
    assert alice["appProfilesUser"] is False
    assert _tech(sandbox, ALICE)["passwordSet"] is True


def test_technicians_set_renames_when_looked_up_by_id(api: Api) -> None:
    api.ok("technicians/set", {"uniqueID": ALICE, "technician": {"username": "alice2"}})
    assert api.ok("technicians/get", {"uniqueID": ALICE})["username"] == "alice2"
    assert "alice" in api.fail("technicians/get", {"username": "alice"}, 404)
    api.ok("technicians/set", {"username": "alice2", "technician": {"username": "alice3"}})
    assert api.ok("technicians/get", {"username": "alice3"})["uniqueID"] == ALICE


def test_technicians_set_failures_commit_nothing(sandbox: Sandbox, api: Api) -> None:
    before = sandbox.snapshot()
    rename = {"uniqueID": ALICE, "technician": {"username": "bob", "displayName": "X"}}
    assert "already exists" in api.fail("technicians/set", rename, 400)
    groups = {"uniqueID": ALICE, "technician": {"displayName": "X", "groupIDs": [ALICE]}}
    assert str(ALICE) in api.fail("technicians/set", groups, 400)
    assert "technician" in api.fail("technicians/set", {"uniqueID": ALICE}, 400)
    missing = {"uniqueID": 77, "technician": {"displayName": "x"}}
    assert "77" in api.fail("technicians/set", missing, 404)
    assert sandbox.snapshot() == before


def test_technicians_remove(api: Api) -> None:
    assert api.ok("technicians/remove", {"technician": {"username": "bob"}}) == {"success": True}
    assert [t["username"] for t in api.ok("technicians/list")] == ["alice"]
    assert "bob" in api.fail("technicians/remove", {"username": "bob"}, 404)


def test_technicians_password_set_stores_a_hash(sandbox: Sandbox, api: Api) -> None:
    api.ok("technicians/password/set", {"technician": {"username": "bob"}, "password": "n3w"})
    stored = sandbox.store.techs[BOB]["passwordHash"]
    assert verify_secret("n3w", stored)
    assert "n3w" not in stored
    assert "n3w" not in str(sandbox.snapshot())
    assert "password" in api.fail("technicians/password/set", {"uniqueID": BOB}, 400)
    assert "password" in api.fail("technicians/password/set", {"uniqueID": BOB, "password": 1}, 400)
    assert "9" in api.fail("technicians/password/set", {"uniqueID": 9, "password": "x"}, 404)


def test_technicians_totp_remove_records_a_flag(sandbox: Sandbox, api: Api) -> None:
    api.ok("technicians/totp/remove", {"username": "alice"})
    assert _tech(sandbox, ALICE)["totpRemoved"] == 1
    assert "zed" in api.fail("technicians/totp/remove", {"username": "zed"}, 404)


# -- groups ------------------------------------------------------------------------------


def test_groups_list_and_defaults(api: Api) -> None:
    groups = api.ok("groups/list")
    assert [g["name"] for g in groups] == ["Helpdesk", "Admins"]
    admins = groups[1]
    assert admins["max_userSgSessions"] == 3
    assert admins["mfaSettings"]["emailCodeLength"] == 6
    assert groups[0]["ldapSettings"] == {
        "enabled": True,
        "advanced": False,
        "baseDN": "dc=example",
        "filter": "",
        "memberOfGroups": [],
    }


def test_groups_new_get_and_failures(api: Api) -> None:
    body = {"group": {"name": "Night", "fpsDelay": 50, "mfaSettings": {"app": True}}}
    assert api.ok("groups/new", body) == {"success": True}
    night = api.ok("groups/get", {"group": {"name": "Night"}})
    assert night["fpsDelay"] == 50
    assert night["mfaSettings"]["app"] is True
    assert night["mfaSettings"]["emailCodeLength"] == 6
    assert api.ok("groups/get", {"name": "Night"}) == night
    assert "already exists" in api.fail("groups/new", {"group": {"name": "Admins"}}, 400)
    bad_type = {"group": {"name": "X", "maxFileSize": 1.5}}
    assert "group.maxFileSize" in api.fail("groups/new", bad_type, 400)
    nested = {"group": {"name": "X", "ldapSettings": {"memberOfGroups": [1]}}}
    assert "group.ldapSettings.memberOfGroups" in api.fail("groups/new", nested, 400)
    assert "Nope" in api.fail("groups/get", {"group": {"name": "Nope"}}, 404)


def test_groups_set_replaces_top_level_and_merges_nested(api: Api) -> None:
    body = {
        "uniqueID": HELPDESK,
        "group": {"name": "Service Desk", "ldapSettings": {"filter": "(x)"}, "fpsDelay": 10},
    }
    assert api.ok("groups/set", body) == {"success": True}
    group = api.ok("groups/get", {"uniqueID": HELPDESK})
    assert group["name"] == "Service Desk"
    assert group["fpsDelay"] == 10
    assert group["ldapSettings"]["enabled"] is True
    assert group["ldapSettings"]["filter"] == "(x)"
    by_name = {"group": {"name": "Admins", "allowAnonymousLogins": True}}
    api.ok("groups/set", by_name)
    assert api.ok("groups/get", {"uniqueID": ADMINS})["allowAnonymousLogins"] is True


def test_groups_set_failures(sandbox: Sandbox, api: Api) -> None:
    before = sandbox.snapshot()
    dup = {"uniqueID": HELPDESK, "group": {"name": "Admins", "fpsDelay": 3}}
    assert "already exists" in api.fail("groups/set", dup, 400)
    bad = {"uniqueID": HELPDESK, "group": {"passwordSettings": {"x": 1}}}
    assert "group.passwordSettings" in api.fail("groups/set", bad, 400)
    assert "42" in api.fail("groups/set", {"uniqueID": 42, "group": {}}, 404)
    assert sandbox.snapshot() == before


def test_groups_remove_drops_membership(api: Api) -> None:
    assert api.ok("groups/remove", {"uniqueID": HELPDESK}) == {"success": True}
    assert api.ok("technicians/get", {"uniqueID": BOB})["groupIDs"] == [ADMINS]
    assert api.ok("technicians/get", {"uniqueID": ALICE})["groupIDs"] == []
    assert "Helpdesk" in api.fail("groups/remove", {"group": {"name": "Helpdesk"}}, 404)


def test_groups_password_set(sandbox: Sandbox, api: Api) -> None:
    assert _group(sandbox, ADMINS)["passwordSet"] is False
    api.ok("groups/password/set", {"uniqueID": ADMINS, "password": "gpw"})
    assert _group(sandbox, ADMINS)["passwordSet"] is True
    assert verify_secret("gpw", sandbox.store.groups[ADMINS]["passwordHash"])
    assert "password" in api.fail("groups/password/set", {"uniqueID": ADMINS}, 400)


def test_groups_permissions_get_lists_all_known(api: Api) -> None:
    perms = api.ok("groups/permissions/get", {"uniqueID": HELPDESK})
    assert set(perms) == set(PERMISSIONS)
    assert perms["canRunTools"] is True
    assert perms["canUseChat"] is False
    assert "uniqueID 5" in api.fail("groups/permissions/get", {"uniqueID": 5}, 404)


def test_groups_permissions_set_merges(api: Api) -> None:
    body = {"group": {"uniqueID": HELPDESK, "permissions": {"canUseChat": True}}}
    assert api.ok("groups/permissions/set", body) == {"success": True}
    perms = api.ok("groups/permissions/get", {"group": {"name": "Helpdesk"}})
    assert perms["canRunTools"] is True
    assert perms["canUseChat"] is True
    top = {"uniqueID": ADMINS, "group": {"permissions": {"canRunTools": True}}}
    api.ok("groups/permissions/set", top)
    assert api.ok("groups/permissions/get", {"uniqueID": ADMINS})["canRunTools"] is True


def test_groups_permissions_set_failures(sandbox: Sandbox, api: Api) -> None:
    before = sandbox.snapshot()
    unknown = {"group": {"uniqueID": HELPDESK, "permissions": {"canFly": True}}}
    assert "canFly" in api.fail("groups/permissions/set", unknown, 400)
    not_bool = {"group": {"uniqueID": HELPDESK, "permissions": {"canUseChat": "yes"}}}
    assert "canUseChat" in api.fail("groups/permissions/set", not_bool, 400)
    assert "permissions" in api.fail("groups/permissions/set", {"group": {"uniqueID": 1}}, 400)
    assert sandbox.snapshot() == before


# -- machines -------------------------------------------------------------------------------


def test_machines_list_and_get(api: Api) -> None:
    machines = api.ok("machines/list")
    assert [m["machineID"] for m in machines] == ["SG_1", "SG_2", "SG_3"]
    assert machines[1]["name"] == "SG_2"
    got = api.ok("machines/get", {"machineID": "SG_1"})
    assert [m["name"] for m in got] == ["Front desk"]
    both = api.ok("machines/get", {"machineIDs": ["SG_2", "SG_1"]})
    assert [m["machineID"] for m in both] == ["SG_2", "SG_1"]
    assert "SG_9" in api.fail("machines/get", {"machineIDs": ["SG_1", "SG_9"]}, 404)
    assert "machineID" in api.fail("machines/get", {}, 400)


def test_machines_set_monitor_and_name(api: Api) -> None:
    assert api.ok("machines/set", {"machineIDs": ["SG_1", "SG_2"], "monitor": True}) == {
        "success": True
    }
    api.ok("machines/set", {"machineID": "SG_3", "name": "Spare"})
    machines = {m["machineID"]: m for m in api.ok("machines/list")}
    assert machines["SG_1"]["monitoringEnabled"] is True
    assert machines["SG_2"]["monitoringEnabled"] is True
    assert machines["SG_3"]["name"] == "Spare"
    assert "monitor" in api.fail("machines/set", {"machineID": "SG_1", "monitor": "on"}, 400)
    assert "nothing to set" in api.fail("machines/set", {"machineID": "SG_1"}, 400)
    assert "SG_X" in api.fail(
        "machines/set", {"machineIDs": ["SG_1", "SG_X"], "monitor": 0 == 1}, 404
    )
    assert api.ok("machines/get", {"machineID": "SG_1"})[0]["monitoringEnabled"] is True


def test_machines_hardware_and_monitoring(api: Api) -> None:
    hardware = api.ok("machines/hardware/get", {"machineIDs": ["SG_1", "SG_2"]})
    assert hardware[0]["machineID"] == "SG_1"
    assert hardware[0]["serial"] == "XYZ"
    assert hardware[1]["processors"] == []
    monitoring = api.ok("machines/monitoring/get", {"machineID": "SG_1"})
    assert monitoring[0]["cpuLoadAverages"] == [1, 2, 3]
    assert monitoring[0]["os"] == "Windows 11"
    assert "nope" in api.fail("machines/hardware/get", {"machineID": "nope"}, 404)
    assert "nope" in api.fail("machines/monitoring/get", {"machineID": "nope"}, 404)


def test_machines_notes(api: Api) -> None:
    notes = api.ok("machines/notes/get", {"machineIDs": ["SG_1", "SG_2"]})
    assert notes == [
        {"machineID": "SG_1", "notes": "n1", "warnings": ""},
        {"machineID": "SG_2", "notes": "", "warnings": ""},
    ]
    api.ok("machines/notes/set", {"machineID": "SG_2", "notes": "x", "warning": "careful"})
    api.ok("machines/notes/set", {"machineID": "SG_1", "warnings": "w"})
    notes = api.ok("machines/notes/get", {"machineIDs": ["SG_1", "SG_2"]})
    assert notes[0] == {"machineID": "SG_1", "notes": "n1", "warnings": "w"}
    assert notes[1] == {"machineID": "SG_2", "notes": "x", "warnings": "careful"}
    assert "notes" in api.fail("machines/notes/set", {"machineID": "SG_1", "notes": 5}, 400)
    assert "zz" in api.fail("machines/notes/get", {"machineID": "zz"}, 404)


def test_machines_properties_get(api: Api) -> None:
    plain = api.ok("machines/properties/get", {"machineID": "SG_1"})
    assert plain == [
        {
            "machineID": "SG_1",
            "properties": [{"key": "License", "value": "ABC"}, {"key": "site", "value": "machine"}],
        }
    ]
    inherited = api.ok(
        "machines/properties/get", {"machineIDs": ["SG_1", "SG_2"], "includeInherited": True}
    )
    assert {p["key"]: p["value"] for p in inherited[0]["properties"]} == {
        "License": "ABC",
        "country": "GB",
        "site": "machine",
    }
    assert {p["key"]: p["value"] for p in inherited[1]["properties"]} == {
        "country": "GB",
        "site": "uk",
    }
    one = api.ok(
        "machines/properties/get", {"machineID": "SG_2", "key": "site", "includeInherited": True}
    )
    assert one == [{"machineID": "SG_2", "properties": [{"key": "site", "value": "uk"}]}]
    assert "key" in api.fail("machines/properties/get", {"machineID": "SG_1", "key": 1}, 400)


def test_machines_properties_set_and_remove(api: Api) -> None:
    body = {"machineIDs": ["SG_2", "SG_3"], "key": "License", "value": "L2"}
    assert api.ok("machines/properties/set", body) == {"success": True}
    got = api.ok("machines/properties/get", {"machineIDs": ["SG_2", "SG_3"], "key": "License"})
    assert [p["properties"] for p in got] == [[{"key": "License", "value": "L2"}]] * 2
    api.ok("machines/properties/remove", {"machineID": "SG_2", "key": "License"})
    assert api.ok("machines/properties/get", {"machineID": "SG_2"})[0]["properties"] == []
    assert "value" in api.fail("machines/properties/set", {"machineID": "SG_2", "key": "k"}, 400)
    bad = {"machineID": "SG_2", "key": "k", "value": 3}
    assert "value" in api.fail("machines/properties/set", bad, 400)
    assert "key" in api.fail("machines/properties/remove", {"machineID": "SG_2"}, 400)
    assert "nope" in api.fail("machines/properties/remove", {"machineID": "nope", "key": "k"}, 404)


def test_machine_answers_follow_every_write(api: Api) -> None:
    """Machine answers are encoded once and reused (store.json_array): each read after a
    write must still see it."""

    def state() -> tuple[Any, Any, Any]:
        return (
            {m["machineID"]: m["monitoringEnabled"] for m in api.ok("machines/list")},
            api.ok("machines/notes/get", {"machineIDs": ["SG_1", "SG_2"]}),
            api.ok("machines/properties/get", {"machineIDs": ["SG_1", "SG_2"]}),
        )

    monitoring, notes, props = state()
    assert state() == (monitoring, notes, props)
    api.ok("machines/set", {"machineID": "SG_2", "monitor": not monitoring["SG_2"]})
    assert state()[0]["SG_2"] is not monitoring["SG_2"]
    api.ok("machines/notes/set", {"machineID": "SG_1", "notes": "after"})
    assert state()[1][0]["notes"] == "after"
    api.ok("machines/properties/set", {"machineID": "SG_2", "key": "k", "value": "v"})
    assert {"key": "k", "value": "v"} in state()[2][1]["properties"]
    api.ok("machines/properties/remove", {"machineID": "SG_2", "key": "k"})
    assert state()[2] == props


# -- machine groups -----------------------------------------------------------------------


def test_machinegroups_properties_get(api: Api) -> None:
    assert api.ok("machinegroups/properties/get", {"groups": ["UK", "London"]}) == ["site"]
    inherited = {"groups": ["UK", "London"], "includeInherited": True}
    assert api.ok("machinegroups/properties/get", inherited) == ["country", "site"]
    with_key = {"groups": ["UK", "London"], "includeInherited": True, "key": "country"}
    assert api.ok("machinegroups/properties/get", with_key) == "GB"
    assert api.ok("machinegroups/properties/get", {"groups": ["UK", "Manchester"]}) == []
    assert api.ok("machinegroups/properties/get", {"groups": ["France"]}) == []
    missing_key = {"groups": ["UK", "London"], "key": "country"}
    assert "country" in api.fail("machinegroups/properties/get", missing_key, 404)
    assert "Mars" in api.fail("machinegroups/properties/get", {"groups": ["Mars"]}, 404)
    assert "groups" in api.fail("machinegroups/properties/get", {}, 400)


def test_machinegroups_properties_set(api: Api) -> None:
    body = {"groups": ["France", "Paris"], "key": "site", "value": "PAR"}
    assert api.ok("machinegroups/properties/set", body) == {"success": True}
    get = {"groups": ["France", "Paris"], "key": "site"}
    assert api.ok("machinegroups/properties/get", get) == "PAR"
    unknown = {"groups": ["Spain"], "key": "k", "value": "v"}
    assert "Spain" in api.fail("machinegroups/properties/set", unknown, 404)
    not_str = {"groups": ["UK"], "key": "k", "value": True}
    assert "value" in api.fail("machinegroups/properties/set", not_str, 400)


# -- server ----------------------------------------------------------------------------------


def test_tech_restrictions(api: Api) -> None:
    assert api.ok("server/tech-restrictions/get") == [r"10\.0\..*"]
    body = {"restrictions": [r"192\.168\..*", r"10\.0\..*", r"192\.168\..*"]}
    assert api.ok("server/tech-restrictions/new", body) == {"success": True}
    assert api.ok("server/tech-restrictions/get") == [r"10\.0\..*", r"192\.168\..*"]
    assert "(unclosed" in api.fail(
        "server/tech-restrictions/new", {"restrictions": ["ok", "(unclosed"]}, 400
    )
    assert len(api.ok("server/tech-restrictions/get")) == 2
    api.ok("server/tech-restrictions/remove", {"restrictions": [r"10\.0\..*"]})
    assert api.ok("server/tech-restrictions/get") == [r"192\.168\..*"]
    gone = {"restrictions": [r"192\.168\..*", "absent"]}
    assert "not found: absent" in api.fail("server/tech-restrictions/remove", gone, 400)
    assert api.ok("server/tech-restrictions/get") == [r"192\.168\..*"]


def test_hostname(api: Api) -> None:
    assert api.ok("server/hostname/get") == "support.example.com"
    assert api.ok("server/hostname/set", {"hostname": "help.example.org"}) == {"success": True}
    assert api.ok("server/hostname/get") == "help.example.org"
    assert "hostname" in api.fail("server/hostname/set", {}, 400)
    assert "hostname" in api.fail("server/hostname/set", {"hostname": ["x"]}, 400)


def test_backup_writes_a_timestamped_copy_without_plain_passwords(
    sandbox: Sandbox, api: Api
) -> None:
    assert api.ok("server/backup") == {"success": True}
    assert api.ok("server/backup", {}) == {"success": True}
    assert sandbox.backup_dir is not None
    files = sorted(sandbox.backup_dir.glob("configuration-*.json"))
    assert len(files) == 2
    text = files[0].read_text()
    assert '"alice"' in text
    assert '"pw"' not in text and "group-pw" not in text
    assert "unknown attribute" in api.fail("server/backup", {"full": True}, 400)


# -- read-only lists ---------------------------------------------------------------------------


def _history(api: Api, **filters: Any) -> list[str]:
    return [h["sessionID"] for h in api.ok("history/list", filters)]


def test_history_filters(api: Api) -> None:
    assert _history(api) == ["H3", "H2", "H1"]
    assert _history(api, maxResults=2) == ["H3", "H2"]
    assert _history(api, rangeStart=2000) == ["H3", "H2"]
    assert _history(api, rangeEnd=2000) == ["H1"]
    assert _history(api, rangeStart=4000, rangeLastModified=True) == ["H1"]
    assert _history(api, textFilter="PRINTER") == ["H1"]
    assert _history(api, technicianNameFilters=["bob"]) == ["H2"]
    assert _history(api, groupFilters=[ADMINS]) == ["H2"]
    assert _history(api, machineIDFilters=["SG_1"]) == ["H1"]
    assert _history(api, includeSupportSessions=False, includePresentationSessions=False) == ["H1"]
    assert _history(api, searchUntilSessionID="H1") == ["H3", "H2"]
    assert "maxResults" in api.fail("history/list", {"maxResults": -1}, 400)
    assert "rangeStart" in api.fail("history/list", {"rangeStart": "0"}, 400)


def test_seeded_lists(api: Api) -> None:
    assert api.ok("alerts/list")[0]["name"] == "Low disk"
    assert api.ok("support/queue/list")[0]["sessionID"] == "Q1"
    assert api.ok("support/sessions/list")[0]["sessionID"] == "S1"
    assert api.ok("access/sessions/list")[0]["sessionID"] == "A1"
    for query in (
        "alerts/list",
        "support/queue/list",
        "support/sessions/list",
        "access/sessions/list",
    ):
        assert "unknown attribute" in api.fail(query, {"x": 1}, 400)


# -- protocol --------------------------------------------------------------------


def test_get_and_post_both_work(api: Api) -> None:
    assert api.call("technicians/list", method="GET").status_code == 200
    assert api.call("technicians/list", method="POST").status_code == 200


def test_body_must_be_a_strict_json_object(api: Api) -> None:
    for raw in (b"{username: 'x'}", b"[1, 2]", b'"text"', b'{"a": NaN}', b"\xff"):
        resp = api.session.post(api.url("technicians/get"), data=raw, timeout=5)
        assert resp.status_code == 400, raw
        assert resp.json()["success"] is False
        assert resp.headers["Content-Type"] == "application/json"


def test_wrong_token_and_unknown_query(sandbox: Sandbox, api: Api) -> None:
    wrong = Api(sandbox, token="not-the-token")
    assert "token" in wrong.fail("technicians/list", None, 401)
    assert "technicians/frobnicate" in api.fail("technicians/frobnicate", None, 404)
    assert api.session.get(f"{sandbox.url}/elsewhere", timeout=5).status_code == 404
