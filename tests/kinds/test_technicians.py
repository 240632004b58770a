"""The technicians kind's diff on constructed live state (no HTTP)."""

from __future__ import annotations

from typing import Any

from reconciler.kinds.groups import LiveGroups
from reconciler.plan import Action, Label, Phase
from tests.kinds.conftest import Load, empty_live, group, plan_of

GROUPS = LiveGroups({"A": group("A", 1), "B": group("B", 2), "Old": group("Old", 3)})


def _live(*techs: dict[str, Any]) -> dict[str, Any]:
    return empty_live(groups=GROUPS, technicians={t["username"]: t for t in techs})


def tech(username: str, unique_id: int, **attrs: Any) -> dict[str, Any]:
    return {"username": username, "uniqueID": unique_id, **attrs}


def test_values_compare_strictly(load: Load) -> None:
    live = _live(tech("al", 1, enabled=1, displayName="Al"))
    declared = {"username": "al", "enabled": True, "displayName": "Al"}
    (change,) = plan_of("technicians", load({"technicians": [declared]}), live).changes
    assert [(f.path, f.before, f.after) for f in change.fields] == [("enabled", 1, True)]


def test_groups_compare_as_a_set_of_names_renames_included(load: Load) -> None:
    live = _live(tech("al", 1, groupIDs=[3, 1]))
    manifest = load(
        {
            "groups": [{"name": "New", "renamedFrom": "Old"}],
            "technicians": [{"username": "al", "groups": ["New", "A"]}],
        }
    )
    assert plan_of("technicians", manifest, live).changes == []
    moved = load({"technicians": [{"username": "al", "groups": ["B"]}]})
    (change,) = plan_of("technicians", moved, live).changes
    assert [(f.path, f.before, f.after) for f in change.fields] == [("groups", ["A", "Old"], ["B"])]


def test_rename_and_disable_label(load: Load) -> None:
    live = _live(tech("old", 7))
    declared = {"username": "new", "renamedFrom": "old", "enabled": False}
    (change,) = plan_of("technicians", load({"technicians": [declared]}), live).changes
    assert (change.live_id, change.rename_from) == (7, "old")
    assert [f.path for f in change.fields] == ["username", "enabled"]
    assert change.labels == (Label.DISABLES_TECHNICIAN,)


def test_anonymous_and_app_profile_accounts_are_never_pruned(load: Load) -> None:
    live = _live(
        tech("guest", 1, isAnonymous=True),
        tech("app", 2, appProfilesUser=True),
        tech("gone", 3),
        tech("svc-1", 4),
    )
    manifest = load({"prune": {"technicians": True}, "ignore": {"technicians": ["svc-*"]}})
    result = plan_of("technicians", manifest, live)
    assert [(c.action, c.identity, c.phase, c.labels) for c in result.changes] == [
        (Action.DELETE, "gone", Phase.DELETE_TECHNICIANS, (Label.DELETES_TECHNICIAN,))
    ]
    assert {u.identity: u.reason for u in result.undeclared} == {
        "app": "appProfilesUser accounts are never pruned",
        "guest": "isAnonymous accounts are never pruned",
    }


def test_password_is_write_only(load: Load) -> None:
    manifest = load(
        {"technicians": [{"username": "al", "password": "${env:PW}"}]}, PW="canary-pw-1"
    )
    (created,) = plan_of("technicians", manifest, _live()).changes
    assert created.action is Action.CREATE
    assert [(f.path, f.sensitive, f.after) for f in created.fields] == [("password", True, None)]
    assert created.labels == (Label.SETS_PASSWORD,)
    assert plan_of("technicians", manifest, _live(tech("al", 1))).changes == []
    assert plan_of("technicians", manifest, _live(tech("al", 1)), rotate=True).changes
