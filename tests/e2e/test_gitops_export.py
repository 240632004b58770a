"""Export, round trip and disaster recovery, through the CLI against sandboxes."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from reconciler.sandbox import Sandbox, SandboxConfig
from reconciler.sandbox.schema import PERMISSIONS
from tests.e2e.conftest import TOKEN, Shcfg

GROUP_PASSWORD = "group-secret-5521"
VIDEO_PASSWORD = "video-secret-8812"
ALICE_PASSWORD = "alice-secret-1931"

MACHINES: list[dict[str, Any]] = [
    {
        "machineID": "SG_1",
        "name": "Front desk",
        "groups": ["United Kingdom", "London"],
        "monitoringEnabled": True,
        "notes": "Front desk\nsecond line: ${not a reference}",
        "warnings": "Do not reboot",
        "properties": {"License": "ABC-123", "Asset": "A-1"},
    },
    {"machineID": "SG_2", "name": "Paris", "groups": ["France", "Paris"], "properties": {}},
    {
        "machineID": "SG_3",
        "name": "Manchester",
        "groups": ["United Kingdom", "Manchester"],
        "properties": {"License": "XYZ"},
    },
]

#: Every kind and attribute shcfg manages, plus accounts it never manages.
RICH: dict[str, Any] = {
    "hostname": "support.example.com",
    "techRestrictions": ["192\\.168\\.1\\..*", "10\\.0\\..*"],
    "groups": [
        {
            "name": "Helpdesk",
            "max_groupShSessions": 10,
            "max_userSgSessions": 3,
            "maxFileSize": 104857600,
            "requestAccessTimeout": 30,
            "groupSpecificHostname": "help.example.com",
            "defaultSgServiceName": "Remote",
            "sessionSpeedLimitKbps": 512,
            "ldapSettings": {
                "enabled": True,
                "advanced": True,
                "baseDN": "dc=example,dc=com",
                "filter": "(objectClass=person)",
                "memberOfGroups": ["cn=b", "cn=a"],
            },
            "mfaSettings": {
                "app": True,
                "rememberMachine": True,
                "emailCodeLength": 8,
                "emailSubject": "Code ${code}",
                "emailBody": "Your code",
            },
            "passwordSettings": {"requireDigits": True, "minLength": "12"},
            "permissions": {"canRunTools": True, "canUseChat": True},
            "password": GROUP_PASSWORD,
            "videoPassword": VIDEO_PASSWORD,
        },
        {"name": "Tier 2", "allowAnonymousLogins": True, "fpsDelay": 5},
        {"name": "Empty | group `x`"},
    ],
    "technicians": [
        {
            "username": "alice",
            "displayName": "Alice Smith",
            "emailAddress": "alice@example.com",
            "groups": ["Helpdesk", "Tier 2"],
            "password": ALICE_PASSWORD,
        },
        {
            "username": "bob",
            "displayName": "Bob",
            "enabled": False,
            "allowLocallyAuthenticatedLogins": False,
            "groups": ["Tier 2"],
        },
        {"username": "guest-1", "isAnonymous": True},
        {"username": "app-1", "appProfilesUser": True},
    ],
    "machines": MACHINES,
    "machineGroups": [
        {"path": ["United Kingdom"], "properties": {"country": "GB"}},
        {"path": ["United Kingdom", "London"], "properties": {"site": "LON", "tier": "1"}},
        {"path": ["France", "Paris"], "properties": {"site": "PAR"}},
    ],
}
SECRETS = {"SHCFG_GROUP_HELPDESK_VIDEO_PASSWORD": VIDEO_PASSWORD}
FILES = ["server.yaml", "groups.yaml", "technicians.yaml", "machines.yaml", "machine-groups.yaml"]


def _server(tmp_path: Path, name: str, seed: dict[str, Any]) -> Iterator[Sandbox]:
    config = SandboxConfig(token=TOKEN, data_dir=tmp_path / name, seed=seed)
    with Sandbox(config) as server:
        yield server


@pytest.fixture
def rich(tmp_path: Path) -> Iterator[Shcfg]:
    for server in _server(tmp_path, "a", RICH):
        work = tmp_path / "work-a"
        work.mkdir()
        yield Shcfg(server, work)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Shcfg]:
    """A new server: only what the machines' agents register, nothing configured."""
    agents = [
        {k: v for k, v in m.items() if k in ("machineID", "name", "groups")} for m in MACHINES
    ]
    for server in _server(tmp_path, "b", {"machines": agents}):
        work = tmp_path / "work-b"
        work.mkdir()
        yield Shcfg(server, work)


def _export(cli: Shcfg, *extra: str) -> Path:
    out = cli.workdir / "exported"
    result = cli("export", "--out", str(out), *extra)
    assert result.exit_code == 0, result.output
    return out


