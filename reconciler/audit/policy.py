"""Policy checks: the declared state at validate, the resulting state at plan (docs/audit.md).

``read_policy_state`` belongs to the read phase (it reads what the check needs beyond
``read_live``); ``check_plan_policy`` and ``policy_violations`` are pure; the workflow
refuses a violating plan after showing it, before any write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.audit.rules import admin_groups, matches_every_address
from reconciler.audit.state import AuditState, GroupState, TechnicianState, from_live, from_manifest
from reconciler.client.api import SimpleHelpClient
from reconciler.errors import ShcfgError
from reconciler.manifest import Issue, LoadedManifest, Manifest
from reconciler.plan import Action, Plan

_Key = tuple[str, str]


def active(model: Manifest) -> bool:
    """Any rule switched on, or any waiver to show."""
    p = model.policy
    switches = (p.requireMfa, p.forbidGroupLogins, p.requireTechRestrictions)
    on = any(switches) or p.forbidMatchAllRestrictions or p.maxAdministrators is not None
    return on or bool(model.policyExceptions)


def check_declared(loaded: LoadedManifest) -> list[Issue]:
    """Violations by what the manifests declare, each at the declaring object's place."""
    model = loaded.model
    if not active(model):
        return []
    where = loaded.locations
    return [
        Issue(where.get(key), message)
        for key, message in _violations(model, from_manifest(loaded), declared=True)
    ]


def policy_violations(
    manifest: LoadedManifest, live: AuditState, *, removed: frozenset[_Key] = frozenset()
) -> list[str]:
    """Violations of the state a plan would leave: ``live`` with the declarations applied
    and the objects the plan deletes (``removed``: (kind, identity)) gone."""
    model = manifest.model
    if not active(model):
        return []
    state = resulting_state(model, live, removed)
    return [message for _, message in _violations(model, state, declared=False)]


def read_policy_state(
    loaded: LoadedManifest, live: dict[str, Any], client: SimpleHelpClient, *, concurrency: int
) -> AuditState | None:
    """Read phase: what the policy check needs beyond ``read_live`` (None: no policy)."""
    if not active(loaded.model):
        return None
    return from_live(client, live, version=None, concurrency=concurrency)


def check_plan_policy(loaded: LoadedManifest, state: AuditState | None, plan: Plan) -> list[str]:
    """Pure: the violations of the state ``plan`` would leave; waivers become plan warnings."""
    if state is None:
        return []
    removed = frozenset((c.kind, c.identity) for c in plan.changes if c.action is Action.DELETE)
    for waiver in loaded.model.policyExceptions:
        plan.warnings.append(
            f"policy exception: {waiver.rule} waived for "
            f"{'restriction' if waiver.pattern else 'group' if waiver.group else 'technician'} "
            f"{waiver.target!r}: {waiver.reason}"
        )
    return policy_violations(loaded, state, removed=removed)


def refuse(violations: list[str]) -> None:
    """One error listing every violation (the plan was shown first)."""
    if violations:
        raise ShcfgError(
            "\n".join(["plan refused: the result would break the manifests' policy:", *violations])
        )


