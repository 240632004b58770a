"""Saved plans: applied exactly as reviewed, refused when the server or the file changed."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.client.api import SimpleHelpClient
from tests.e2e.conftest import SECRET_MANIFEST, TOKEN, Shcfg

SECRETS = {"GROUP_PW": "group-secret-3141", "ALICE_PW": "alice-secret-2718"}
LATER = """\
  - username: mallory
    displayName: Added after review
"""


def _save(shcfg: Shcfg) -> tuple[Path, Path]:
    manifest = shcfg.manifest(SECRET_MANIFEST)
    saved = shcfg.workdir / "plan.json"
    result = shcfg("plan", str(manifest), "--out", str(saved), env=SECRETS)
    assert result.exit_code == 0, result.output
    return manifest, saved


def test_apply_plan_applies_exactly_the_saved_changes(shcfg: Shcfg) -> None:
    manifest, saved = _save(shcfg)
    manifest.write_text(SECRET_MANIFEST + LATER, encoding="utf-8")
    shcfg.sandbox.reset_calls()
    result = shcfg("apply", "--plan", str(saved), "--auto-approve", env=SECRETS)
    assert result.exit_code == 0, result.output
    assert "Apply complete: 3 applied, 0 failed, 0 not attempted." in result.stdout
    assert sorted(shcfg.writes()) == sorted(
        [
            "server/backup",
            "groups/new",
            "groups/permissions/set",
            "groups/password/set",
            "technicians/new",
            "technicians/password/set",
            "server/hostname/set",
        ]
    )
    usernames = [t["obj"]["username"] for t in shcfg.sandbox.snapshot()["technicians"]]
    assert usernames == ["alice"]


def test_plan_file_holds_no_secret_value(shcfg: Shcfg) -> None:
    _, saved = _save(shcfg)
    text = saved.read_text(encoding="utf-8")
    for secret in (*SECRETS.values(), TOKEN):
        assert secret not in text
    refs = json.loads(text)["secret_refs"]
    assert sorted(refs.values()) == ["${env:ALICE_PW}", "${env:GROUP_PW}"]


def test_change_on_the_server_after_the_plan_is_refused_by_name(shcfg: Shcfg) -> None:
    _, saved = _save(shcfg)
    with SimpleHelpClient(shcfg.sandbox.url, TOKEN) as client:
        client.server_hostname_set("someone-else.example.com")
        client.groups_new({"name": "Helpdesk"})
    shcfg.sandbox.reset_calls()
    result = shcfg("apply", "--plan", str(saved), "--auto-approve", env=SECRETS)
    assert result.exit_code == 1
    assert "live state changed since the plan was made" in result.stderr
    assert "server 'hostname'" in result.stderr
    assert "groups 'Helpdesk'" in result.stderr
    assert "technicians 'alice'" not in result.stderr
    assert shcfg.writes() == []


def test_plan_made_against_another_server_is_refused(shcfg: Shcfg) -> None:
    _, saved = _save(shcfg)
    other = shcfg.sandbox.url.replace("127.0.0.1", "localhost")
    shcfg.sandbox.reset_calls()
    result = shcfg(
        "apply", "--plan", str(saved), "--auto-approve", env={**SECRETS, "SIMPLEHELP_URL": other}
    )
    assert result.exit_code == 1
    assert f"the plan was made against {shcfg.sandbox.url}, not {other}" in result.stderr
    assert shcfg.writes() == []


def test_tampered_plan_file_is_refused(shcfg: Shcfg) -> None:
    _, saved = _save(shcfg)
    data = json.loads(saved.read_text(encoding="utf-8"))
    hostname = next(c for c in data["plan"]["changes"] if c["kind"] == "server")
    hostname["fields"][0]["after"] = "attacker.example.com"
    saved.write_text(json.dumps(data), encoding="utf-8")
    shcfg.sandbox.reset_calls()
    result = shcfg("apply", "--plan", str(saved), "--auto-approve", env=SECRETS)
    assert result.exit_code == 1
    assert "checksum mismatch" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert shcfg.writes() == []


def test_a_file_that_is_not_a_plan_is_one_line_error(shcfg: Shcfg) -> None:
    bogus = shcfg.workdir / "bogus.json"
    bogus.write_text("{not json", encoding="utf-8")
    result = shcfg("apply", "--plan", str(bogus), "--auto-approve")
    assert result.exit_code == 1
    assert "not a shcfg plan" in result.stderr
    assert "Traceback" not in result.output


def test_saved_plan_applies_from_another_checkout(shcfg: Shcfg, tmp_path: Path) -> None:
    """A pipeline plans in one job and applies in another job's checkout of the repo."""
    manifest, saved = _save(shcfg)
    assert json.loads(saved.read_text())["plan"]["manifests"] == [manifest.name]
    other = tmp_path / "other-checkout"
    other.mkdir()
    (other / manifest.name).write_text(manifest.read_text(), encoding="utf-8")
    manifest.unlink()
    elsewhere = Shcfg(shcfg.sandbox, other)
    result = elsewhere("apply", "--plan", str(saved), "--auto-approve", env=SECRETS)
    assert result.exit_code == 0, result.output
    assert "Apply complete: 3 applied" in result.stdout
