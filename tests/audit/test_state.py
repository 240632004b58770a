"""The two adapters and the resulting-state merge, on plain data (no server)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.audit.policy import policy_violations, resulting_state
from reconciler.audit.state import (
    AuditState,
    GroupState,
    TechnicianState,
    from_live,
    from_manifest,
)
from reconciler.kinds.groups import LiveGroups
from reconciler.manifest import ManifestError, load_manifests


class _Client:
    """Answers the two reads ``from_live`` may add, and records them."""

    def __init__(self) -> None:
        self.asked: list[Any] = []

    def groups_permissions_get(self, unique_id: int) -> dict[str, Any]:
        self.asked.append(unique_id)
        return {"canAccessAdministration": True, "bogus": "yes"}

    def server_tech_restrictions_get(self) -> list[Any]:
        self.asked.append("restrictions")
        return ["10\\..*", 7]


def test_from_live_reads_what_read_live_skipped() -> None:
    live = {
        "groups": LiveGroups(
            {
                "A": {"uniqueID": 1, "name": "A", "mfaSettings": {"app": True}},
                "B": {"uniqueID": 2, "name": "B"},
            },
            {1: {"canRunTools": True}},
        ),
        "technicians": {
            "t": {"uniqueID": 9, "username": "t", "groupIDs": [1, 2, 99], "enabled": "yes"},
            "x": {"uniqueID": 8, "username": "x", "isAnonymous": True},
        },
        "techRestrictions": None,
    }
    client = _Client()
    state = from_live(client, live, version="5.5.16")  # type: ignore[arg-type]
    assert client.asked == [2, "restrictions"]
    assert state.groups["A"].permissions == {"canRunTools": True}
    assert state.groups["B"].permissions == {"canAccessAdministration": True}
    assert state.technicians["t"].groups == ("A", "B")
    assert state.technicians["t"].enabled is None
    assert state.technicians["x"].isAnonymous
    assert state.restrictions == ("10\\..*",)


def test_from_manifest_keeps_undeclared_unknown(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\ngroups:\n  - name: G\n    mfaSettings: {app: true}\n"
        "technicians:\n  - {username: t, groups: [G]}\n",
        encoding="utf-8",
    )
    state = from_manifest(load_manifests([path]))
    assert state.version is None
    assert state.restrictions is None
    assert state.groups["G"].attrs == {"mfaSettings": {"app": True}}
    assert state.groups["G"].permissions is None
    assert state.technicians["t"] == TechnicianState("t", ("G",))


def test_resulting_state_merges_declared_over_live(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nserver:\n  techRestrictions: ['192\\.168\\..*']\n"
        "groups:\n  - name: New\n    renamedFrom: Old\n    mfaSettings: {email: true}\n"
        "    permissions: {canRunTools: true}\n"
        "technicians:\n  - {username: t, enabled: false}\n",
        encoding="utf-8",
    )
    loaded = load_manifests([path])
    live = AuditState(
        None,
        {"Old": GroupState("Old", {"mfaSettings": {"app": False}}, {"canManageGroups": True})},
        {
            "t": TechnicianState("t", ("Old",)),
            "u": TechnicianState("u", ("Old",)),
            "gone": TechnicianState("gone", ("Old",)),
        },
        (".*",),
    )
    removed = frozenset({("technicians", "gone"), ("techRestrictions", ".*")})
    state = resulting_state(loaded.model, live, removed)
    assert set(state.groups) == {"New"}
    assert state.groups["New"].attrs == {"mfaSettings": {"app": False, "email": True}}
    assert state.groups["New"].permissions == {"canManageGroups": True, "canRunTools": True}
    assert state.technicians["t"].groups == ("New",) and state.technicians["t"].enabled is False
    assert state.technicians["u"].groups == ("New",)
    assert "gone" not in state.technicians
    assert state.restrictions == ("192\\.168\\..*",)


def test_policy_violations_is_empty_without_a_policy(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\n", encoding="utf-8")
    live = AuditState(None, {"G": GroupState("G", {"allowAnonymousLogins": True})}, {}, ())
    assert policy_violations(load_manifests([path]), live) == []


def test_policy_settings_merge_across_files_and_conflicts_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\npolicy: {requireMfa: true}\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        "version: 1\npolicy: {forbidGroupLogins: true}\npolicyExceptions:\n"
        "  - {rule: requireMfa, group: K, reason: kiosk}\n",
        encoding="utf-8",
    )
    model = load_manifests([tmp_path]).model
    assert model.policy.requireMfa and model.policy.forbidGroupLogins
    assert [w.target for w in model.policyExceptions] == ["K"]
    (tmp_path / "c.yaml").write_text("version: 1\npolicy: {requireMfa: false}\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"c\.yaml:2:10: policy\.requireMfa already set"):
        load_manifests([tmp_path])
