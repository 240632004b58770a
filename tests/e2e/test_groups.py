"""Technician groups end to end: create, update, no-op, prune on/off, ignore, errors."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import Shcfg

BASE = """\
version: 1
groups:
  - name: Helpdesk
    allowAnonymousLogins: false
    max_groupShSessions: 10
    ldapSettings: {enabled: false}
    mfaSettings: {app: true, email: false, rememberMachine: true}
    permissions: {canRunTools: true, canUseChat: false}
    password: ${env:GROUP_PW}
"""
ENV = {"GROUP_PW": "grp-pass-5521"}


def _group(shcfg: Shcfg, name: str) -> dict[str, Any]:
    return shcfg.groups()[name]


def test_create_then_no_op(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE)
    plan = shcfg("plan", str(path), "--detailed-exitcode", env=ENV)
    assert plan.exit_code == 2
    assert '+ groups "Helpdesk"' in plan.stdout
    assert "password = (sensitive)" in plan.stdout
    assert shcfg.writes() == []
    assert shcfg("apply", str(path), "--auto-approve", env=ENV).exit_code == 0
    group = _group(shcfg, "Helpdesk")
    assert group["max_groupShSessions"] == 10
    assert group["mfaSettings"]["rememberMachine"] is True
    assert group["permissions"]["canRunTools"] is True
    assert group["passwordSet"] is True
    assert shcfg("plan", str(path), "--detailed-exitcode", env=ENV).exit_code == 0


def test_update_shows_field_diffs_and_keeps_undeclared_nested_keys(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE)
    assert shcfg("apply", str(path), "--auto-approve", env=ENV).exit_code == 0
    changed = BASE.replace("max_groupShSessions: 10", "max_groupShSessions: 12").replace(
        "email: false, rememberMachine: true", "email: true, rememberMachine: true"
    )
    path = shcfg.manifest(changed)
    plan = shcfg("plan", str(path), env=ENV)
    assert "~ max_groupShSessions: 10 -> 12" in plan.stdout
    assert "~ mfaSettings.email: false -> true" in plan.stdout
    assert "Plan: 0 to create, 1 to update, 0 to delete." in plan.stdout
    assert shcfg("apply", str(path), "--auto-approve", env=ENV).exit_code == 0
    mfa = _group(shcfg, "Helpdesk")["mfaSettings"]
    assert mfa == {**mfa, "app": True, "email": True, "rememberMachine": True}
    assert shcfg("plan", str(path), "--detailed-exitcode", env=ENV).exit_code == 0


def test_permission_revoked_and_password_only_with_rotate(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE)
    assert shcfg("apply", str(path), "--auto-approve", env=ENV).exit_code == 0
    path = shcfg.manifest(BASE.replace("canRunTools: true", "canRunTools: false"))
    plan = shcfg("plan", str(path), env=ENV)
    assert "~ permissions.canRunTools: true -> false" in plan.stdout
    assert "password" not in plan.stdout
    rotate = shcfg("plan", str(path), "--rotate-secrets", env=ENV)
    assert "~ password: (sensitive) -> (sensitive)" in rotate.stdout
    shcfg.sandbox.reset_calls()
    assert shcfg("apply", str(path), "--auto-approve", "--rotate-secrets", env=ENV).exit_code == 0
    assert "groups/password/set" in shcfg.writes()
    assert "groups/permissions/set" in shcfg.writes()


def test_prune_off_lists_undeclared_prune_on_deletes(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE + "  - name: Old\n")
    assert shcfg("apply", str(path), "--auto-approve", env=ENV).exit_code == 0
    path = shcfg.manifest(BASE)
    plan = shcfg("plan", str(path), "--detailed-exitcode", env=ENV)
    assert plan.exit_code == 0
    assert '? groups "Old" (prune.groups is off)' in plan.stdout
    pruned = shcfg.manifest(BASE + "prune: {groups: true}\n")
    plan = shcfg("plan", str(pruned), env=ENV)
    assert '- groups "Old"' in plan.stdout
    assert shcfg("apply", str(pruned), "--auto-approve", env=ENV).exit_code == 0
    assert set(shcfg.groups()) == {"Helpdesk"}


def test_ignore_keeps_matching_groups(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE + "  - name: vendor-a\n  - name: vendor-b\n")
    assert shcfg("apply", str(path), "--auto-approve", env=ENV).exit_code == 0
    path = shcfg.manifest(BASE + "prune: {groups: true}\nignore: {groups: ['vendor-*']}\n")
    plan = shcfg("plan", str(path), "--detailed-exitcode", env=ENV)
    assert plan.exit_code == 0, plan.output
    assert "vendor-a" not in plan.stdout


def test_validation_error_names_file_line_col(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE.replace("max_groupShSessions: 10", "max_groupShSessions: ten"))
    result = shcfg("plan", str(path), env=ENV)
    assert result.exit_code == 1
    assert f"{path}:5:26: groups[0].max_groupShSessions" in result.stderr
    assert "Traceback" not in result.output
    assert shcfg.sandbox.calls == []


def test_missing_secret_is_an_error_at_its_place(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE)
    result = shcfg("validate", str(path))
    assert result.exit_code == 1
    assert f"{path}:9:" in result.stderr
    assert "GROUP_PW" in result.stderr
