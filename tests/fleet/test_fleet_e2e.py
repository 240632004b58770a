"""Three sandboxes from one repository: plan, apply, a failing server, saved plan folders."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from tests.fleet.conftest import Fleet

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas/plan.schema.json").read_text(encoding="utf-8")
)

SHARED = """\
version: 1
server:
  hostname: ${var:hostname}
groups:
  - name: Helpdesk
    permissions: {canRunTools: true}
technicians:
  - username: alice
    displayName: Alice (${var:site})
    groups: [Helpdesk]
"""
OVERLAY = """\
version: 1
groups:
  - name: Helpdesk
    permissions: {canUseChat: false}
technicians:
  - username: prod-only
    groups: [Helpdesk]
"""
VARS = {
    "prod": "vars: {hostname: support.example.com, site: LON}\nmanifests: [overlays/prod/]",
    "dr": "vars: {hostname: dr.example.com, site: LON}",
    "staging": "vars: {hostname: staging.example.com, site: TEST}",
}


def _layout(fleet: Fleet) -> None:
    fleet.write("manifests/org.yaml", SHARED)
    fleet.write("overlays/prod/extra.yaml", OVERLAY)
    fleet.project(VARS)


def test_plan_and_apply_the_whole_fleet(fleet: Fleet) -> None:
    _layout(fleet)
    checked = fleet("validate")
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.count("Valid:") == 3
    planned = fleet("plan", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    for name in ("prod", "dr", "staging"):
        assert f"=== server {name} ({fleet.servers[name].url}) ===" in planned.stdout
    refused = fleet("apply", "--auto-approve")
    assert refused.exit_code == 1 and "--all-servers" in refused.stderr
    unasked = fleet("apply", "--all-servers")  # stdin is not a terminal: nobody to ask
    assert unasked.exit_code == 1 and "pass --auto-approve" in unasked.stderr
    assert all(not [c for c in s.calls if c.write] for s in fleet.servers.values())
    assert "=== server staging" in unasked.stdout  # the plans were shown first
    applied = fleet("apply", "--all-servers", "--auto-approve", "--parallel-servers", "2")
    assert applied.exit_code == 0, applied.output
    assert fleet.hostname("prod") == "support.example.com"
    assert fleet.hostname("staging") == "staging.example.com"
    assert "prod-only" in fleet.technicians("prod")
    assert "prod-only" not in fleet.technicians("dr")
    for name in ("prod", "dr", "staging"):
        assert (fleet.root / f".shcfg/journal-{name}.jsonl").is_file()
    again = fleet("plan", "--detailed-exitcode", "--format", "json")
    assert again.exit_code == 0, again.output
    plans = json.loads(again.stdout)["servers"]
    assert set(plans) == {"prod", "dr", "staging"}
    assert all(p["summary"] == {"create": 0, "update": 0, "delete": 0} for p in plans.values())
    for token in ("prod-token-canary-5e1f0c", "dr-token-canary-5e1f0c"):
        assert token not in applied.output + again.output + planned.output


def test_one_server_failing_does_not_stop_the_others(fleet: Fleet) -> None:
    _layout(fleet)
    result = fleet(
        "apply", "--all-servers", "--auto-approve", env={"DR_TOKEN": "wrong-token-canary-77"}
    )
    assert result.exit_code == 1
    assert result.stderr.count("Error: [dr]") == 1  # said once, not again after the apply
    assert f"=== server dr ({fleet.servers['dr'].url}) ===" in result.stdout
    assert "alice" in fleet.technicians("prod") and "alice" in fleet.technicians("staging")
    assert "alice" not in fleet.technicians("dr")
    table = result.stdout[result.stdout.index("status") :]
    assert "dr" in table and "FAILED" in table
    assert "wrong-token-canary-77" not in result.output


def test_fail_fast_leaves_the_rest_not_attempted(fleet: Fleet) -> None:
    _layout(fleet)
    fleet.servers["dr"].close()
    result = fleet(
        "apply", "--all-servers", "--auto-approve", "--fail-fast", "--parallel-servers", "1"
    )
    assert result.exit_code == 1
    table = result.stdout[result.stdout.index("status") :]
    assert "dr                  FAILED" in table
    assert "prod                not attempted" in table
    assert "staging             not attempted" in table
    assert "alice" not in fleet.technicians("staging") | fleet.technicians("prod")


def test_server_selection_and_markdown(fleet: Fleet) -> None:
    _layout(fleet)
    only = fleet("plan", "--server", "dr", "--format", "markdown")
    assert only.exit_code == 0, only.output
    assert "## Server `dr`" in only.stdout and "prod" not in only.stdout
    assert len(only.stdout) < 60_000
    url = fleet("plan", "--url", fleet.servers["dr"].url)
    assert url.exit_code == 1 and "--url: with servers: in" in url.stderr
    unknown = fleet("plan", "--server", "nope")
    assert unknown.exit_code == 1 and "known servers are prod, dr, staging" in unknown.stderr


def test_saved_plan_directory_applies_each_to_its_own_server(fleet: Fleet) -> None:
    _layout(fleet)
    saved = fleet("plan", "--out", "plans")
    assert saved.exit_code == 0, saved.output
    assert sorted(p.name for p in (fleet.root / "plans").iterdir()) == [
        "dr.json",
        "prod.json",
        "staging.json",
    ]
    applied = fleet(
        "apply", "--server", "prod", "--server", "dr", "--plan", "plans", "--auto-approve"
    )
    assert applied.exit_code == 0, applied.output
    assert "prod-only" in fleet.technicians("prod")
    assert fleet.hostname("dr") == "dr.example.com"
    assert "alice" not in fleet.technicians("staging")
    # A plan is bound to its server: prod's plan does not apply to dr.
    (fleet.root / "plans/dr.json").write_bytes((fleet.root / "plans/prod.json").read_bytes())
    swapped = fleet("apply", "--server", "dr", "--plan", "plans", "--auto-approve")
    assert swapped.exit_code == 1 and "Error: [dr]" in swapped.stderr


def test_fleet_json_plan_matches_the_schema(fleet: Fleet) -> None:
    _layout(fleet)
    result = fleet("plan", "--format", "json", env={"STAGING_TOKEN": "wrong-token-canary-99"})
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    jsonschema.validate(data, SCHEMA)
    assert data["servers"]["prod"]["summary"]["create"] == 3
    assert "error" in data["servers"]["staging"]
    assert "wrong-token-canary-99" not in result.output


def test_validate_checks_every_servers_set_and_skips_secrets_when_asked(fleet: Fleet) -> None:
    _layout(fleet)
    fleet.write(
        "overlays/prod/pw.yaml",
        "version: 1\ntechnicians:\n  - username: x\n    password: ${env:X_PW}\n",
    )
    fleet.write("manifests/more.yaml", "version: 1\ntechnicians:\n  - username: ${var:site}-desk\n")
    missing = fleet("validate")
    assert missing.exit_code == 1
    assert "Error: [prod]" in missing.stderr and "X_PW" in missing.stderr
    assert "[dr] Valid:" in missing.stdout
    assert fleet("validate", "--skip-secrets").exit_code == 0
    fleet.write("overlays/prod/twice.yaml", "version: 1\ntechnicians:\n  - username: prod-only\n")
    twice = fleet("validate", "--server", "prod", "--skip-secrets")
    assert twice.exit_code == 1
    assert (
        "overlays/prod/twice.yaml:3:5: technician 'prod-only' already declared at" in twice.stderr
    )


def test_a_server_whose_token_variable_is_unset_fails_alone(fleet: Fleet) -> None:
    _layout(fleet)
    result = fleet("apply", "--all-servers", "--auto-approve", env={"DR_TOKEN": ""})
    assert result.exit_code == 1
    assert "Error: [dr] server dr: environment variable DR_TOKEN is not set" in result.stderr
    assert "alice" in fleet.technicians("prod") and "alice" in fleet.technicians("staging")
    planned = fleet("plan", "--format", "json", env={"DR_TOKEN": ""})
    assert json.loads(planned.stdout)["servers"]["dr"] == {
        "error": "server dr: environment variable DR_TOKEN is not set"
    }
