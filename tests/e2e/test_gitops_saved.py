"""Saved plans: signed, applied exactly as reviewed, refused when the server or the file changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from reconciler.client.api import SimpleHelpClient
from reconciler.saved import sign
from tests.e2e.conftest import SECRET_MANIFEST, TOKEN, Shcfg

SECRETS = {"GROUP_PW": "group-secret-3141", "ALICE_PW": "alice-secret-2718"}
LATER = """\
  - username: mallory
    displayName: Added after review
"""


def _save(shcfg: Shcfg, text: str = SECRET_MANIFEST, name: str = "plan.json") -> tuple[Path, Path]:
    manifest = shcfg.manifest(text)
    saved = shcfg.workdir / name
    result = shcfg("plan", str(manifest), "--out", str(saved), env=SECRETS)
    assert result.exit_code == 0, result.output
    return manifest, saved


def _refused(result: Any, shcfg: Shcfg, text: str) -> None:
    assert result.exit_code == 1, result.output
    assert text in result.stderr
    errors = [line for line in result.stderr.splitlines() if not line.startswith("Warning: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    assert [w for w in shcfg.writes() if w != "server/backup"] == []


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


def test_plan_file_holds_no_secret_value_and_is_signed(shcfg: Shcfg) -> None:
    _, saved = _save(shcfg)
    text = saved.read_text(encoding="utf-8")
    for secret in (*SECRETS.values(), TOKEN):
        assert secret not in text
    data = json.loads(text)
    assert sorted(ref for *_, ref in data["secret_refs"]) == ["${env:ALICE_PW}", "${env:GROUP_PW}"]
    assert data["signature"].startswith("hmac-sha256:")


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


def _edit_server(data: dict[str, Any]) -> None:
    data["plan"]["server"] = "http://127.0.0.1:1"


def _edit_manifests(data: dict[str, Any]) -> None:
    data["plan"]["manifests"] = ["attacker.yaml"]


def _edit_live_counts(data: dict[str, Any]) -> None:
    data["plan"]["live_counts"]["technicians"] = 10_000


def _edit_changes(data: dict[str, Any]) -> None:
    hostname = next(c for c in data["plan"]["changes"] if c["kind"] == "server")
    hostname["fields"][0]["after"] = "attacker.example.com"


def _edit_identity(data: dict[str, Any]) -> None:
    alice = next(c for c in data["plan"]["changes"] if c["kind"] == "technicians")
    alice["identity"] = "mallory"


def _edit_secret_source(data: dict[str, Any]) -> None:
    data["secret_refs"][0][3] = "${env:HOME}"


def _edit_reviewed_manifest(data: dict[str, Any]) -> None:
    data["manifest"]["server"]["keepAccessFrom"] = []


@pytest.mark.parametrize(
    "edit",
    [
        _edit_server,
        _edit_manifests,
        _edit_live_counts,
        _edit_changes,
        _edit_identity,
        _edit_secret_source,
        _edit_reviewed_manifest,
    ],
)
def test_any_edit_of_the_plan_file_is_refused(shcfg: Shcfg, edit: Any) -> None:
    _, saved = _save(shcfg)
    data = json.loads(saved.read_text(encoding="utf-8"))
    edit(data)
    saved.write_text(json.dumps(data), encoding="utf-8")
    shcfg.sandbox.reset_calls()
    result = shcfg("apply", "--plan", str(saved), "--auto-approve", env=SECRETS)
    _refused(result, shcfg, "the signature does not match")
    assert shcfg.sandbox.calls == []  # verified before anything is read


def test_a_plan_made_with_another_token_is_refused(shcfg: Shcfg) -> None:
    """Only a holder of the token can make a plan that applies."""
    _, saved = _save(shcfg)
    data = json.loads(saved.read_text(encoding="utf-8"))
    del data["signature"]
    data["plan"]["changes"][0]["fields"][0]["after"] = "attacker"
    data["signature"] = sign(data, "an-attacker-guessed-token")
    saved.write_text(json.dumps(data), encoding="utf-8")
    shcfg.sandbox.reset_calls()
    result = shcfg("apply", "--plan", str(saved), "--auto-approve", env=SECRETS)
    _refused(result, shcfg, "or was made with another API token")


def test_a_change_bound_to_another_objects_id_is_refused(
    shcfg_seeded: Any,
) -> None:
    """An update of dave turned into a delete of alice by her uniqueID does not apply,
    even when the file is signed with the right token."""
    shcfg = shcfg_seeded(
        {"technicians": [{"username": "alice"}, {"username": "dave", "displayName": "Dave"}]}
    )
    manifest = shcfg.manifest(
        "version: 1\ntechnicians:\n  - username: alice\n  - username: dave\n"
        "    displayName: David\n"
    )
    saved = shcfg.workdir / "plan.json"
    assert shcfg("plan", str(manifest), "--out", str(saved)).exit_code == 0
    ids = {
        t["obj"]["username"]: t["obj"]["uniqueID"] for t in shcfg.sandbox.snapshot()["technicians"]
    }
    data = json.loads(saved.read_text(encoding="utf-8"))
    del data["signature"]
    (dave,) = data["plan"]["changes"]
    dave.update(action="delete", fields=[], live_id=ids["alice"])
    data["signature"] = sign(data, TOKEN)
    saved.write_text(json.dumps(data), encoding="utf-8")
    shcfg.sandbox.reset_calls()
    result = shcfg("apply", "--plan", str(saved), "--auto-approve")
    _refused(result, shcfg, f"technicians 'dave' (the plan's ID {ids['alice']} is not its ID)")
    assert sorted(t["obj"]["username"] for t in shcfg.sandbox.snapshot()["technicians"]) == [
        "alice",
        "dave",
    ]


def test_a_file_that_is_not_a_plan_is_one_line_error(shcfg: Shcfg) -> None:
    bogus = shcfg.workdir / "bogus.json"
    bogus.write_text("{not json", encoding="utf-8")
    result = shcfg("apply", "--plan", str(bogus), "--auto-approve")
    _refused(result, shcfg, "not a shcfg plan")


def test_deeply_nested_or_unknown_kind_plan_is_one_line_error(shcfg: Shcfg) -> None:
    deep = shcfg.workdir / "deep.json"
    deep.write_text('{"shcfg_saved_plan": 2, "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _refused(shcfg("apply", "--plan", str(deep), "--auto-approve"), shcfg, "nested too deeply")
    _, saved = _save(shcfg)
    data = json.loads(saved.read_text(encoding="utf-8"))
    del data["signature"]
    data["plan"]["changes"][0]["kind"] = "printers"
    data["signature"] = sign(data, TOKEN)
    saved.write_text(json.dumps(data), encoding="utf-8")
    result = shcfg("apply", "--plan", str(saved), "--auto-approve", env=SECRETS)
    _refused(result, shcfg, "unknown kind 'printers'")


def test_rotate_secrets_with_a_saved_plan_is_refused(shcfg: Shcfg) -> None:
    _, saved = _save(shcfg)
    shcfg.sandbox.reset_calls()
    result = shcfg("apply", "--plan", str(saved), "--auto-approve", "--rotate-secrets", env=SECRETS)
    _refused(result, shcfg, "--rotate-secrets does not apply to a saved plan")
    assert shcfg.sandbox.calls == []


def test_a_swapped_secret_source_in_the_manifests_is_refused(shcfg: Shcfg) -> None:
    manifest, saved = _save(shcfg)
    manifest.write_text(
        SECRET_MANIFEST.replace("${env:ALICE_PW}", "attacker-chosen-pw"), encoding="utf-8"
    )
    shcfg.sandbox.reset_calls()
    result = shcfg("apply", "--plan", str(saved), "--auto-approve", env=SECRETS)
    _refused(result, shcfg, "the secret source of technicians 'alice' password changed")


def test_saved_plan_applies_from_another_checkout(shcfg: Shcfg, tmp_path: Path) -> None:
    """A pipeline plans in one job and applies in another job's checkout, from any directory:
    manifest paths are relative to the plan file."""
    manifest, saved = _save(shcfg)
    assert json.loads(saved.read_text())["plan"]["manifests"] == [manifest.name]
    other = tmp_path / "other-checkout"
    other.mkdir()
    shutil.copy(manifest, other / manifest.name)
    shutil.copy(saved, other / saved.name)
    manifest.unlink()
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    result = Shcfg(shcfg.sandbox, elsewhere)(
        "apply", "--plan", str(other / saved.name), "--auto-approve", env=SECRETS
    )
    assert result.exit_code == 0, result.output
    assert "Apply complete: 3 applied" in result.stdout


def test_saved_plan_without_secrets_needs_no_manifests(shcfg: Shcfg) -> None:
    manifest, saved = _save(shcfg, "version: 1\nserver:\n  hostname: new.example.com\n")
    manifest.unlink()
    result = shcfg("apply", "--plan", str(saved), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert shcfg.sandbox.snapshot()["hostname"] == "new.example.com"


def test_saved_plan_with_secrets_names_the_missing_manifest(shcfg: Shcfg) -> None:
    manifest, saved = _save(shcfg)
    manifest.unlink()
    shcfg.sandbox.reset_calls()
    result = shcfg("apply", "--plan", str(saved), "--auto-approve", env=SECRETS)
    _refused(result, shcfg, f"{manifest} is not there")


def test_saved_plan_with_renames_updates_and_deletes_applies(shcfg_seeded: Any) -> None:
    """Every change bound to a live ID (group rename and update, technician delete and
    update) passes the identity check when nothing changed."""
    shcfg = shcfg_seeded(
        {
            "groups": [{"name": "Support", "permissions": {"canRunTools": False}}],
            "technicians": [
                {"username": "alice", "groups": ["Support"]},
                {"username": "bob"},
            ],
        }
    )
    manifest = shcfg.manifest(
        """\
        version: 1
        groups:
          - name: Helpdesk
            renamedFrom: Support
            permissions: {canRunTools: true}
        technicians:
          - username: alice
            displayName: Alice
            groups: [Helpdesk]
        prune: {technicians: true}
        """
    )
    saved = shcfg.workdir / "plan.json"
    assert shcfg("plan", str(manifest), "--out", str(saved)).exit_code == 0
    live_ids = [c["live_id"] for c in json.loads(saved.read_text())["plan"]["changes"]]
    assert len(live_ids) == 3 and None not in live_ids
    result = shcfg("apply", "--plan", str(saved), "--auto-approve")
    assert result.exit_code == 0, result.output
    assert shcfg("plan", str(manifest), "--detailed-exitcode").exit_code == 0
