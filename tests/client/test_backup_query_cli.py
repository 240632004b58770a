"""`--backup-query` and SIMPLEHELP_BACKUP_QUERY, end to end against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox import Sandbox, SandboxConfig
from tests.e2e.conftest import TOKEN, Shcfg

MANIFEST = """\
version: 1
server:
  hostname: new.example.com
"""


@pytest.fixture
def shcfg(tmp_path: Path) -> Iterator[Shcfg]:
    config = SandboxConfig(token=TOKEN, data_dir=tmp_path / "s", backup_query="admin/backup-now")
    with Sandbox(config) as server:
        work = tmp_path / "w"
        work.mkdir()
        yield Shcfg(server, work)


def backups(shcfg: Shcfg) -> list[tuple[str, int]]:
    return [(c.query, c.status) for c in shcfg.sandbox.calls if "backup" in c.query]


def test_unknown_backup_query_stops_and_names_both_settings(shcfg: Shcfg) -> None:
    result = shcfg("apply", str(shcfg.manifest(MANIFEST)), "--auto-approve")
    assert result.exit_code == 1
    assert "configuration backup failed, nothing was changed" in result.stderr
    assert "--backup-query PATH or SIMPLEHELP_BACKUP_QUERY" in result.stderr
    assert TOKEN not in result.output
    assert backups(shcfg) == [("server/backup", 404)]
    assert shcfg.writes() == []
    assert shcfg.sandbox.snapshot()["hostname"] != "new.example.com"


@pytest.mark.parametrize("how", ["option", "environment"])
def test_backup_query_option_and_environment(shcfg: Shcfg, how: str) -> None:
    args = ["apply", str(shcfg.manifest(MANIFEST)), "--auto-approve"]
    env = {}
    if how == "option":
        args += ["--backup-query", "admin/backup-now"]
    else:
        env["SIMPLEHELP_BACKUP_QUERY"] = "admin/backup-now"
    result = shcfg(*args, env=env)
    assert result.exit_code == 0, result.output
    assert backups(shcfg) == [("admin/backup-now", 200)]
    assert shcfg.sandbox.snapshot()["hostname"] == "new.example.com"
