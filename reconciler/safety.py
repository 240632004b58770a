"""Guards against destructive plans (docs/safety.md). Pure: they judge data, read nothing.

The workflow reads every fact a guard needs (live counts, restrictions left alone,
active sessions, whether a project file names the whole manifest set) in the read phase,
at apply time for a saved plan, and passes them in.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from reconciler.manifest import Manifest
from reconciler.plan import Action, Plan, UnsafePlanError
from reconciler.project import PROJECT_FILE, find_project

# A server setting, not objects: without a project file, its guard counts what the set
# loses (patterns deleted and not replaced by the plan's new ones), so that replacing a
# pattern is not "deleting all of them"; emptying the set, or halving it, is still refused
# (docs/decisions.md, decision 15). `keepAccessFrom` guards the lockout.
SETTING_KINDS = frozenset({"techRestrictions"})

# (technician username, session ID) of a live support or access session.
Session = tuple[str, str]


@dataclass(frozen=True)
class Thresholds:
    """A kind's deletions are refused when they exceed BOTH limits (as octoDNS does).

    They apply when a project file names the whole manifest set. Without one, nothing
    says the files given are the whole set (one file of four would prune what the other
    three declare), so deleting every live object of a kind, or more than
    `unscoped_share` of them, is refused whatever the count.
    """

    max_deletes: int = 10
    max_delete_share: float = 0.25
    unscoped_share: float = 0.5


@dataclass(frozen=True)
class Protections:
    """What manifests protect: `preventDestroy` objects and `keepAccessFrom` addresses."""

    protected: frozenset[tuple[str, str]] = frozenset()
    keep_access_from: tuple[str, ...] = ()

    @classmethod
    def of(cls, model: Manifest) -> Protections:
        protected = set()
        for kind, key in (
            ("groups", "name"),
            ("technicians", "username"),
            ("machines", "machineID"),
        ):
            for obj in getattr(model, kind):
                if obj.lifecycle is not None and obj.lifecycle.preventDestroy:
                    protected.add((kind, str(getattr(obj, key))))
        return cls(frozenset(protected), tuple(model.server.keepAccessFrom or ()))

    def __or__(self, other: Protections) -> Protections:
        """Both sets: a saved plan keeps what was reviewed and what the manifests add since."""
        keep = tuple(dict.fromkeys((*self.keep_access_from, *other.keep_access_from)))
        return Protections(self.protected | other.protected, keep)


@dataclass(frozen=True)
class Facts:
    """Live state the guards judge a plan against, read in the read phase."""

    live_counts: dict[str, int] = field(default_factory=dict)
    # Restrictions on the server now (the plan's own creates and deletes come on top).
    live_restrictions: frozenset[str] = frozenset()
    # None when not read: the manifests can neither delete nor disable a technician.
    sessions: tuple[Session, ...] | None = None
    # True when a project file (shcfg.yaml) names the whole manifest set.
    project: bool = False


def facts_of(
    current: Plan,
    model: Manifest,
    sessions: Iterable[Session] | None,
    *,
    project: bool | None = None,
) -> Facts:
    """Facts from a plan made of live state just read (and the model it was made from).

    `project` None: whether `shcfg.yaml` is found from the working directory up.
    """
    undeclared = {u.identity for u in current.undeclared if u.kind == "techRestrictions"}
    planned = [c for c in current.changes if c.kind == "techRestrictions"]
    missing = {c.identity for c in planned if c.action is Action.CREATE}
    pruned = {c.identity for c in planned if c.action is Action.DELETE}
    present = set(model.server.techRestrictions or ()) - missing
    return Facts(
        live_counts=dict(current.live_counts),
        live_restrictions=frozenset(present | undeclared | pruned),
        sessions=None if sessions is None else tuple(sessions),
        project=find_project() is not None if project is None else project,
    )


def may_stop_technicians(model: Manifest) -> bool:
    """True when a plan of these manifests can delete or disable a technician."""
    return bool(model.prune.technicians) or any(t.enabled is False for t in model.technicians)


def stopped_technicians(plan: Plan) -> set[str]:
    """Technicians the plan deletes or disables: the ones a live session protects."""
    return {
        c.identity
        for c in plan.changes
        if c.kind == "technicians"
        and (
            c.action is Action.DELETE
            or any(f.path == "enabled" and f.after is False for f in c.fields)
        )
    }


def check_plan(
    plan: Plan,
    protections: Protections,
    facts: Facts,
    *,
    force: bool,
    thresholds: Thresholds = Thresholds(),
) -> None:
    """Raise UnsafePlanError naming every guard the plan trips."""
    problems = _prevent_destroy(plan, protections) + _keep_access(plan, protections, facts)
    if not force:
        problems += _delete_thresholds(plan, facts, thresholds) + _active_sessions(plan, facts)
    if problems:
        raise UnsafePlanError("\n".join(problems))


def _delete_thresholds(plan: Plan, facts: Facts, thresholds: Thresholds) -> list[str]:
    problems = []
    for kind, live in sorted(facts.live_counts.items()):
        deletes = sum(1 for c in plan.changes if c.kind == kind and c.action is Action.DELETE)
        if not live or not deletes:
            continue
        share = deletes / live
        if facts.project:
            if deletes > thresholds.max_deletes and share > thresholds.max_delete_share:
                problems.append(
                    f"refusing to delete {deletes} of {live} {kind} ({share:.0%}, more than "
                    f"{thresholds.max_deletes} and {thresholds.max_delete_share:.0%}); "
                    "check prune/ignore, or pass --force"
                )
            continue
        if kind in SETTING_KINDS:
            creates = sum(1 for c in plan.changes if c.kind == kind and c.action is Action.CREATE)
            deletes = max(deletes - creates, 0)  # the patterns the set loses
            share = deletes / live
        if deletes and (deletes >= live or share > thresholds.unscoped_share):
            amount = (
                "all of them"
                if deletes >= live
                else f"{share:.0%}, more than {thresholds.unscoped_share:.0%}"
            )
            problems.append(
                f"refusing to delete {deletes} of {live} {kind} ({amount}): without a "
                f"project file ({PROJECT_FILE}) the manifests given may not be the whole set; "
                "check prune/ignore, run `shcfg init`, or pass --force"
            )
    return problems


def _prevent_destroy(plan: Plan, protections: Protections) -> list[str]:
    """`lifecycle.preventDestroy` objects must not be deleted, not even with --force."""
    return [
        f"{c.kind} {c.identity!r} has lifecycle.preventDestroy but the plan deletes it"
        for c in plan.changes
        if c.action is Action.DELETE and c.key in protections.protected
    ]


def _active_sessions(plan: Plan, facts: Facts) -> list[str]:
    """A technician in a live session is not deleted or disabled."""
    risky = stopped_technicians(plan)
    if not risky:
        return []
    if facts.sessions is None:
        return ["active sessions were not read, so technicians are not deleted or disabled"]
    return [
        f"technician {username!r} is in active session {session!r}: "
        "not deleting or disabling it without --force"
        for username, session in facts.sessions
        if username in risky
    ]


def _keep_access(plan: Plan, protections: Protections, facts: Facts) -> list[str]:
    """The final restriction set must still let every `keepAccessFrom` address in."""
    touches = any(c.kind == "techRestrictions" for c in plan.changes)
    if not protections.keep_access_from or not touches:
        return []
    deleted = {
        c.identity
        for c in plan.changes
        if c.kind == "techRestrictions" and c.action is Action.DELETE
    }
    created = {
        c.identity
        for c in plan.changes
        if c.kind == "techRestrictions" and c.action is Action.CREATE
    }
    final = (facts.live_restrictions | created) - deleted
    if not final:
        return []
    problems = []
    for address in protections.keep_access_from:
        text = str(ipaddress.ip_address(address))
        if not any(_matches(pattern, text) for pattern in final):
            problems.append(
                f"tech restrictions would lock out {text} (server.keepAccessFrom): "
                "no pattern matches it"
            )
    return problems


def _matches(pattern: str, address: str) -> bool:
    try:
        return re.fullmatch(pattern, address) is not None
    except re.error:
        return False