def test_export_writes_one_sorted_file_per_kind_without_secrets(rich: Shcfg) -> None:
    out = _export(rich)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    yaml = YAML(typ="safe")
    docs = {name: yaml.load((out / name).read_text()) for name in FILES}
    assert all(doc["version"] == 1 for doc in docs.values())
    assert [g["name"] for g in docs["groups.yaml"]["groups"]] == [
        "Empty | group `x`",
        "Helpdesk",
        "Tier 2",
    ]
    assert [t["username"] for t in docs["technicians.yaml"]["technicians"]] == ["alice", "bob"]
    restrictions = docs["server.yaml"]["server"]["techRestrictions"]
    assert restrictions == sorted(RICH["techRestrictions"])
    helpdesk = docs["groups.yaml"]["groups"][1]
    assert helpdesk["videoPassword"] == "${env:SHCFG_GROUP_HELPDESK_VIDEO_PASSWORD}"
    assert "password" not in helpdesk
    assert helpdesk["mfaSettings"]["emailSubject"] == "Code $${code}"
    assert docs["machine-groups.yaml"]["machineGroups"][0]["path"] == ["France", "Paris"]
    text = "".join((out / name).read_text() for name in FILES)
    for secret in (GROUP_PASSWORD, VIDEO_PASSWORD, ALICE_PASSWORD, TOKEN):
        assert secret not in text
    technicians = (out / "technicians.yaml").read_text()
    assert f"# shcfg export: technicians of {rich.sandbox.url}" in technicians
    assert "app-1 (appProfilesUser), guest-1 (isAnonymous)" in technicians
    assert "SHCFG_TECH_ALICE_PASSWORD  (alice)" in technicians
    assert "SHCFG_GROUP_HELPDESK_PASSWORD  (Helpdesk)" in (out / "groups.yaml").read_text()


def test_export_lists_placeholders_and_makes_no_write(rich: Shcfg) -> None:
    rich.sandbox.reset_calls()
    result = rich("export", "--out", "exported")
    assert result.exit_code == 0, result.output
    assert "SHCFG_GROUP_HELPDESK_VIDEO_PASSWORD" in result.stdout
    assert rich.writes() == []
    written = sorted(p.name for p in (rich.workdir / "exported").iterdir())
    assert written == sorted(FILES)


def test_export_without_machines_reads_no_machine(rich: Shcfg) -> None:
    rich.sandbox.reset_calls()
    result = rich("export", "--out", "exported", "--no-machines")
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in (rich.workdir / "exported").iterdir())
    assert written == ["groups.yaml", "server.yaml", "technicians.yaml"]
    assert not [c.query for c in rich.sandbox.calls if c.query.startswith("machine")]


def test_export_reads_each_answer_once(rich: Shcfg) -> None:
    """The kinds' reads, not a second reader: one machines/list shared by machines and
    machine groups, notes and properties batched, one permissions read per group."""
    rich.sandbox.reset_calls()
    assert rich("export", "--out", "exported").exit_code == 0
    queries = [c.query for c in rich.sandbox.calls]
    assert queries.count("machines/list") == 1
    assert queries.count("machines/notes/get") == 1
    assert queries.count("machines/properties/get") == 1
    assert queries.count("groups/permissions/get") == len(RICH["groups"])


def test_export_is_stable_apart_from_the_timestamp(rich: Shcfg) -> None:
    first = {n: (_export(rich) / n).read_text() for n in FILES}
    second = {n: (_export(rich) / n).read_text() for n in FILES}

    def strip(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.startswith("# written ")]

    assert {n: strip(t) for n, t in first.items()} == {n: strip(t) for n, t in second.items()}


def test_export_then_plan_shows_no_changes(rich: Shcfg) -> None:
    out = _export(rich)
    assert rich("validate", str(out), env=SECRETS).exit_code == 0
    rich.sandbox.reset_calls()
    result = rich("plan", str(out), "--detailed-exitcode", env=SECRETS)
    assert result.exit_code == 0, result.output
    assert "No changes." in result.stdout
    assert rich.writes() == []


def _configuration(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A server's configuration with IDs mapped to names.

    Left out: write-only password hashes (never readable, so never exported) and the
    accounts shcfg never manages (anonymous and app-profile technicians).
    """
    groups = {g["obj"]["uniqueID"]: g["obj"]["name"] for g in snapshot["groups"]}
    techs = {}
    for tech in snapshot["technicians"]:
        obj = copy.deepcopy(tech["obj"])
        if obj["isAnonymous"] or obj["appProfilesUser"]:
            continue
        obj.pop("uniqueID")
        obj["groupIDs"] = sorted(groups[i] for i in obj["groupIDs"])
        techs[obj["username"]] = obj
    group_config = {}
    for group in snapshot["groups"]:
        obj = {k: v for k, v in group["obj"].items() if k != "uniqueID"}
        held = group["permissions"]
        obj["permissions"] = {p: held.get(p, False) for p in PERMISSIONS}
        group_config[obj["name"]] = obj
    return {
        "hostname": snapshot["hostname"],
        "techRestrictions": sorted(snapshot["techRestrictions"]),
        "groups": group_config,
        "technicians": techs,
        "machines": {m["obj"]["machineID"]: m for m in snapshot["machines"]},
        "machineGroups": {tuple(g["path"]): g["properties"] for g in snapshot["machineGroups"]},
    }


def test_disaster_recovery_rebuilds_the_configuration_on_a_fresh_server(
    rich: Shcfg, fresh: Shcfg
) -> None:
    out = _export(rich)
    assert _configuration(rich.sandbox.snapshot()) != _configuration(fresh.sandbox.snapshot())
    applied = fresh("apply", str(out), "--auto-approve", env=SECRETS)
    assert applied.exit_code == 0, applied.output
    assert "0 failed" in applied.stdout
    assert _configuration(rich.sandbox.snapshot()) == _configuration(fresh.sandbox.snapshot())
    again = fresh("plan", str(out), "--detailed-exitcode", env=SECRETS)
    assert again.exit_code == 0, again.output
    for secret in (VIDEO_PASSWORD, GROUP_PASSWORD, ALICE_PASSWORD, TOKEN):
        assert secret not in applied.output + again.output
