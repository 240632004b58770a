"""Server hostname and technician IP restrictions end to end."""

from __future__ import annotations

from tests.e2e.conftest import Shcfg

BASE = """\
version: 1
server:
  hostname: support.example.com
  techRestrictions: ['10\\.0\\..*', '192\\.168\\.1\\.5']
"""


def test_hostname_and_restrictions_create_update_no_op(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE)
    plan = shcfg("plan", str(path))
    assert '~ hostname: "old.example.com" -> "support.example.com"' in plan.stdout
    assert '+ techRestrictions "10\\.0\\..*"' in plan.stdout
    assert shcfg("apply", str(path), "--auto-approve").exit_code == 0
    state = shcfg.sandbox.snapshot()
    assert state["hostname"] == "support.example.com"
    assert sorted(state["techRestrictions"]) == ["10\\.0\\..*", "192\\.168\\.1\\.5"]
    assert shcfg.writes().count("server/tech-restrictions/new") == 1
    assert shcfg("plan", str(path), "--detailed-exitcode").exit_code == 0


def test_restrictions_are_a_set_prune_off_keeps_extra(shcfg: Shcfg) -> None:
    assert shcfg("apply", str(shcfg.manifest(BASE)), "--auto-approve").exit_code == 0
    reordered = BASE.replace("['10\\.0\\..*', '192\\.168\\.1\\.5']", "['192\\.168\\.1\\.5']")
    path = shcfg.manifest(reordered)
    plan = shcfg("plan", str(path), "--detailed-exitcode")
    assert plan.exit_code == 0
    assert "prune.techRestrictions is off" in plan.stdout
    pruned = shcfg.manifest(reordered + "prune: {techRestrictions: true}\n")
    plan = shcfg("plan", str(pruned))
    assert '- techRestrictions "10\\.0\\..*"' in plan.stdout
    assert "narrows-ip-restrictions" in plan.stdout
    assert shcfg("apply", str(pruned), "--auto-approve").exit_code == 0
    assert shcfg.sandbox.snapshot()["techRestrictions"] == ["192\\.168\\.1\\.5"]


def test_undeclared_server_settings_are_not_read_or_touched(shcfg: Shcfg) -> None:
    path = shcfg.manifest("version: 1\n")
    result = shcfg("apply", str(path), "--auto-approve")
    assert result.exit_code == 0
    queries = {c.query for c in shcfg.sandbox.calls}
    assert "server/hostname/get" not in queries
    assert "server/tech-restrictions/get" not in queries
    assert shcfg.sandbox.snapshot()["hostname"] == "old.example.com"


def test_invalid_regex_is_a_validation_error(shcfg: Shcfg) -> None:
    path = shcfg.manifest("version: 1\nserver:\n  techRestrictions: ['10\\\\.(']\n")
    result = shcfg("validate", str(path))
    assert result.exit_code == 1
    assert f"{path}:3:" in result.stderr
    assert "Traceback" not in result.output
