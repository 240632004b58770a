"""Guards against destructive plans; each is overridable only with --force (docs/safety.md)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from reconciler.client.api import SimpleHelpClient
from reconciler.manifest import LoadedManifest
from reconciler.plan import Action, Plan, UnsafePlanError


@dataclass(frozen=True)
class Thresholds:
    """A kind's deletions are refused when they exceed BOTH limits (as octoDNS does)."""

    max_deletes: int = 10
    max_delete_share: float = 0.25


def check_plan(
    plan: Plan,
    manifest: LoadedManifest,
    client: SimpleHelpClient,
    *,
    force: bool,
    thresholds: Thresholds = Thresholds(),
) -> None:
    """Raise UnsafePlanError naming every guard the plan trips."""
    problems = _prevent_destroy(plan, manifest) + _keep_access(plan, manifest)
    if not force:
        problems += _delete_thresholds(plan, thresholds) + _active_sessions(plan, client)
    if problems:
        raise UnsafePlanError("\n".join(problems))


def _delete_thresholds(plan: Plan, thresholds: Thresholds) -> list[str]:
    problems = []
    for kind, live in sorted(plan.live_counts.items()):
        deletes = sum(1 for c in plan.changes if c.kind == kind and c.action is Action.DELETE)
        if (
            live
            and deletes > thresholds.max_deletes
            and deletes / live > thresholds.max_delete_share
        ):
            problems.append(
                f"refusing to delete {deletes} of {live} {kind} ({deletes / live:.0%}, more than "
                f"{thresholds.max_deletes} and {thresholds.max_delete_share:.0%}); "
                "check prune/ignore, or pass --force"
            )
    return problems


def _prevent_destroy(plan: Plan, manifest: LoadedManifest) -> list[str]:
    """`lifecycle.preventDestroy` objects must not be deleted, not even with --force."""
    protected = set()
    for kind in ("groups", "technicians", "machines"):
        for obj in getattr(manifest.model, kind):
            if obj.lifecycle is not None and obj.lifecycle.preventDestroy:
                protected.add(
                    (
                        kind,
                        getattr(obj, "name", None)
                        or getattr(obj, "username", None)
                        or obj.machineID,
                    )
                )
    return [
        f"{c.kind} {c.identity!r} has lifecycle.preventDestroy but the plan deletes it"
        for c in plan.changes
        if c.action is Action.DELETE and (c.kind, c.identity) in protected
    ]


def _active_sessions(plan: Plan, client: SimpleHelpClient) -> list[str]:
    """A technician in a live session is not deleted or disabled (read only when needed)."""
    risky = {
        c.identity
        for c in plan.changes
        if c.kind == "technicians"
        and (
            c.action is Action.DELETE
            or any(f.path == "enabled" and f.after is False for f in c.fields)
        )
    }
    if not risky:
        return []
    sessions: list[Any] = [*client.support_sessions_list(), *client.access_sessions_list()]
    return [
        f"technician {s.technicianUsername!r} is in active session {s.sessionID!r}: "
        "not deleting or disabling it without --force"
        for s in sessions
        if s.technicianUsername in risky
    ]


def _keep_access(plan: Plan, manifest: LoadedManifest) -> list[str]:
    """The final restriction set must still let every `server.keepAccessFrom` address in."""
    keep = manifest.model.server.keepAccessFrom or []
    touches = any(c.kind == "techRestrictions" for c in plan.changes)
    if not keep or not touches:
        return []
    final = _final_restrictions(plan, manifest)
    if not final:
        return []
    problems = []
    for address in keep:
        text = str(ipaddress.ip_address(address))
        if not any(_matches(pattern, text) for pattern in final):
            problems.append(
                f"tech restrictions would lock out {text} (server.keepAccessFrom): "
                "no pattern matches it"
            )
    return problems


def _final_restrictions(plan: Plan, manifest: LoadedManifest) -> set[str]:
    declared = set(manifest.model.server.techRestrictions or [])
    deleted = {
        c.identity
        for c in plan.changes
        if c.kind == "techRestrictions" and c.action is Action.DELETE
    }
    undeclared = {u.identity for u in plan.undeclared if u.kind == "techRestrictions"}
    return (declared | undeclared) - deleted


def _matches(pattern: str, address: str) -> bool:
    try:
        return re.fullmatch(pattern, address) is not None
    except re.error:
        return False
