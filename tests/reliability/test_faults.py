"""Faults on the wire: seeded runs converge; a write of unknown outcome is read back first."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from reconciler.sandbox.faults import Fault
from tests.reliability.conftest import MakeShcfg, ScriptedFaults
from tools.soak import run_once

ONE_TECH = """\
version: 1
technicians:
  - username: alice
    displayName: Alice Smith
    password: ${env:ALICE_PW}
"""
ENV = {"ALICE_PW": "alice-canary-pw-0042"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_seeded_apply_through_faults_converges(tmp_path: Path, seed: int) -> None:
    report = run_once(seed, tmp_path)
    assert sum(report.faults.values()) > 0
    assert report.converged, report.last_output
    assert report.duplicates == []
    assert report.mismatches == []
    assert report.leaks == []


def _journal(workdir: Path) -> list[dict[str, object]]:
    lines = (workdir / ".shcfg" / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


@pytest.mark.parametrize(
    ("fault", "sends"),
    [
        (Fault("reset", commit_first=True), 1),
        (Fault("reset", commit_first=False), 2),
        (Fault("500"), 2),
        (Fault("html"), 2),
    ],
)
def test_unknown_outcome_is_read_back_before_any_resend(
    make_shcfg: MakeShcfg, fault: Fault, sends: int
) -> None:
    shcfg = make_shcfg()
    # Write 1 is the backup, write 2 the create.
    shcfg.sandbox.faults = ScriptedFaults([None, fault])  # type: ignore[assignment]
    result = shcfg("apply", str(shcfg.manifest(ONE_TECH)), "--auto-approve", env=ENV)
    assert result.exit_code == 0, result.output
    queries = Counter(c.query for c in shcfg.sandbox.calls)
    assert queries["technicians/new"] == sends
    techs = shcfg.sandbox.snapshot()["technicians"]
    assert [t["obj"]["username"] for t in techs] == ["alice"]
    assert techs[0]["passwordSet"] is True
    assert techs[0]["obj"]["displayName"] == "Alice Smith"
    assert "resolve" in [e["event"] for e in _journal(shcfg.workdir)]
    assert shcfg("plan", str(shcfg.workdir / "manifest.yaml"), env=ENV).exit_code == 0


def test_read_timeout_of_a_committed_write_is_resolved(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg(fault_timeout_s=30)
    shcfg.sandbox.faults = ScriptedFaults(  # type: ignore[assignment]
        [None, Fault("timeout", commit_first=True)]
    )
    path = shcfg.manifest(ONE_TECH)
    result = shcfg("apply", str(path), "--auto-approve", "--timeout", "0.3", env=ENV)
    assert result.exit_code == 0, result.output
    # The timed-out create is still hanging in the sandbox (logged only when it ends): no
    # other create reached it, so the client read the first one back instead of resending.
    assert Counter(c.query for c in shcfg.sandbox.calls)["technicians/new"] == 0
    assert [t["passwordSet"] for t in shcfg.sandbox.snapshot()["technicians"]] == [True]
    assert shcfg("plan", str(path), "--detailed-exitcode", env=ENV).exit_code == 0


def test_backup_of_unknown_outcome_is_asked_again_then_fails_before_any_change(
    make_shcfg: MakeShcfg,
) -> None:
    shcfg = make_shcfg()
    shcfg.sandbox.faults = ScriptedFaults([Fault("500")] * 5)  # type: ignore[assignment]
    result = shcfg("apply", str(shcfg.manifest(ONE_TECH)), "--auto-approve", env=ENV)
    assert result.exit_code == 1
    assert "configuration backup failed, nothing was changed" in result.stderr
    assert shcfg.writes() == ["server/backup"] * 5
    backups = [e["outcome"] for e in _journal(shcfg.workdir) if e["event"] == "backup"]
    assert backups == ["retry"] * 4 + ["failed"]


def test_unconfirmed_password_is_warned_about_until_rotated(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg()
    # backup and create succeed; every password/set (first try and read-back rounds) fails.
    shcfg.sandbox.faults = ScriptedFaults([None, None] + [Fault("500")] * 6)  # type: ignore[assignment]
    path = shcfg.manifest(ONE_TECH)
    first = shcfg("apply", str(path), "--auto-approve", env=ENV)
    assert first.exit_code == 1
    assert "technicians/password/set: HTTP 500" in first.stdout
    second = shcfg("apply", str(path), "--auto-approve", env=ENV)
    assert second.exit_code == 0
    warning = "an earlier apply did not confirm the password of technicians 'alice'"
    assert warning in second.stderr
    assert shcfg.sandbox.snapshot()["technicians"][0]["passwordSet"] is False
    rotated = shcfg("apply", str(path), "--auto-approve", "--rotate-secrets", env=ENV)
    assert rotated.exit_code == 0, rotated.output
    assert shcfg.sandbox.snapshot()["technicians"][0]["passwordSet"] is True
    assert warning not in shcfg("apply", str(path), "--auto-approve", env=ENV).stderr
