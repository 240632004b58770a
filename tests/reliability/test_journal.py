"""The apply journal: JSON lines an operator can read after a failed pipeline, no secrets."""

from __future__ import annotations

import json

import pytest

from reconciler.sandbox.faults import Fault
from tests.e2e.conftest import TOKEN
from tests.reliability.conftest import MakeShcfg, ScriptedFaults, scripted

MANIFEST = """\
version: 1
server:
  hostname: support.example.com
groups:
  - name: Helpdesk
    password: ${env:GROUP_PW}
technicians:
  - username: alice
    groups: [Helpdesk]
    password: ${env:ALICE_PW}
"""
SECRETS = {"GROUP_PW": "journal-canary-pw-1", "ALICE_PW": "journal-canary-pw-2"}


def test_journal_records_backup_intents_outcomes_and_reasons(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg()
    # backup, groups/new, groups/password/set, technicians/new pass; then the
    # technician's password fails on every try and read-back round.
    faults: list[Fault | None] = [None] * 4 + [Fault("500")] * 6
    shcfg.sandbox.faults = ScriptedFaults(faults)  # type: ignore[assignment]
    path = shcfg.manifest(MANIFEST)
    journal = shcfg.workdir / "logs" / "apply.jsonl"
    result = shcfg("apply", str(path), "--auto-approve", "--journal", str(journal), env=SECRETS)
    assert result.exit_code == 1
    text = journal.read_text(encoding="utf-8")
    for secret in (TOKEN, *SECRETS.values()):
        assert secret not in text
    records = [json.loads(line) for line in text.splitlines()]
    assert all({"time", "event"} <= set(r) for r in records)
    events = [r["event"] for r in records]
    assert events[:2] == ["start", "backup"] and events[-1] == "finished"
    assert records[0]["changes"] == 3 and len(records[0]["checksum"]) == 64
    assert records[1]["outcome"] == "ok"
    intents = [(r["kind"], r["identity"]) for r in records if r["event"] == "intent"]
    outcomes = {
        (r["kind"], r["identity"]): r for r in records if r["event"] in ("applied", "failed")
    }
    assert set(intents) == set(outcomes)
    failed = outcomes[("technicians", "alice")]
    assert failed["event"] == "failed" and failed["action"] == "create"
    assert failed["reason"].startswith("technicians/password/set: HTTP 500")
    assert "password" in failed["fields"]
    assert outcomes[("groups", "Helpdesk")]["event"] == "applied"
    assert any(r["event"] == "resolve" and r["identity"] == "alice" for r in records)
    assert records[-1] == {**records[-1], "applied": 1, "failed": 1, "not_attempted": 1}


def test_journal_appends_across_applies_at_the_default_path(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg()
    path = shcfg.manifest(MANIFEST)
    for _ in range(2):
        result = shcfg("apply", str(path), "--auto-approve", "--rotate-secrets", env=SECRETS)
        assert result.exit_code == 0, result.output
    lines = (shcfg.workdir / ".shcfg" / "journal.jsonl").read_text().splitlines()
    events = [json.loads(line)["event"] for line in lines]
    assert events.count("start") == 2 and events.count("finished") == 2


def _echo_password(body: bytes) -> tuple[int, dict[str, str], bytes]:
    """A careless server: its refusal echoes the password it was sent."""
    sent = json.loads(body)["password"]
    return 400, {}, json.dumps({"success": False, "reason": f"weak: {sent}"}).encode()


def test_a_server_reason_echoing_a_password_is_masked_in_the_journal(
    make_shcfg: MakeShcfg,
) -> None:
    shcfg = make_shcfg()
    secret = 'quote"and\\backslash-pw'
    path = shcfg.manifest(MANIFEST)
    with scripted(shcfg.sandbox.url, {"groups/password/set": _echo_password}) as proxy:
        env = {**SECRETS, "GROUP_PW": secret, "SIMPLEHELP_URL": proxy.url}
        result = shcfg("apply", str(path), "--auto-approve", env=env)
    assert result.exit_code == 1
    assert "FAILED: groups/password/set: HTTP 400: weak: (sensitive)" in result.stdout
    text = (shcfg.workdir / ".shcfg" / "journal.jsonl").read_text(encoding="utf-8")
    assert "weak: (sensitive)" in text
    for form in (secret, json.dumps(secret)[1:-1]):
        assert form not in text and form not in result.output
    assert all(secret not in json.dumps(json.loads(line)) for line in text.splitlines())


def test_an_answer_nested_too_deeply_mid_apply_ends_the_journal_and_the_report(
    make_shcfg: MakeShcfg,
) -> None:
    shcfg = make_shcfg()
    path = shcfg.manifest(MANIFEST)
    deep = b"[" * 3000 + b"]" * 3000
    with scripted(shcfg.sandbox.url, {"groups/new": lambda body: (200, {}, deep)}) as proxy:
        env = {**SECRETS, "SIMPLEHELP_URL": proxy.url}
        result = shcfg("apply", str(path), "--auto-approve", env=env)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "Apply stopped: 0 applied, 1 failed" in result.stdout
    records = [json.loads(line) for line in (shcfg.workdir / ".shcfg/journal.jsonl").open()]
    assert records[-1]["event"] == "finished" and records[-1]["failed"] == 1


@pytest.mark.parametrize(
    ("reading", "shape"),
    [("response", "response"), ("empty", "empty"), ("true", "true"), ("ok", "text")],
)
def test_journal_records_the_shape_each_write_answer_came_in(
    make_shcfg: MakeShcfg, reading: str, shape: str
) -> None:
    shcfg = make_shcfg(write_answer=reading)
    path = shcfg.manifest(MANIFEST)
    journal = shcfg.workdir / "apply.jsonl"
    result = shcfg("apply", str(path), "--auto-approve", "--journal", str(journal), env=SECRETS)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    backup = next(r for r in records if r["event"] == "backup")
    assert backup["outcome"] == "ok" and backup["shape"] == shape
    answers = [(r["query"], r["shape"]) for r in records if r["event"] == "answer"]
    writes = [q for q in shcfg.writes() if q != "server/backup"]
    assert sorted(q for q, _ in answers) == sorted(writes)
    assert {s for _, s in answers} == {shape}
