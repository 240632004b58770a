"""The audit rules (docs/audit.md): each a pure function of an ``AuditState``.

Rule IDs are stable: a dashboard keys on them. Add a rule at the end with the next ID.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from reconciler.advisories import affected
from reconciler.audit.findings import Finding, Severity
from reconciler.audit.state import AuditState, GroupState

DEFAULT_MAX_ADMINS = 3
GROUP_LOGIN_CVE = "CVE-2026-48558"
#: Addresses a restriction is tried against; one that matches all of them lets anyone in.
SAMPLE_ADDRESSES = (
    "1.2.3.4",
    "203.0.113.9",
    "10.0.0.1",
    "8.8.8.8",
    "192.168.254.77",
    "::1",
    "2001:db8::beef",
    "fe80::9",
)
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9 _.@-]*")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: Severity  # the highest it reports (SARIF's default level)


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule("SH001", "server version affected by a published advisory", Severity.HIGH),
        Rule("SH002", "group allows anonymous (group-authenticated) logins", Severity.HIGH),
        Rule("SH003", "anonymous technician account present", Severity.MEDIUM),
        Rule(
            "SH004",
            "no MFA for a group whose members log in with a local password",
            Severity.MEDIUM,
        ),
        Rule("SH005", "no technician IP restrictions", Severity.MEDIUM),
        Rule("SH006", "technician IP restriction matches every address", Severity.MEDIUM),
        Rule("SH007", "administration permissions held by too many technicians", Severity.MEDIUM),
        Rule("SH008", "administration permissions held by a disabled account", Severity.LOW),
        Rule(
            "SH009", "password settings off for a group whose members log in locally", Severity.LOW
        ),
        Rule("SH010", "LDAP logins not limited to directory groups", Severity.MEDIUM),
        Rule("SH011", "MFA can be skipped on remembered machines", Severity.LOW),
        Rule("SH012", "e-mail MFA code shorter than 6 digits", Severity.LOW),
    )
}


def is_admin_permission(name: str) -> bool:
    """Administration-level: names the server gives that administer the server or other
    technicians (``...Administration``, ``canManage...``); see docs/audit.md."""
    lowered = name.lower()
    return "admin" in lowered or lowered.startswith("canmanage")


def admin_groups(state: AuditState) -> list[GroupState]:
    return [
        g
        for g in state.groups.values()
        if any(value and is_admin_permission(name) for name, value in (g.permissions or {}).items())
    ]


def matches_every_address(pattern: str) -> bool:
    """True when ``pattern`` finds a match in every sample address (tested, not read)."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        return False
    return all(compiled.search(address) for address in SAMPLE_ADDRESSES)


def group_login_exposed(version: str | None) -> bool:
    """The version is unknown or below the fix of the group-login advisory."""
    if version is None:
        return True
    try:
        return any(a.id == GROUP_LOGIN_CVE for a in affected(version))
    except ValueError:
        return True


def evaluate(
    state: AuditState, *, source: str, max_admins: int = DEFAULT_MAX_ADMINS
) -> list[Finding]:
    """Every finding of every rule over ``state``."""
    checks: list[Callable[[AuditState], Iterator[tuple[str, Severity, str, str, dict[str, str]]]]]
    checks = [_advisories, _groups, _anonymous, _restrictions, lambda s: _admins(s, max_admins)]
    findings = []
    for check in checks:
        for rule, severity, kind, obj, text in check(state):
            findings.append(
                Finding(
                    rule=rule,
                    title=RULES[rule].title,
                    severity=severity,
                    source=source,
                    kind=kind,
                    object=obj,
                    evidence=text["evidence"],
                    remediation=text["remediation"],
                    manifest=text.get("manifest"),
                )
            )
    return findings


_Hit = tuple[str, Severity, str, str, dict[str, str]]


