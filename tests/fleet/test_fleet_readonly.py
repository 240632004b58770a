"""doctor, audit and export per server of shcfg.yaml: grouped, each with its own token."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.audit.sarif import validate_sarif
from tests.fleet.conftest import Fleet

ROOT = Path(__file__).resolve().parents[2]


def test_doctor_runs_per_server_with_its_own_token(fleet: Fleet) -> None:
    fleet.write("manifests/a.yaml", "version: 1\n")
    fleet.project()
    result = fleet("doctor")
    assert result.exit_code == 0, result.output
    for name in ("prod", "dr", "staging"):
        assert f"=== server {name} ({fleet.servers[name].url}) ===" in result.stdout
    broken = fleet("doctor", "--server", "dr", env={"DR_TOKEN": "wrong-token-canary-31"})
    assert broken.exit_code == 1
    assert "=== server prod" not in broken.stdout
    assert "wrong-token-canary-31" not in broken.output


def test_audit_per_server_and_an_unset_token_variable(fleet: Fleet) -> None:
    fleet.write("manifests/a.yaml", "version: 1\n")
    fleet.project()
    result = fleet("audit", "--server", "prod", "--server", "staging")
    assert result.exit_code in (0, 2), result.output
    assert "=== server prod" in result.stdout and "=== server staging" in result.stdout
    unset = fleet("audit", env={"STAGING_TOKEN": ""})
    assert unset.exit_code == 1
    assert "Error: [staging] server staging: environment variable STAGING_TOKEN is not set" in (
        unset.stderr
    )
    assert "=== server prod" in unset.stdout  # the others still ran


def test_export_needs_a_choice_and_writes_one_folder_per_server(fleet: Fleet) -> None:
    fleet.write("manifests/a.yaml", "version: 1\n")
    fleet.project()
    refused = fleet("export", "--out", "exported")
    assert refused.exit_code == 1 and "--all-servers" in refused.stderr
    result = fleet("export", "--all-servers", "--out", "exported", "--no-machines")
    assert result.exit_code == 0, result.output
    for name in ("prod", "dr", "staging"):
        assert any((fleet.root / "exported" / name).glob("*.yaml"))


def test_doctor_json_is_one_document_for_every_server(fleet: Fleet) -> None:
    fleet.write("manifests/a.yaml", "version: 1\n")
    fleet.project()
    result = fleet("doctor", "--format", "json", env={"STAGING_TOKEN": ""})
    assert result.exit_code == 1
    document = json.loads(result.stdout)  # one document, not one per server
    assert list(document["servers"]) == ["prod", "dr", "staging"]
    assert document["servers"]["prod"]["ok"] is True
    assert "STAGING_TOKEN is not set" in document["servers"]["staging"]["error"]


def test_audit_json_and_sarif_are_one_document_for_every_server(fleet: Fleet) -> None:
    fleet.write("manifests/a.yaml", "version: 1\n")
    fleet.project()
    schema = json.loads((ROOT / "schemas" / "audit.schema.json").read_text(encoding="utf-8"))
    result = fleet("audit", "--format", "json", env={"DR_TOKEN": ""})
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema)
    assert document["servers"]["prod"]["server"] == fleet.servers["prod"].url
    assert "DR_TOKEN is not set" in document["servers"]["dr"]["error"]
    sarif = fleet("audit", "--format", "sarif", env={"DR_TOKEN": ""})
    log = json.loads(sarif.stdout)
    validate_sarif(log)
    runs = log["runs"]
    assert [r["automationDetails"]["id"] for r in runs] == [
        "shcfg-audit/prod/",
        "shcfg-audit/dr/",
        "shcfg-audit/staging/",
    ]
    assert runs[0]["properties"]["server"] == fleet.servers["prod"].url
    assert runs[1]["invocations"][0]["executionSuccessful"] is False


def test_audit_manifests_audits_each_servers_resulting_set(fleet: Fleet) -> None:
    fleet.write(
        "manifests/a.yaml",
        """\
        version: 1
        groups:
          - name: ${var:team}
            allowAnonymousLogins: false
            mfaSettings: {app: true, email: false}
        """,
    )
    fleet.write(
        "overlays/prod/open.yaml",
        """\
        version: 1
        groups:
          - name: Kiosk
            allowAnonymousLogins: true
            mfaSettings: {app: true}
        """,
    )
    fleet.project(
        {
            "prod": "vars: {team: Prod}\nmanifests: [overlays/prod/]",
            "dr": "vars: {team: DR}",
            "staging": "vars: {team: Staging}",
        }
    )
    result = fleet("audit", "--manifests", "manifests/", "--format", "json", "--fail-on", "low")
    document = json.loads(result.stdout)
    servers = document["servers"]
    assert result.exit_code == 2, result.output
    prod = {(f["rule"], f["object"]) for f in servers["prod"]["findings"]}
    assert ("SH002", "Kiosk") in prod  # the overlay's group, at its file and line
    kiosk = next(f for f in servers["prod"]["findings"] if f["object"] == "Kiosk")
    assert kiosk["place"]["file"].endswith("open.yaml") and kiosk["place"]["line"] == 3
    assert not any(f["object"] == "Kiosk" for f in servers["dr"]["findings"])
    assert all(s["server"] is None for s in servers.values())  # offline: no server read
    assert all(not sb.calls for sb in fleet.servers.values())
    one = fleet("audit", "--manifests", "manifests/", "--server", "dr")
    assert one.exit_code == 0, one.output
    assert "=== server dr ===" in one.stdout and "=== server prod" not in one.stdout
