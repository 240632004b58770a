"""Technicians end to end: memberships by name, passwords, prune rules, ignore, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import Shcfg

BASE = """\
version: 1
groups:
  - name: Helpdesk
  - name: Field
technicians:
  - username: alice
    displayName: Alice Smith
    emailAddress: alice@example.com
    enabled: true
    allowLocallyAuthenticatedLogins: true
    groups: [Helpdesk]
    password: ${env:ALICE_PW}
  - username: bob
    displayName: Bob Jones
    groups: [Helpdesk, Field]
"""
ENV = {"ALICE_PW": "alice-pass-8812"}


def test_create_joins_groups_created_in_the_same_run(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE)
    result = shcfg("apply", str(path), "--auto-approve", env=ENV)
    assert result.exit_code == 0, result.output
    writes = shcfg.writes()
    assert writes.index("groups/new") < writes.index("technicians/new")
    techs = shcfg.technicians()
    assert techs["alice"]["groups"] == ["Helpdesk"]
    assert techs["bob"]["groups"] == ["Field", "Helpdesk"]
    assert techs["alice"]["passwordSet"] is True
    assert techs["bob"]["passwordSet"] is False
    assert techs["alice"]["emailAddress"] == "alice@example.com"
    assert shcfg("plan", str(path), "--detailed-exitcode", env=ENV).exit_code == 0


def test_update_membership_and_disable_is_labelled(shcfg: Shcfg) -> None:
    assert shcfg("apply", str(shcfg.manifest(BASE)), "--auto-approve", env=ENV).exit_code == 0
    changed = BASE.replace("groups: [Helpdesk, Field]", "groups: [Field]\n    enabled: false")
    path = shcfg.manifest(changed)
    plan = shcfg("plan", str(path), env=ENV)
    assert '~ groups: ["Field", "Helpdesk"] -> ["Field"]' in plan.stdout
    assert "disables-technician" in plan.stdout
    assert shcfg("apply", str(path), "--auto-approve", env=ENV).exit_code == 0
    assert shcfg.technicians()["bob"]["groups"] == ["Field"]
    assert shcfg.technicians()["bob"]["enabled"] is False


def test_group_removed_after_memberships_move(shcfg: Shcfg) -> None:
    assert shcfg("apply", str(shcfg.manifest(BASE)), "--auto-approve", env=ENV).exit_code == 0
    moved = BASE.replace("  - name: Field\n", "").replace("[Helpdesk, Field]", "[Helpdesk]")
    path = shcfg.manifest(moved + "prune: {groups: true}\n")
    shcfg.sandbox.reset_calls()
    assert shcfg("apply", str(path), "--auto-approve", env=ENV).exit_code == 0
    writes = shcfg.writes()
    assert writes.index("technicians/set") < writes.index("groups/remove")
    assert shcfg.technicians()["bob"]["groups"] == ["Helpdesk"]


def test_prune_spares_ignored_anonymous_and_app_profile_accounts(
    shcfg_seeded: Callable[[dict[str, Any]], Shcfg],
) -> None:
    extra = ["admin", "svc-backup", "temp"]
    shcfg = shcfg_seeded(
        {
            "technicians": [
                *({"username": name} for name in extra),
                {"username": "anon-1", "isAnonymous": True},
                {"username": "app-1", "appProfilesUser": True},
            ]
        }
    )
    path = shcfg.manifest(
        BASE + "prune: {technicians: true}\nignore: {technicians: [admin, 'svc-*']}\n"
    )
    plan = shcfg("plan", str(path), env=ENV)
    assert '- technicians "temp"' in plan.stdout
    assert '? technicians "anon-1" (isAnonymous accounts are never pruned)' in plan.stdout
    assert '? technicians "app-1" (appProfilesUser accounts are never pruned)' in plan.stdout
    assert "admin" not in plan.stdout and "svc-backup" not in plan.stdout
    assert shcfg("apply", str(path), "--auto-approve", env=ENV).exit_code == 0
    assert set(shcfg.technicians()) == {"alice", "bob", "admin", "svc-backup", "anon-1", "app-1"}


def test_prune_off_names_undeclared(shcfg: Shcfg) -> None:
    seed = shcfg.manifest(BASE + "  - username: temp\n", name="seed.yaml")
    assert shcfg("apply", str(seed), "--auto-approve", env=ENV).exit_code == 0
    plan = shcfg("plan", str(shcfg.manifest(BASE)), "--detailed-exitcode", env=ENV)
    assert plan.exit_code == 0
    assert '? technicians "temp" (prune.technicians is off)' in plan.stdout


def test_unknown_group_is_a_validation_error(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE.replace("groups: [Helpdesk]", "groups: [Nope]"))
    result = shcfg("validate", str(path), env=ENV)
    assert result.exit_code == 1
    assert f"{path}:" in result.stderr and "Nope" in result.stderr
    plan = shcfg("plan", str(path), env=ENV)
    assert plan.exit_code == 1 and "Nope" in plan.stderr
    assert shcfg.writes() == []


def test_password_not_set_again_without_rotate(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE)
    assert shcfg("apply", str(path), "--auto-approve", env=ENV).exit_code == 0
    shcfg.sandbox.reset_calls()
    assert (
        shcfg("apply", str(path), "--auto-approve", env={"ALICE_PW": "changed-pw-1"}).exit_code == 0
    )
    assert "technicians/password/set" not in shcfg.writes()
    result = shcfg(
        "apply", str(path), "--auto-approve", "--rotate-secrets", env={"ALICE_PW": "x-pw-2222"}
    )
    assert result.exit_code == 0
    assert shcfg.writes().count("technicians/password/set") == 1
    assert "x-pw-2222" not in result.output