def _advisories(state: AuditState) -> Iterator[_Hit]:
    if state.version is None:
        return
    try:
        found = affected(state.version)
    except ValueError:
        return
    for advisory in found:
        yield (
            "SH001",
            Severity(advisory.severity),
            "server",
            advisory.id,
            {
                "evidence": f"SimpleHelp {state.version} is affected by {advisory.id}: "
                f"{advisory.title}",
                "remediation": f"upgrade to one of {', '.join(advisory.fixed)} or later; "
                f"see {advisory.sources[0]}",
            },
        )


def _groups(state: AuditState) -> Iterator[_Hit]:
    for group in state.groups.values():
        name, q = group.name, _quote(group.name)
        local = [t.username for t in state.members(name) if t.active and t.local_login]
        if group.attrs.get("allowAnonymousLogins") is True:
            exposed = group_login_exposed(state.version)
            why = (
                f"; the server version ({state.version or 'unknown'}) is not known to carry "
                f"the {GROUP_LOGIN_CVE} fix (5.5.16)"
                if exposed
                else ""
            )
            yield (
                "SH002",
                Severity.HIGH if exposed else Severity.MEDIUM,
                "groups",
                name,
                {
                    "evidence": f"group {name!r} has allowAnonymousLogins: true{why}",
                    "remediation": "turn group-authenticated logins off; give each person "
                    "a technician account",
                    "manifest": f"groups:\n  - name: {q}\n    allowAnonymousLogins: false",
                },
            )
        mfa_off = group.setting("mfaSettings", "app") is False
        mfa_off = mfa_off and group.setting("mfaSettings", "email") is False
        if mfa_off and local:
            yield (
                "SH004",
                Severity.MEDIUM,
                "groups",
                name,
                {
                    "evidence": f"group {name!r} has neither app nor e-mail MFA on, and "
                    f"{_some(local)} may log in with a local password",
                    "remediation": "turn on app (TOTP) MFA, or e-mail MFA, for the group",
                    "manifest": f"groups:\n  - name: {q}\n    mfaSettings: {{app: true}}",
                },
            )
        yield from _group_settings(group, q, local)


def _group_settings(group: GroupState, q: str, local: list[str]) -> Iterator[_Hit]:
    name = group.name
    settings = group.attrs.get("passwordSettings")
    if isinstance(settings, dict) and local and not any(v is True for v in settings.values()):
        yield (
            "SH009",
            Severity.LOW,
            "groups",
            name,
            {
                # Keys only: the object is undefined and its strings may be sensitive.
                "evidence": f"group {name!r} has no password setting on "
                f"({', '.join(sorted(settings)) or 'none set'}) while {_some(local)} "
                "log in locally",
                "remediation": "turn on the group's password settings in the Technician "
                "Console (the API leaves the object undefined; see docs/audit.md)",
            },
        )
    ldap_on = group.setting("ldapSettings", "enabled") is True
    scoped = group.setting("ldapSettings", "memberOfGroups") or (
        group.setting("ldapSettings", "advanced") is True
        and group.setting("ldapSettings", "filter")
    )
    if ldap_on and not scoped:
        yield (
            "SH010",
            Severity.MEDIUM,
            "groups",
            name,
            {
                "evidence": f"group {name!r} authenticates with LDAP but names no directory "
                "group (memberOfGroups) nor an advanced filter: any directory account may log in",
                "remediation": "name the directory groups whose members may log in",
                "manifest": f"groups:\n  - name: {q}\n    ldapSettings:\n"
                "      memberOfGroups: [CN=Support,OU=Groups,DC=example,DC=com]",
            },
        )
    mfa_on = group.setting("mfaSettings", "app") is True
    email_on = group.setting("mfaSettings", "email") is True
    if (mfa_on or email_on) and group.setting("mfaSettings", "rememberMachine") is True:
        yield (
            "SH011",
            Severity.LOW,
            "groups",
            name,
            {
                "evidence": f"group {name!r} lets technicians skip MFA on a remembered machine",
                "remediation": "ask for MFA at every login",
                "manifest": f"groups:\n  - name: {q}\n    mfaSettings: {{rememberMachine: false}}",
            },
        )
    length = group.setting("mfaSettings", "emailCodeLength")
    if email_on and isinstance(length, int) and not isinstance(length, bool) and length < 6:
        yield (
            "SH012",
            Severity.LOW,
            "groups",
            name,
            {
                "evidence": f"group {name!r} sends {length}-digit e-mail MFA codes",
                "remediation": "use codes of at least 6 digits",
                "manifest": f"groups:\n  - name: {q}\n    mfaSettings: {{emailCodeLength: 6}}",
            },
        )