def resulting_state(model: Manifest, live: AuditState, removed: frozenset[_Key]) -> AuditState:
    """``live`` after the declarations: declared attributes win, undeclared ones stay."""
    groups = dict(live.groups)
    renamed: dict[str, str] = {}
    for g in model.groups:
        old = g.renamedFrom if g.name not in groups and g.renamedFrom in groups else None
        base = groups.pop(old) if old else groups.get(g.name)
        if old:
            renamed[old] = g.name
        declared = g.model_dump(
            mode="json",
            exclude_none=True,
            exclude={"name", "renamedFrom", "permissions", "password", "videoPassword"},
        )
        attrs = _merged(base.attrs if base else {}, declared)
        perms = {**((base.permissions or {}) if base else {}), **(g.permissions or {})}
        groups[g.name] = GroupState(g.name, attrs, perms)
    techs: dict[str, TechnicianState] = {
        name: _renamed(t, renamed) for name, t in live.technicians.items()
    }
    for t in model.technicians:
        old = t.renamedFrom if t.username not in techs and t.renamedFrom in techs else None
        current = techs.pop(old) if old else techs.get(t.username)
        techs[t.username] = TechnicianState(
            username=t.username,
            groups=tuple(t.groups) if t.groups is not None else (current.groups if current else ()),
            enabled=t.enabled if t.enabled is not None else (current.enabled if current else None),
            isAnonymous=current.isAnonymous if current else False,
            appProfilesUser=current.appProfilesUser if current else False,
            allowLocallyAuthenticatedLogins=(
                t.allowLocallyAuthenticatedLogins
                if t.allowLocallyAuthenticatedLogins is not None
                else (current.allowLocallyAuthenticatedLogins if current else None)
            ),
        )
    restrictions = list(live.restrictions or ())
    restrictions += [p for p in model.server.techRestrictions or [] if p not in restrictions]
    return AuditState(
        live.version,
        {n: g for n, g in groups.items() if ("groups", n) not in removed},
        {n: t for n, t in techs.items() if ("technicians", n) not in removed},
        tuple(p for p in restrictions if ("techRestrictions", p) not in removed),
    )


def _violations(
    model: Manifest, state: AuditState, *, declared: bool
) -> Iterator[tuple[_Key, str]]:
    policy = model.policy
    waived = {(w.rule, w.target) for w in model.policyExceptions}
    for group in state.groups.values():
        key = ("groups", group.name)
        mfa = group.setting("mfaSettings", "app") is True
        mfa = mfa or group.setting("mfaSettings", "email") is True
        if policy.requireMfa and not mfa and ("requireMfa", group.name) not in waived:
            yield key, f"policy requireMfa: group {group.name!r} has neither app nor e-mail MFA on"
        logins = group.attrs.get("allowAnonymousLogins") is True
        if policy.forbidGroupLogins and logins and ("forbidGroupLogins", group.name) not in waived:
            yield key, f"policy forbidGroupLogins: group {group.name!r} allows anonymous logins"
    if policy.requireTechRestrictions and not state.restrictions:
        what = "the manifests declare" if declared else "the server would keep"
        yield (
            ("policy", "requireTechRestrictions"),
            f"policy requireTechRestrictions: {what} no technician IP restriction",
        )
    if policy.forbidMatchAllRestrictions:
        for pattern in state.restrictions or ():
            if (
                matches_every_address(pattern)
                and ("forbidMatchAllRestrictions", pattern) not in waived
            ):
                yield (
                    ("techRestrictions", pattern),
                    f"policy forbidMatchAllRestrictions: restriction {pattern!r} matches every "
                    "address",
                )
    if policy.maxAdministrators is not None:
        admins = sorted(
            {
                t.username
                for g in admin_groups(state)
                for t in state.members(g.name)
                if t.active and ("maxAdministrators", t.username) not in waived
            }
        )
        if len(admins) > policy.maxAdministrators:
            yield (
                ("policy", "maxAdministrators"),
                f"policy maxAdministrators: {len(admins)} technicians hold administration "
                f"permissions (at most {policy.maxAdministrators}): {', '.join(admins)}",
            )


def _merged(base: Mapping[str, Any], declared: Mapping[str, Any]) -> dict[str, Any]:
    """Nested settings merge key by key, as the server applies a partial update."""
    out = dict(base)
    for key, value in declared.items():
        old = out.get(key)
        out[key] = {**old, **value} if isinstance(old, dict) and isinstance(value, dict) else value
    return out


def _renamed(tech: TechnicianState, renamed: dict[str, str]) -> TechnicianState:
    if not renamed or not any(g in renamed for g in tech.groups):
        return tech
    groups = tuple(renamed.get(g, g) for g in tech.groups)
    return TechnicianState(
        tech.username,
        groups,
        tech.enabled,
        tech.isAnonymous,
        tech.appProfilesUser,
        tech.allowLocallyAuthenticatedLogins,
    )
