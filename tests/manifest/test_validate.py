"""Offline cross-checks and the committed JSON Schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

from reconciler.cli import cli
from reconciler.manifest import check_references, load_manifests, manifest_json_schema
from reconciler.manifest.json_schema import render_schema
from reconciler.schemas import main
from tests.manifest.conftest import WriteFn

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "shcfg-manifest.schema.json"


def test_clean_manifest_has_no_issues(write: WriteFn) -> None:
    path = write(
        "ok.yaml",
        """
        version: 1
        server: {techRestrictions: ['10\\.0\\..*'], keepAccessFrom: [127.0.0.1]}
        groups: [{name: Helpdesk, renamedFrom: Support, permissions: {canRunTools: true}}]
        technicians:
          - {username: alice, groups: [Helpdesk, Live], emailAddress: a.b@example.co.uk}
        ignore: {technicians: [admin]}
        """,
    )
    assert check_references(load_manifests([path]), known_groups={"Live"}) == []


def test_every_cross_check(write: WriteFn) -> None:
    path = write(
        "bad.yaml",
        """
        version: 1
        server:
          techRestrictions: ['(unclosed']
        groups:
          - {name: A, permissions: {"": true}}
          - {name: B, renamedFrom: A}
          - {name: C, renamedFrom: Old}
          - {name: D, renamedFrom: Old}
        technicians:
          - {username: alice, groups: [A, Ghost], emailAddress: not-an-address}
          - {username: bob, renamedFrom: alice}
        ignore: {machines: [""]}
        """,
    )
    issues = [str(issue) for issue in check_references(load_manifests([path]))]
    assert issues == [
        f"{path}:10:5: technician 'alice': group 'Ghost' is not declared",
        f"{path}:10:5: technician 'alice': emailAddress does not look like an address",
        f"{path}:6:5: group 'B': renamedFrom 'A' is itself declared in the manifests",
        f"{path}:8:5: group 'D': renamedFrom 'Old' is already claimed by 'C'",
        f"{path}:11:5: technician 'bob': renamedFrom 'alice' is itself declared in the manifests",
        f"{path}:5:5: group 'A': empty permission name",
        f"{path}:3:22: tech restriction is not a valid regex: "
        "missing ), unterminated subpattern at position 0",
        f"{path}:12:10: ignore.machines: empty glob pattern",
    ]


def test_known_groups_satisfy_membership(write: WriteFn) -> None:
    path = write("k.yaml", "version: 1\ntechnicians: [{username: a, groups: [Live]}]\n")
    loaded = load_manifests([path])
    assert len(check_references(loaded)) == 1
    assert check_references(loaded, known_groups={"Live"}) == []


def test_schema_shape() -> None:
    schema = manifest_json_schema()
    assert schema["title"] == "shcfg manifest"
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {
        "version",
        "server",
        "groups",
        "technicians",
        "machines",
        "machineGroups",
        "prune",
        "ignore",
        "policy",
        "policyExceptions",
    }


def test_committed_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), (
        "run: python -m reconciler.manifest.schema schemas/shcfg-manifest.schema.json"
    )


def test_schema_main_writes_file(tmp_path: Path) -> None:
    assert main([str(tmp_path)]) == 0
    written = tmp_path / "shcfg-manifest.schema.json"
    assert json.loads(written.read_text()) == manifest_json_schema()


def test_declared_objects_may_not_match_ignore(write: WriteFn) -> None:
    path = write(
        "ignored.yaml",
        """
        version: 1
        groups:
          - {name: Legacy-A}
          - {name: Modern, renamedFrom: Legacy-B}
          - {name: Kept}
        technicians:
          - {username: admin, enabled: false}
          - {username: alice, renamedFrom: svc-old}
          - {username: bob}
        machines: [{machineID: SG_900}, {machineID: SG_100}]
        machineGroups: [{path: [Test, Lab]}, {path: [Live]}]
        ignore:
          technicians: [admin, "svc-*"]
          groups: ["Legacy*"]
          machines: ["SG_9*"]
          machineGroups: ["Test/*"]
        """,
    )
    issues = [str(issue) for issue in check_references(load_manifests([path]))]
    tail = "an ignored object is never changed; remove it from the manifests or from ignore"
    assert sorted(issues) == sorted(
        [
            f"{path}:7:5: technician 'admin' is matched by ignore.technicians pattern "
            f"'admin': {tail}",
            f"{path}:8:5: technician 'alice' is renamed from 'svc-old', which is matched by "
            f"ignore.technicians pattern 'svc-*': {tail}",
            f"{path}:3:5: group 'Legacy-A' is matched by ignore.groups pattern 'Legacy*': {tail}",
            f"{path}:4:5: group 'Modern' is renamed from 'Legacy-B', which is matched by "
            f"ignore.groups pattern 'Legacy*': {tail}",
            f"{path}:10:12: machine 'SG_900' is matched by ignore.machines pattern 'SG_9*': {tail}",
            f"{path}:11:17: machine group 'Test/Lab' is matched by ignore.machineGroups pattern "
            f"'Test/*': {tail}",
        ]
    )


def test_every_flag_in_the_manifest_docs_exists() -> None:
    docs = (SCHEMA_FILE.parents[1] / "docs" / "manifest.md").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", docs))
    options = {opt for command in cli.commands.values() for p in command.params for opt in p.opts}
    assert mentioned and mentioned <= options, mentioned - options