def _anonymous(state: AuditState) -> Iterator[_Hit]:
    for tech in state.technicians.values():
        if not tech.isAnonymous:
            continue
        groups = ", ".join(tech.groups) or "none"
        yield (
            "SH003",
            Severity.MEDIUM,
            "technicians",
            tech.username,
            {
                "evidence": f"account {tech.username!r} was created by an anonymous group "
                f"login ({'enabled' if tech.active else 'disabled'}; groups: {groups}); "
                "an unexpected one is an indicator of compromise",
                "remediation": "check that the account is expected (session history); "
                "disable it if not, and turn group logins off",
                "manifest": f"technicians:\n  - username: {_quote(tech.username)}\n"
                "    enabled: false",
            },
        )


def _restrictions(state: AuditState) -> Iterator[_Hit]:
    if state.restrictions is None:
        return
    if not state.restrictions:
        yield (
            "SH005",
            Severity.MEDIUM,
            "techRestrictions",
            "server",
            {
                "evidence": "the server has no technician IP restriction: technicians may "
                "log in from any address",
                "remediation": "restrict technician logins to your networks",
                "manifest": "server:\n  techRestrictions:\n    - '10\\.0\\..*'   # your networks",
            },
        )
    for pattern in state.restrictions:
        if matches_every_address(pattern):
            yield (
                "SH006",
                Severity.MEDIUM,
                "techRestrictions",
                pattern,
                {
                    "evidence": f"restriction {pattern!r} matches every sample address "
                    f"({', '.join(SAMPLE_ADDRESSES)}), so it restricts nothing",
                    "remediation": "remove the pattern and declare your networks instead",
                    "manifest": "prune:\n  techRestrictions: true   # removes undeclared "
                    "patterns\nserver:\n  techRestrictions:\n    - '10\\.0\\..*'",
                },
            )


def _admins(state: AuditState, max_admins: int) -> Iterator[_Hit]:
    for group in admin_groups(state):
        granted = sorted(
            n for n, v in (group.permissions or {}).items() if v and is_admin_permission(n)
        )
        members = state.members(group.name)
        active = sorted(t.username for t in members if t.active)
        if len(active) > max_admins:
            yield (
                "SH007",
                Severity.MEDIUM,
                "groups",
                group.name,
                {
                    "evidence": f"group {group.name!r} grants {', '.join(granted)} to "
                    f"{len(active)} enabled technicians (more than {max_admins}): "
                    f"{', '.join(active)}",
                    "remediation": "keep administration to a few named accounts: move the "
                    "others to a group without these permissions",
                },
            )
        for tech in sorted(members, key=lambda t: t.username):
            if not tech.active:
                yield (
                    "SH008",
                    Severity.LOW,
                    "technicians",
                    tech.username,
                    {
                        "evidence": f"disabled account {tech.username!r} is in group "
                        f"{group.name!r}, which grants {', '.join(granted)}",
                        "remediation": "remove the account from the group, or delete it: "
                        "re-enabling it would restore administration rights",
                    },
                )


def _some(usernames: list[str]) -> str:
    shown = ", ".join(sorted(usernames)[:5])
    more = f" and {len(usernames) - 5} more" if len(usernames) > 5 else ""
    return f"{len(usernames)} member(s) ({shown}{more})"


def _quote(value: str) -> str:
    """A YAML scalar: plain when safe, else double-quoted (JSON strings are valid YAML)."""
    return value if _PLAIN.fullmatch(value) and value == value.strip() else json.dumps(value)
