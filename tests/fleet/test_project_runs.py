"""The project file in plan/apply/validate: its set by default, prune off for part of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli.fleet import Selection, members, server_connection, with_defaults
from reconciler.cli.fleet_run import fleet_options
from reconciler.project import load_project
from tests.e2e.conftest import Shcfg

PEOPLE_A = """\
version: 1
technicians:
  - username: alice
    displayName: Alice
prune:
  technicians: true
"""
PEOPLE_B = """\
version: 1
technicians:
  - username: bob
    displayName: Bob
"""


def _project(shcfg: Shcfg, extra: str = "") -> None:
    shcfg.manifest(PEOPLE_A, "manifests/a.yaml")
    shcfg.manifest(PEOPLE_B, "manifests/b.yaml")
    shcfg.manifest("manifests: [manifests/]\n" + extra, "shcfg.yaml")


def test_no_paths_use_the_project_set(shcfg: Shcfg) -> None:
    _project(shcfg)
    assert shcfg("validate").exit_code == 0
    applied = shcfg("apply", "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert {"alice", "bob"} <= set(shcfg.technicians())
    again = shcfg("plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_one_file_of_the_set_proposes_no_delete_and_says_prune_is_off(shcfg: Shcfg) -> None:
    _project(shcfg)
    assert shcfg("apply", "--auto-approve").exit_code == 0
    part = shcfg("plan", "manifests/a.yaml", "--format", "json")
    assert part.exit_code == 0, part.output
    assert '"delete": 0' in part.stdout
    assert "prune is off: these paths are not the whole manifest set of shcfg.yaml" in part.stdout
    applied = shcfg("apply", "manifests/a.yaml", "--auto-approve")
    assert applied.exit_code == 0 and "bob" in shcfg.technicians()
    # The same file without a project file is its own whole set: bob would go.
    (shcfg.workdir / "shcfg.yaml").unlink()
    alone = shcfg("plan", "manifests/a.yaml", "--format", "json")
    assert '"delete": 1' in alone.stdout


def test_the_whole_set_named_by_paths_keeps_prune(shcfg: Shcfg) -> None:
    _project(shcfg)
    assert shcfg("apply", "--auto-approve").exit_code == 0
    shcfg.manifest("version: 1\nprune: {technicians: true}\n", "manifests/b.yaml")
    whole = shcfg("plan", "manifests", "--format", "json")
    assert '"delete": 1' in whole.stdout
    assert "prune is off" not in whole.stdout


def test_no_paths_and_no_project_file_is_one_clear_error(shcfg: Shcfg) -> None:
    result = shcfg("plan")
    assert result.exit_code == 1
    assert "no manifest given and no shcfg.yaml found in" in result.stderr
    assert "Traceback" not in result.output


def test_project_backup_query_is_a_default_the_option_overrides(shcfg: Shcfg) -> None:
    _project(shcfg, "backupQuery: nosuch/backup\n")
    refused = shcfg("apply", "--auto-approve")
    assert refused.exit_code == 1 and "nosuch/backup" in refused.output
    assert shcfg.writes() == []
    applied = shcfg("apply", "--auto-approve", "--backup-query", "server/backup")
    assert applied.exit_code == 0, applied.output


def test_project_defaults_yield_to_options_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "shcfg.yaml"
    path.write_text("manifests: [m/]\nbackupQuery: a/b\nconcurrency: 3\n", encoding="utf-8")
    project = load_project(path)
    conn: dict[str, str] = {}
    assert with_defaults(project, conn, None) == 3
    assert conn["backup_query"] == "a/b"
    given = {"backup_query": "c/d"}
    assert with_defaults(project, given, 5) == 5
    assert given["backup_query"] == "c/d"
    assert with_defaults(None, {}, None) == 8


def test_a_servers_backup_query_and_ca_bundle_come_from_its_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shcfg.yaml"
    path.write_text(
        "manifests: [m/]\nbackupQuery: project/backup\nservers:\n"
        "  a: {url: 'https://a.example', tokenEnv: A_TOKEN, backupQuery: a/backup,"
        " caBundle: ca.pem}\n"
        "  b: {url: 'https://b.example', tokenEnv: B_TOKEN}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("A_TOKEN", "token-of-a-canary")
    monkeypatch.setenv("B_TOKEN", "token-of-b-canary")
    monkeypatch.delenv("SIMPLEHELP_BACKUP_QUERY", raising=False)
    project = load_project(path)
    conn: dict[str, str] = {}
    with_defaults(project, conn, None)
    own, token = server_connection(project, "a", conn)
    assert (own["backup_query"], own["ca_bundle"], token) == (
        "a/backup",
        str(tmp_path / "ca.pem"),
        "token-of-a-canary",
    )
    assert server_connection(project, "b", conn)[0]["backup_query"] == "project/backup"
    given = {"backup_query": "cli/backup"}
    assert server_connection(project, "a", given)[0]["backup_query"] == "cli/backup"


def test_a_servers_concurrency_comes_from_its_entry_then_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "shcfg.yaml"
    path.write_text(
        "manifests: [m/]\nconcurrency: 5\nservers:\n"
        "  a: {url: 'https://a.example', tokenEnv: A_TOKEN, concurrency: 2}\n"
        "  b: {url: 'https://b.example', tokenEnv: B_TOKEN}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("A_TOKEN", "token-of-a-canary")
    monkeypatch.setenv("B_TOKEN", "token-of-b-canary")
    selection = Selection(load_project(path), ("a", "b"))
    chosen = members(selection, (), {}, None, fleet_options(force=False, rotate_secrets=False))
    assert [m.options.concurrency for m in chosen] == [2, 5]
    given = members(selection, (), {}, 7, fleet_options(force=False, rotate_secrets=False))
    assert [m.options.concurrency for m in given] == [7, 7]  # --concurrency wins
