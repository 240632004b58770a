"""Interruption: SIGINT stops cleanly (exit 130); SIGKILL anywhere, then a new apply converges."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.e2e.conftest import TOKEN
from tests.reliability.conftest import MakeShcfg

MANIFEST = """\
version: 1
server:
  hostname: support.example.com
  techRestrictions: ['10\\.0\\..*']
groups:
  - name: Helpdesk
    permissions: {canRunTools: true}
    password: ${env:GROUP_PW}
  - name: Admins
technicians:
  - username: alice
    groups: [Helpdesk]
    password: ${env:ALICE_PW}
  - username: bob
    groups: [Admins]
machines:
  - machineID: SG_1
    notes: Front desk
"""
SECRETS = {"GROUP_PW": "group-canary-pw-1212", "ALICE_PW": "alice-canary-pw-3434"}
SEED = {"machines": [{"machineID": "SG_1"}]}


def _start_apply(url: str, workdir: Path, manifest: Path) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        **SECRETS,
        "SIMPLEHELP_URL": url,
        "SIMPLEHELP_API_TOKEN": TOKEN,
        "COLUMNS": "200",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", str(manifest), "--auto-approve"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _events(workdir: Path) -> list[dict[str, object]]:
    path = workdir / ".shcfg" / "journal.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]


def _wait_for_journal(proc: subprocess.Popen[str], workdir: Path, event: str, count: int) -> None:
    """Poll the journal until `count` lines of `event` exist (or the process ended)."""
    while proc.poll() is None:
        if sum(1 for e in _events(workdir) if e["event"] == event) >= count:
            return
        try:
            proc.wait(0.01)
        except subprocess.TimeoutExpired:
            continue


def test_sigint_finishes_in_flight_stops_reports_and_exits_130(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg(seed=SEED, latency_ms=100)
    manifest = shcfg.manifest(MANIFEST)
    proc = _start_apply(shcfg.sandbox.url, shcfg.workdir, manifest)
    _wait_for_journal(proc, shcfg.workdir, "applied", 1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert "Interrupted: finishing the requests in flight, then stopping." in stderr
    assert "Apply stopped:" in stdout and "not attempted" in stdout
    assert "  not attempted: " in stderr
    finished = [e for e in _events(shcfg.workdir) if e["event"] == "finished"]
    assert len(finished) == 1 and finished[0]["interrupted"] is True
    intents = Counter(e["identity"] for e in _events(shcfg.workdir) if e["event"] == "intent")
    outcomes = Counter(
        e["identity"] for e in _events(shcfg.workdir) if e["event"] in ("applied", "failed")
    )
    assert intents == outcomes  # every request in flight was finished and recorded
    assert 0 < finished[0]["applied"] < 8  # type: ignore[operator]
    for secret in SECRETS.values():
        assert secret not in stdout + stderr
    again = shcfg("apply", str(manifest), "--auto-approve", env=SECRETS)
    assert again.exit_code == 0, again.output
    assert shcfg("plan", str(manifest), "--detailed-exitcode", env=SECRETS).exit_code == 0


@pytest.mark.parametrize("lines", [1, 3, 6, 9])
def test_sigkill_at_any_point_then_a_new_apply_converges(make_shcfg: MakeShcfg, lines: int) -> None:
    shcfg = make_shcfg(seed=SEED, latency_ms=40)
    manifest = shcfg.manifest(MANIFEST)
    proc = _start_apply(shcfg.sandbox.url, shcfg.workdir, manifest)
    while proc.poll() is None and len(_events(shcfg.workdir)) < lines:
        try:
            proc.wait(0.005)
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    proc.communicate(timeout=60)
    again = shcfg("apply", str(manifest), "--auto-approve", env=SECRETS)
    assert again.exit_code == 0, again.output
    assert shcfg("plan", str(manifest), "--detailed-exitcode", env=SECRETS).exit_code == 0
    snapshot = shcfg.sandbox.snapshot()
    assert sorted(t["obj"]["username"] for t in snapshot["technicians"]) == ["alice", "bob"]
    assert sorted(g["obj"]["name"] for g in snapshot["groups"]) == ["Admins", "Helpdesk"]
    assert snapshot["techRestrictions"] == ["10\\.0\\..*"]
