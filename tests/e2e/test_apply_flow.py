"""Apply's contract: confirmation, backup first, dependency order, stop on first failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.sandbox import Sandbox, SandboxConfig
from tests.e2e.conftest import TOKEN, Shcfg

MANIFEST = """\
version: 1
groups:
  - name: Ops
    permissions: {canRunTools: true, canFly: true}
technicians:
  - username: alice
    groups: [Ops]
"""


def test_refuses_without_terminal_or_auto_approve(shcfg: Shcfg) -> None:
    result = shcfg("apply", str(shcfg.manifest(MANIFEST)), stdin="yes\n")
    assert result.exit_code == 1
    assert "--auto-approve" in result.stderr
    assert shcfg.writes() == []


def test_backup_failure_stops_before_any_write(tmp_path: Path) -> None:
    config = SandboxConfig(token=TOKEN, data_dir=tmp_path / "s", backup_query="server/elsewhere")
    with Sandbox(config) as server:
        work = tmp_path / "w"
        work.mkdir()
        shcfg = Shcfg(server, work)
        result = shcfg("apply", str(shcfg.manifest(MANIFEST)), "--auto-approve")
        assert result.exit_code == 1
        assert "configuration backup failed, nothing was changed" in result.stderr
        assert shcfg.writes() == []
        assert [c.status for c in server.calls if c.query == "server/backup"] == [404]
        shcfg.sandbox.reset_calls()
        skipped = shcfg(
            "apply",
            str(shcfg.manifest(MANIFEST.replace(", canFly: true", ""))),
            "--auto-approve",
            "--no-backup",
        )
        assert skipped.exit_code == 0
        assert "--no-backup" in skipped.stderr
        assert "server/backup" not in shcfg.writes()


def test_first_failure_stops_reports_and_rerun_converges(shcfg: Shcfg) -> None:
    path = shcfg.manifest(MANIFEST)
    result = shcfg("apply", str(path), "--auto-approve")
    assert result.exit_code == 1
    # The server had no group to name its permissions: apply checks the new group's.
    assert "groups \"Ops\": FAILED: group 'Ops': unknown permission 'canFly'" in result.stdout
    assert "canFly" in result.stdout
    assert "0 applied, 1 failed, 1 not attempted" in result.stdout
    assert 'not attempted: create technicians "alice"' in result.stderr
    assert "technicians/new" not in shcfg.writes()
    journal = [
        json.loads(line)
        for line in (shcfg.workdir / ".shcfg/journal.jsonl").read_text().splitlines()
    ]
    assert [e["event"] for e in journal][:3] == ["start", "backup", "intent"]
    assert any(e["event"] == "failed" and "canFly" in e["reason"] for e in journal)
    fixed = shcfg.manifest(MANIFEST.replace(", canFly: true", ""))
    assert shcfg("apply", str(fixed), "--auto-approve").exit_code == 0
    assert shcfg("plan", str(fixed), "--detailed-exitcode").exit_code == 0
    assert len(shcfg.groups()) == 1


def test_usage_errors_exit_1_not_2(shcfg: Shcfg) -> None:
    assert shcfg("plan", "--no-such-flag").exit_code == 1
    assert shcfg("plan", "--format", "yaml", "x.yaml").exit_code == 1
    assert shcfg("nonsense").exit_code == 1


def test_connection_options_before_or_after_subcommand(
    shcfg_seeded: Callable[[dict[str, Any]], Shcfg],
) -> None:
    shcfg = shcfg_seeded({})
    path = shcfg.manifest("version: 1\n")
    env = {"SIMPLEHELP_URL": "http://127.0.0.1:9"}
    before = shcfg("--url", shcfg.sandbox.url, "plan", str(path), env=env)
    after = shcfg("plan", str(path), "--url", shcfg.sandbox.url, env=env)
    assert before.exit_code == 0 and after.exit_code == 0, before.output + after.output
    missing = shcfg("plan", str(path), env={"SIMPLEHELP_URL": "", "SIMPLEHELP_API_TOKEN": ""})
    assert missing.exit_code == 1
    assert "SIMPLEHELP" in missing.stderr


def _apply_on_a_terminal(shcfg: Shcfg, path: Path, answer: str) -> subprocess.CompletedProcess[str]:
    """Run apply with a pseudo-terminal as stdin, answering its confirmation prompt."""
    primary, secondary = os.openpty()
    try:
        os.write(primary, answer.encode() + b"\n")
        return subprocess.run(
            [sys.executable, "-m", "reconciler", "apply", str(path)],
            stdin=secondary,
            capture_output=True,
            text=True,
            env={**os.environ, **shcfg.env},
            cwd=shcfg.workdir,
            timeout=60,
            check=False,
        )
    finally:
        os.close(primary)
        os.close(secondary)


def test_terminal_confirmation_yes_applies_anything_else_cancels(shcfg: Shcfg) -> None:
    path = shcfg.manifest(MANIFEST.replace(", canFly: true", ""))
    refused = _apply_on_a_terminal(shcfg, path, "y")
    assert refused.returncode == 1
    assert "apply cancelled" in refused.stderr
    assert shcfg.writes() == []
    accepted = _apply_on_a_terminal(shcfg, path, "yes")
    assert accepted.returncode == 0, accepted.stderr
    assert "Only 'yes' will be accepted: " in accepted.stdout
    assert "[]" not in accepted.stdout  # no empty default shown after the question
    assert "Apply complete: 2 applied" in accepted.stdout
    assert set(shcfg.technicians()) == {"alice"}
