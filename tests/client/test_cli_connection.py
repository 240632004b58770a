"""The CLI's connection settings: `--backup-query` / SIMPLEHELP_BACKUP_QUERY end to end
against the sandbox, and retry notices on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler import cli
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


@pytest.mark.parametrize("terminal", [True, False])
def test_retry_notices_print_on_a_terminal_only(
    terminal: bool, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    cli._retry_notice("groups/list: HTTP 503; retrying (2/5)…")
    err = capsys.readouterr().err
    assert ("retrying (2/5)…" in err) is terminal


def test_make_client_wires_the_retry_notice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIMPLEHELP_API_TOKEN", TOKEN)
    monkeypatch.setenv("SIMPLEHELP_BACKUP_QUERY", "from/env")
    client = cli.make_client({"url": "http://127.0.0.1:9"}, TOKEN)
    assert client._transport._on_retry is cli._retry_notice
    assert client._paths["server/backup"] == "from/env"
    option = cli.make_client({"url": "http://127.0.0.1:9", "backup_query": "from/option"}, TOKEN)
    assert option._paths["server/backup"] == "from/option"
    client.close()
    option.close()
