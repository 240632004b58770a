"""The groups kind's diff on constructed live state (no HTTP)."""

from __future__ import annotations

from typing import Any

from reconciler.kinds import REGISTRY
from reconciler.kinds.contexts import PlanContext
from reconciler.kinds.groups import LiveGroups
from reconciler.plan import Action, Label, Phase
from tests.kinds.conftest import Load, empty_live, group, plan_of


def _live(*groups: dict[str, Any], permissions: dict[int, dict[str, bool]] | None = None) -> Any:
    live = LiveGroups({g["name"]: g for g in groups}, permissions or {})
    return empty_live(groups=live)


def _fields(load: Load, declared: dict[str, Any], live: Any, **kw: Any) -> dict[str, Any]:
    result = plan_of("groups", load({"groups": [declared]}), live, **kw)
    assert len(result.changes) <= 1
    return {f.path: (f.before, f.after) for c in result.changes for f in c.fields}


def test_a_bool_is_not_an_int(load: Load) -> None:
    live = _live(group("G", 1, allowAnonymousLogins=1, maxFileSize=1))
    fields = _fields(load, {"name": "G", "allowAnonymousLogins": True, "maxFileSize": 1}, live)
    assert fields == {"allowAnonymousLogins": (1, True)}


def test_settings_compare_declared_keys_only_and_lists_as_sets(load: Load) -> None:
    ldap = {"enabled": True, "memberOfGroups": ["b", "a"], "baseDN": "x", "extra": 1}
    live = _live(group("G", 1, ldapSettings=ldap))
    declared = {"name": "G", "ldapSettings": {"enabled": True, "memberOfGroups": ["a", "b"]}}
    assert _fields(load, declared, live) == {}
    declared["ldapSettings"]["baseDN"] = "y"
    result = plan_of("groups", load({"groups": [declared]}), live)
    (change,) = result.changes
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("ldapSettings.baseDN", "x", "y")
    ]
    assert change.base == {"ldapSettings": ldap}  # sent whole, live keys kept
    assert change.labels == (Label.CHANGES_LDAP,)


def test_permissions_only_declared_keys_and_strict_booleans(load: Load) -> None:
    live = _live(group("G", 1), permissions={1: {"canRunTools": False, "canUseChat": True}})
    fields = _fields(load, {"name": "G", "permissions": {"canRunTools": True}}, live)
    assert fields == {"permissions.canRunTools": (False, True)}


def test_rename_keeps_the_live_object(load: Load) -> None:
    live = _live(group("Old", 4, fpsDelay=1))
    result = plan_of("groups", load({"groups": [{"name": "New", "renamedFrom": "Old"}]}), live)
    (change,) = result.changes
    assert (change.action, change.live_id, change.rename_from) == (Action.UPDATE, 4, "Old")
    assert [(f.path, f.before, f.after) for f in change.fields] == [("name", "Old", "New")]
    assert result.undeclared == []


def test_undeclared_groups_need_prune_and_ignore_wins(load: Load) -> None:
    live = _live(group("Keep", 1), group("Gone", 2), group("svc-x", 3))
    off = plan_of("groups", load({}), live)
    assert [u.identity for u in off.undeclared] == ["Gone", "Keep", "svc-x"]
    assert off.changes == []
    on = plan_of("groups", load({"prune": {"groups": True}, "ignore": {"groups": ["svc-*"]}}), live)
    assert [(c.action, c.identity, c.phase) for c in on.changes] == [
        (Action.DELETE, "Gone", Phase.DELETE_GROUPS),
        (Action.DELETE, "Keep", Phase.DELETE_GROUPS),
    ]


def test_write_only_password_only_on_create_or_rotate(load: Load) -> None:
    declared = {"name": "G", "password": "${env:GPW}"}
    manifest = load({"groups": [declared]}, GPW="canary-8812")
    created = plan_of("groups", manifest, _live())
    assert [(f.path, f.sensitive) for f in created.changes[0].fields] == [("password", True)]
    assert plan_of("groups", manifest, _live(group("G", 1))).changes == []
    rotated = plan_of("groups", manifest, _live(group("G", 1)), rotate=True)
    assert [f.path for f in rotated.changes[0].fields] == ["password"]
    assert (
        "canary-8812" not in rotated.model_dump_json()
        if hasattr(rotated, "model_dump_json")
        else True
    )


def test_readable_secret_is_compared_when_the_server_returns_it(load: Load) -> None:
    manifest = load(
        {"groups": [{"name": "G", "videoPassword": "${env:VPW}"}]}, VPW="video-secret-1"
    )
    same = _live(group("G", 1, videoPassword="video-secret-1"))
    assert plan_of("groups", manifest, same).changes == []
    (changed,) = plan_of("groups", manifest, _live(group("G", 1, videoPassword="v-0"))).changes
    assert [(f.path, f.sensitive, f.before) for f in changed.fields] == [
        ("videoPassword", True, None)
    ]
    assert plan_of("groups", manifest, _live(group("G", 1))).changes == []
    assert plan_of("groups", manifest, _live(group("G", 1)), rotate=True).changes


def test_labels_of_security_relevant_changes(load: Load) -> None:
    live = _live(group("G", 1, mfaSettings={"app": True}), permissions={1: {"canRunTools": False}})
    declared = {
        "name": "G",
        "allowAnonymousLogins": True,
        "mfaSettings": {"app": False},
        "permissions": {"canRunTools": True},
    }
    (change,) = plan_of("groups", load({"groups": [declared]}), live).changes
    assert set(change.labels) == {
        Label.ENABLES_ANONYMOUS_LOGINS,
        Label.WEAKENS_MFA,
        Label.GRANTS_PERMISSION,
    }


def test_unknown_permission_names_get_a_did_you_mean(load: Load) -> None:
    live = _live(group("G", 1))
    live["groups"].permission_names = frozenset({"canRunTools", "canUseChat"})
    manifest = load({"groups": [{"name": "N", "permissions": {"canRunTool": True}}]})
    ctx = PlanContext(manifest=manifest, live=live)
    assert REGISTRY["groups"].problems(ctx) == [
        (
            ("groups", "N"),
            "group 'N': unknown permission 'canRunTool' (did you mean 'canRunTools'?)",
        )
    ]
    live["groups"].permission_names = None  # nothing read: nothing to check against
    assert REGISTRY["groups"].problems(ctx) == []
