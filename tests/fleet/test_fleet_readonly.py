"""doctor, audit and export per server of shcfg.yaml: grouped, each with its own token."""

from __future__ import annotations

from tests.fleet.conftest import Fleet


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
