"""Plans for machines and reviewers: JSON (against its schema), markdown, security labels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.sandbox import Sandbox, SandboxConfig
from tests.e2e.conftest import TOKEN, Shcfg

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas" / "plan.schema.json").read_text(encoding="utf-8")
)
PASSWORD = "erin-secret-7731"

SEED: dict[str, Any] = {
    "techRestrictions": ["10\\.0\\..*"],
    "groups": [
        {
            "name": "Secure",
            "mfaSettings": {"app": True, "email": True, "rememberMachine": False},
            "permissions": {"canRunTools": False},
        },
        {"name": "Mail", "mfaSettings": {"email": True}},
    ],
    "technicians": [
        {"username": "carol", "groups": ["Secure"]},
        {"username": "dave"},
        {"username": "guest", "isAnonymous": True},
    ],
}

RISKY = """\
version: 1
server:
  techRestrictions: ['192\\.168\\..*']
groups:
  - name: Secure
    allowAnonymousLogins: true
    ldapSettings: {enabled: true, baseDN: 'dc=example'}
    mfaSettings: {app: false}
    permissions: {canRunTools: true}
  - name: Mail
    mfaSettings: {email: false}
  - name: Remembered
    mfaSettings: {rememberMachine: true, app: true}
  - name: Directory
    ldapSettings: {enabled: true}
technicians:
  - username: carol
    enabled: false
    groups: [Secure]
  - username: erin
    password: ${env:ERIN_PW}
prune:
  technicians: true
  techRestrictions: true
"""
EXPECTED = {
    ("groups", "Secure"): {
        "enables-anonymous-logins",
        "changes-ldap",
        "weakens-mfa",
        "grants-permission",
    },
    ("groups", "Mail"): {"weakens-mfa"},
    ("groups", "Remembered"): {"weakens-mfa"},
    ("groups", "Directory"): {"changes-ldap"},
    ("technicians", "carol"): {"disables-technician"},
    ("technicians", "erin"): {"sets-password"},
    ("technicians", "dave"): {"deletes-technician"},
    ("techRestrictions", "192\\.168\\..*"): {"widens-ip-restrictions"},
    ("techRestrictions", "10\\.0\\..*"): {"narrows-ip-restrictions"},
}
ENV = {"ERIN_PW": PASSWORD}


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Shcfg]:
    config = SandboxConfig(token=TOKEN, data_dir=tmp_path / "server", seed=SEED)
    with Sandbox(config) as server:
        work = tmp_path / "work"
        work.mkdir()
        yield Shcfg(server, work)


def test_json_plan_matches_schema_and_labels_every_risky_change(cli: Shcfg) -> None:
    path = cli.manifest(RISKY)
    result = cli("plan", str(path), "--format", "json", env=ENV)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["format_version"] == 1
    assert data["server"] == cli.sandbox.url
    assert TOKEN not in result.stdout and PASSWORD not in result.stdout
    labels = {(c["kind"], c["identity"]): set(c["labels"]) for c in data["changes"]}
    assert labels == EXPECTED
    assert data["summary"] == {"create": 4, "update": 3, "delete": 2}
    erin = next(c for c in data["changes"] if c["identity"] == "erin")
    assert {"path": "password", "before": "(sensitive)", "after": "(sensitive)"}.items() <= (
        next(f for f in erin["fields"] if f["path"] == "password").items()
    )
    secure = next(c for c in data["changes"] if c["identity"] == "Secure")
    fields = {f["path"]: (f["before"], f["after"]) for f in secure["fields"]}
    assert fields["mfaSettings.app"] == (True, False)
    assert fields["permissions.canRunTools"] == (False, True)
    assert {"kind": "technicians", "identity": "guest"}.items() <= data["undeclared"][0].items()


def test_labels_show_in_text_and_markdown(cli: Shcfg) -> None:
    path = cli.manifest(RISKY)
    text = cli("plan", str(path), env=ENV)
    markdown = cli("plan", str(path), "--format", "markdown", env=ENV)
    assert text.exit_code == markdown.exit_code == 0
    for labels in EXPECTED.values():
        for label in labels:
            assert label in text.stdout
            assert label in markdown.stdout
    security = markdown.stdout.index("Security impact")
    deletions = markdown.stdout.index("Deletions")
    first_details = markdown.stdout.index("<details>")
    assert security < deletions < first_details
    assert '- **deletes-technician**: delete technicians "dave"' in markdown.stdout
    # one section per kind (3), and the undeclared objects folded in a fourth
    assert markdown.stdout.count("<details>") == markdown.stdout.count("</details>") == 4
    assert PASSWORD not in text.stdout + markdown.stdout


def test_no_changes_exits_zero_and_changes_exit_two(cli: Shcfg) -> None:
    same = cli.manifest("version: 1\ngroups:\n  - name: Mail\n", name="same.yaml")
    result = cli("plan", str(same), "--detailed-exitcode", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changes"] == []
    changed = cli.manifest(RISKY)
    assert cli("plan", str(changed), "--detailed-exitcode", env=ENV).exit_code == 2
    assert cli("plan", str(changed), "--detailed-exitcode", "--bogus").exit_code == 1


def test_markdown_escapes_hostile_identities(cli: Shcfg) -> None:
    hostile = "x` | </details> ```\n- [ ] # y"
    manifest = cli.manifest(
        "version: 1\ngroups:\n  - name: " + json.dumps(hostile) + "\n    permissions: "
        "{canRunTools: true}\n"
    )
    result = cli("plan", str(manifest), "--format", "markdown")
    assert result.exit_code == 0, result.output
    out = result.stdout
    lines = out.splitlines()
    details = [line for line in lines if "details>" in line and not line.startswith("+ ")]
    assert details[:2] == ["<details><summary>groups (1)</summary>", "</details>"]
    assert details[2].startswith("<details><summary>Not declared, left alone (")
    assert details[3:] == ["</details>"]
    fence_open = next(line for line in out.splitlines() if line.endswith("diff"))
    fence = fence_open.removesuffix("diff")
    assert len(fence) >= 4
    body = out.split(fence_open, 1)[1].split("\n" + fence + "\n", 1)[0]
    assert "\\n- [ ] # y" in body
    assert "&lt;/details&gt;" in out
    assert "\\|" in out
