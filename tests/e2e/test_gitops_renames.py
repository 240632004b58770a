"""`renamedFrom`: a rename in place that keeps IDs and memberships, not delete + create."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox import Sandbox, SandboxConfig
from tests.e2e.conftest import TOKEN, Shcfg

SEED: dict[str, Any] = {
    "groups": [{"name": "Support", "permissions": {"canRunTools": True}}],
    "technicians": [
        {"username": "alice", "displayName": "Alice", "groups": ["Support"]},
        {"username": "bob", "groups": ["Support"]},
    ],
}
RENAMED = """\
version: 1
groups:
  - name: Helpdesk
    renamedFrom: Support
    permissions: {canRunTools: true}
technicians:
  - username: alicia
    renamedFrom: alice
    displayName: Alice
    groups: [Helpdesk]
  - username: bob
    groups: [Helpdesk]
prune: {groups: true, technicians: true}
"""


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Shcfg]:
    config = SandboxConfig(token=TOKEN, data_dir=tmp_path / "server", seed=SEED)
    with Sandbox(config) as server:
        work = tmp_path / "work"
        work.mkdir()
        yield Shcfg(server, work)


def _ids(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {
        "groups": {g["obj"]["name"]: g["obj"]["uniqueID"] for g in snapshot["groups"]},
        "technicians": {
            t["obj"]["username"]: (t["obj"]["uniqueID"], t["obj"]["groupIDs"])
            for t in snapshot["technicians"]
        },
    }


def test_rename_is_an_update_in_place(cli: Shcfg) -> None:
    path = cli.manifest(RENAMED)
    result = cli("plan", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"] == {"create": 0, "update": 2, "delete": 0}
    by_identity = {c["identity"]: c for c in data["changes"]}
    assert by_identity["Helpdesk"]["renamedFrom"] == "Support"
    assert by_identity["Helpdesk"]["fields"] == [
        {"path": "name", "before": "Support", "after": "Helpdesk", "sensitive": False}
    ]
    assert by_identity["alicia"]["renamedFrom"] == "alice"
    assert by_identity["alicia"]["fields"] == [
        {"path": "username", "before": "alice", "after": "alicia", "sensitive": False}
    ]
    text = cli("plan", str(path))
    assert 'groups "Helpdesk" (renamed from "Support")' in text.stdout


def test_rename_keeps_unique_ids_and_memberships(cli: Shcfg) -> None:
    before = _ids(cli.sandbox.snapshot())
    path = cli.manifest(RENAMED)
    result = cli("apply", str(path), "--auto-approve")
    assert result.exit_code == 0, result.output
    after = _ids(cli.sandbox.snapshot())
    assert after["groups"] == {"Helpdesk": before["groups"]["Support"]}
    assert after["technicians"] == {
        "alicia": before["technicians"]["alice"],
        "bob": before["technicians"]["bob"],
    }
    permissions = cli.sandbox.snapshot()["groups"][0]["permissions"]
    assert permissions["canRunTools"] is True
    assert not {"groups/remove", "groups/new", "technicians/remove", "technicians/new"} & set(
        cli.writes()
    )
    again = cli("plan", str(path), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
