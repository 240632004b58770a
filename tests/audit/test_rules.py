"""Unit tests of the rules over hand-built AuditStates: each fires, and stays quiet."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.audit.rules import (
    RULES,
    evaluate,
    group_login_exposed,
    is_admin_permission,
    matches_every_address,
)
from reconciler.audit.state import AuditState, GroupState, TechnicianState

SAFE_ATTRS: dict[str, Any] = {
    "allowAnonymousLogins": False,
    "mfaSettings": {"app": True, "email": False, "rememberMachine": False, "emailCodeLength": 6},
    "ldapSettings": {"enabled": False},
    "passwordSettings": {"strong": True},
}


def _state(
    attrs: dict[str, Any] | None = None,
    *,
    perms: dict[str, bool] | None = None,
    techs: list[TechnicianState] | None = None,
    restrictions: tuple[str, ...] | None = ("10\\.0\\..*",),
    version: str | None = "5.5.16",
) -> AuditState:
    group = GroupState("G", {**SAFE_ATTRS, **(attrs or {})}, perms or {"canRunTools": True})
    members = techs if techs is not None else [TechnicianState("t", groups=("G",))]
    return AuditState(version, {"G": group}, {t.username: t for t in members}, restrictions)


def _rules(state: AuditState, **kwargs: Any) -> set[str]:
    return {f.rule for f in evaluate(state, source="live", **kwargs)}


def test_a_safe_state_has_no_finding() -> None:
    assert _rules(_state()) == set()


@pytest.mark.parametrize(
    ("rule", "state"),
    [
        ("SH001", _state(version="5.5.7")),
        ("SH002", _state({"allowAnonymousLogins": True})),
        ("SH003", _state(techs=[TechnicianState("anon", groups=("G",), isAnonymous=True)])),
        ("SH004", _state({"mfaSettings": {"app": False, "email": False}})),
        ("SH005", _state(restrictions=())),
        ("SH006", _state(restrictions=("10\\..*", "[0-9a-f:.]+"))),
        (
            "SH007",
            _state(
                perms={"canManageGroups": True},
                techs=[TechnicianState(f"t{i}", groups=("G",)) for i in range(4)],
            ),
        ),
        (
            "SH008",
            _state(
                perms={"canAccessAdministration": True},
                techs=[TechnicianState("gone", groups=("G",), enabled=False)],
            ),
        ),
        ("SH009", _state({"passwordSettings": {}})),
        ("SH010", _state({"ldapSettings": {"enabled": True, "memberOfGroups": []}})),
        ("SH011", _state({"mfaSettings": {"app": True, "rememberMachine": True}})),
        ("SH012", _state({"mfaSettings": {"email": True, "emailCodeLength": 4}})),
    ],
)
def test_each_rule_fires(rule: str, state: AuditState) -> None:
    assert rule in _rules(state)
    assert rule in RULES


def test_rules_read_members_not_groups_alone() -> None:
    no_local = [TechnicianState("t", groups=("G",), allowLocallyAuthenticatedLogins=False)]
    disabled = [TechnicianState("t", groups=("G",), enabled=False)]
    off = {"mfaSettings": {"app": False, "email": False}, "passwordSettings": {}}
    assert _rules(_state(off, techs=no_local)) == set()
    assert _rules(_state(off, techs=disabled)) == set()
    assert _rules(_state(off, techs=[])) == set()


def test_unknown_is_not_a_finding() -> None:
    """A manifest that declares nothing about MFA, LDAP or restrictions shows nothing."""
    state = AuditState(None, {"G": GroupState("G", {})}, {"t": TechnicianState("t", ("G",))})
    assert _rules(state) == set()


def test_ldap_scoped_by_an_advanced_filter_is_quiet() -> None:
    ldap = {"enabled": True, "advanced": True, "filter": "(memberOf=CN=Support)"}
    assert _rules(_state({"ldapSettings": ldap})) == set()


def test_max_admins_counts_enabled_members_only() -> None:
    techs = [TechnicianState(f"t{i}", groups=("G",)) for i in range(3)]
    techs.append(TechnicianState("off", groups=("G",), enabled=False))
    state = _state(perms={"canManageTechnicians": True}, techs=techs)
    assert "SH007" not in _rules(state)
    assert "SH007" in _rules(state, max_admins=2)


@pytest.mark.parametrize("pattern", [".*", "", ".", "^.*$", "[0-9a-fA-F:.]*", "(?s).*"])
def test_match_all_patterns_are_found_by_testing(pattern: str) -> None:
    assert matches_every_address(pattern)


@pytest.mark.parametrize(
    "pattern", ["10\\.0\\..*", "^203\\.0\\.113\\.", "::1", "1", "(", "\\d+\\."]
)
def test_narrow_and_invalid_patterns_are_not_match_all(pattern: str) -> None:
    assert not matches_every_address(pattern)


def test_admin_permission_names() -> None:
    assert all(
        is_admin_permission(n)
        for n in ("canAccessAdministration", "canManageGroups", "canManageTechnicians", "isAdmin")
    )
    assert not any(is_admin_permission(n) for n in ("canRunTools", "canUseChat", "canViewHistory"))


def test_group_login_severity_follows_the_version() -> None:
    assert group_login_exposed(None)
    assert group_login_exposed("5.5.15")
    assert group_login_exposed("no digits here")
    assert not group_login_exposed("5.5.16")
    severities = {}
    for version in ("5.5.15", "5.5.16"):
        state = _state({"allowAnonymousLogins": True}, version=version)
        (finding,) = [f for f in evaluate(state, source="live") if f.rule == "SH002"]
        severities[version] = finding.severity.value
    assert severities == {"5.5.15": "high", "5.5.16": "medium"}


def test_remediation_yaml_quotes_odd_names() -> None:
    state = AuditState(
        None,
        {"a: b": GroupState("a: b", {"allowAnonymousLogins": True})},
        {},
        None,
    )
    (finding,) = evaluate(state, source="manifests")
    assert finding.manifest == 'groups:\n  - name: "a: b"\n    allowAnonymousLogins: false'
