"""`policy:` in manifests: refused at validate (declared state, file:line) and at plan
(resulting state, undeclared live objects included) before any write; waivers shown."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import Shcfg

LIVE: dict[str, Any] = {
    "techRestrictions": ["10\\.0\\..*"],
    "groups": [
        {"name": "Legacy", "allowAnonymousLogins": True, "mfaSettings": {"app": True}},
        {"name": "Admins", "permissions": {"canAccessAdministration": True}},
    ],
    "technicians": [{"username": f"adm{i}", "groups": ["Admins"]} for i in range(3)],
}
SAFE_GROUP = "mfaSettings: {app: true}\n    allowAnonymousLogins: false"


def _manifest(policy: str, groups: str = "", extra: str = "") -> str:
    return f"version: 1\npolicy:\n{policy}\n{groups}{extra}"


def test_validate_refuses_declared_violations_at_their_lines(shcfg: Shcfg) -> None:
    path = shcfg.manifest(
        """\
        version: 1
        policy:
          requireMfa: true
          forbidGroupLogins: true
          requireTechRestrictions: true
          forbidMatchAllRestrictions: true
          maxAdministrators: 1
        server:
          techRestrictions: ['.*']
        groups:
          - name: Open
            allowAnonymousLogins: true
          - name: Admins
            mfaSettings: {app: true}
            permissions: {canManageTechnicians: true}
        technicians:
          - {username: a, groups: [Admins]}
          - {username: b, groups: [Admins]}
        """
    )
    result = shcfg("validate", str(path))
    assert result.exit_code == 1
    err = result.stderr
    assert "manifest.yaml:11:5: policy requireMfa: group 'Open'" in err
    assert "manifest.yaml:11:5: policy forbidGroupLogins: group 'Open'" in err
    assert "manifest.yaml:9:22: policy forbidMatchAllRestrictions: restriction '.*'" in err
    assert "manifest.yaml:7:3: policy maxAdministrators: 2 technicians" in err
    assert "requireTechRestrictions" not in err
    assert "Traceback" not in result.output


def test_validate_accepts_a_compliant_manifest_and_waivers(shcfg: Shcfg) -> None:
    path = shcfg.manifest(
        """\
        version: 1
        policy: {requireMfa: true, forbidGroupLogins: true, requireTechRestrictions: true}
        server:
          techRestrictions: ['10\\.0\\..*']
        groups:
          - name: Helpdesk
            mfaSettings: {app: true}
          - name: Kiosk
            mfaSettings: {app: false, email: false}
        policyExceptions:
          - {rule: requireMfa, group: Kiosk, reason: "shared kiosk login, IP-restricted"}
        """
    )
    result = shcfg("validate", str(path))
    assert result.exit_code == 0, result.output


def test_validate_refuses_missing_restrictions_and_bad_exceptions(shcfg: Shcfg) -> None:
    path = shcfg.manifest(
        """\
        version: 1
        policy:
          requireTechRestrictions: true
        policyExceptions:
          - {rule: requireTechRestrictions, group: Kiosk, reason: x}
          - {rule: requireMfa, technician: bob, reason: x}
        """
    )
    result = shcfg("validate", str(path))
    assert result.exit_code == 1
    assert "manifest.yaml:5:5" in result.stderr
    assert "requireTechRestrictions cannot be waived" in result.stderr
    assert "manifest.yaml:6:5" in result.stderr
    assert "a requireMfa exception names exactly one group" in result.stderr


def test_plan_refuses_an_undeclared_live_group_that_breaks_the_policy(
    shcfg_seeded: Callable[[dict[str, Any]], Shcfg],
) -> None:
    shcfg = shcfg_seeded(LIVE)
    path = shcfg.manifest(
        _manifest("  forbidGroupLogins: true", f"groups:\n  - name: New\n    {SAFE_GROUP}\n")
    )
    assert shcfg("validate", str(path)).exit_code == 0
    for command in (("plan",), ("apply", "--auto-approve")):
        result = shcfg(*command, str(path))
        assert result.exit_code == 1, result.output
        assert "plan refused: the result would break the manifests' policy" in result.stderr
        assert "policy forbidGroupLogins: group 'Legacy' allows anonymous logins" in result.stderr
    assert shcfg.writes() == []
    assert [c.query for c in shcfg.sandbox.calls if c.write] == []


def test_plan_counts_administrators_the_server_keeps(
    shcfg_seeded: Callable[[dict[str, Any]], Shcfg],
) -> None:
    shcfg = shcfg_seeded(LIVE)
    path = shcfg.manifest(
        _manifest(
            "  maxAdministrators: 3", extra="technicians:\n  - {username: adm3, groups: [Admins]}\n"
        )
    )
    result = shcfg("plan", str(path))
    assert result.exit_code == 1
    assert "policy maxAdministrators: 4 technicians hold administration permissions" in (
        result.stderr
    )
    assert shcfg.writes() == []


def test_plan_passes_when_the_change_fixes_the_live_state_and_shows_waivers(
    shcfg_seeded: Callable[[dict[str, Any]], Shcfg],
) -> None:
    shcfg = shcfg_seeded(LIVE)
    path = shcfg.manifest(
        """\
        version: 1
        policy:
          forbidGroupLogins: true
          requireTechRestrictions: true
          maxAdministrators: 2
        groups:
          - name: Legacy
            allowAnonymousLogins: false
        policyExceptions:
          - {rule: maxAdministrators, technician: adm2, reason: "break-glass account"}
        """
    )
    result = shcfg("plan", str(path))
    assert result.exit_code == 0, result.output
    assert "allowAnonymousLogins: true -> false" in result.stdout
    assert "policy exception: maxAdministrators waived for technician 'adm2': " in result.stdout
    assert "break-glass account" in result.stdout
    assert shcfg.writes() == []


def test_plan_refuses_pruning_the_last_restriction(
    shcfg_seeded: Callable[[dict[str, Any]], Shcfg],
) -> None:
    shcfg = shcfg_seeded(LIVE)
    path = shcfg.manifest(
        _manifest(
            "  requireTechRestrictions: true",
            extra="server:\n  techRestrictions: []\nprune:\n  techRestrictions: true\n",
        )
    )
    assert shcfg("validate", str(path)).exit_code == 1
    result = shcfg("plan", str(path))
    assert result.exit_code == 1
    assert "policy requireTechRestrictions: the server would keep no technician IP" in (
        result.stderr
    )
    assert shcfg.writes() == []


def test_no_policy_costs_no_extra_request(
    shcfg_seeded: Callable[[dict[str, Any]], Shcfg],
) -> None:
    shcfg = shcfg_seeded(LIVE)
    path = shcfg.manifest("version: 1\ngroups:\n  - name: Legacy\n")
    assert shcfg("plan", str(path)).exit_code == 0
    queries = [c.query for c in shcfg.sandbox.calls]
    assert "groups/permissions/get" not in queries
    assert "server/tech-restrictions/get" not in queries
