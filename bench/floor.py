"""The fewest requests the API allows for a plan or an apply (docs/performance.md).

Counted from the manifests, the live state and the plan alone, independently of how the
kinds issue their requests, so the benchmark can hold the implementation to it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from reconciler.kinds import REGISTRY
from reconciler.kinds.machines import BATCH
from reconciler.manifest import LoadedManifest
from reconciler.plan import Action, Plan


def _batches(count: int) -> int:
    return -(-count // BATCH)


def read_floor(manifest: LoadedManifest, live: dict[str, Any]) -> Counter[str]:
    """Requests a plan needs: one list per kind, batched machine reads, per-group reads,
    and the sessions when the manifests can delete or disable a technician."""
    model = manifest.model
    floor: Counter[str] = Counter({"technicians/list": 1, "groups/list": 1})
    groups = REGISTRY["groups"].identities(live["groups"])
    with_permissions = [g for g in model.groups if g.permissions is not None]
    present = sum(1 for g in with_permissions if {g.name, g.renamedFrom or ""} & groups)
    # Only new groups declare permissions: one existing group's answer names them all.
    floor["groups/permissions/get"] = present or int(bool(with_permissions and groups))
    if model.server.hostname is not None:
        floor["server/hostname/get"] = 1
    if model.server.techRestrictions is not None:
        floor["server/tech-restrictions/get"] = 1
    if model.machines:
        present = sum(1 for m in model.machines if m.machineID in live["machines"])
        floor["machines/list"] = 1
        floor["machines/notes/get"] = _batches(present)
        floor["machines/properties/get"] = _batches(present)
    keys = 0
    for group in model.machineGroups:
        have = live["machineGroups"].get("/".join(group.path))
        keys += 1 + sum(1 for k in have or {} if k in (group.properties or {}))
    if keys:
        floor["machinegroups/properties/get"] = keys
    if model.prune.technicians or any(t.enabled is False for t in model.technicians):
        # The safety check's sessions: a technician in one is not deleted or disabled.
        floor["support/sessions/list"] = 1
        floor["access/sessions/list"] = 1
    return +floor


def write_floor(plan: Plan) -> Counter[str]:
    """Requests an apply needs beyond the plan's reads: the backup, then one per write."""
    floor: Counter[str] = Counter({"server/backup": 1})
    monitor: Counter[bool] = Counter()
    for change in plan.changes:
        paths = [f.path for f in change.fields]
        heads = {p.split(".")[0] for p in paths}
        if change.kind == "techRestrictions":
            query = "new" if change.action is Action.CREATE else "remove"
            floor[f"server/tech-restrictions/{query}"] = 1
        elif change.kind == "server":
            floor["server/hostname/set"] += 1
        elif change.kind == "machineGroups":
            floor["machinegroups/properties/set"] += len(paths)
        elif change.kind == "machines":
            if "monitoring" in heads:
                monitor[bool(change.field("monitoring").after)] += 1  # type: ignore[union-attr]
            if heads & {"notes", "warnings"}:
                floor["machines/notes/set"] += 1
            for fc in change.fields:
                if fc.path.startswith("properties."):
                    action = "remove" if fc.after is None and not fc.sensitive else "set"
                    floor[f"machines/properties/{action}"] += 1
        elif change.kind in ("technicians", "groups"):
            _account(floor, change.kind, change.action, heads)
    floor["machines/set"] += sum(_batches(n) for n in monitor.values())
    return +floor


def _account(floor: Counter[str], kind: str, action: Action, heads: set[str]) -> None:
    if action is Action.DELETE:
        floor[f"{kind}/remove"] += 1
        return
    attrs = heads - {"password", "permissions"}
    if action is Action.CREATE:
        # new, then a get by name: the API returns no uniqueID (erratum 10).
        floor[f"{kind}/new"] += 1
        floor[f"{kind}/get"] += 1
    elif attrs:
        floor[f"{kind}/set"] += 1
    if "permissions" in heads:
        floor["groups/permissions/set"] += 1
    if "password" in heads:
        floor[f"{kind}/password/set"] += 1
