"""Reading live state and turning manifests + live state into a Plan."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from reconciler.client.api import SimpleHelpClient
from reconciler.errors import ShcfgError
from reconciler.kinds import REGISTRY
from reconciler.kinds.base import PlanContext, Pool, ReadContext
from reconciler.kinds.groups import LiveGroups
from reconciler.manifest import LoadedManifest, ManifestError, check_references
from reconciler.plan import Action, Change, Plan, fingerprint


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (if it was on) for the duration.

    Reading builds hundreds of thousands of acyclic objects; each allocation burst set
    off collections that walked the whole heap, loaded manifests included: about a third
    of the read phase's CPU, which under the GIL is its wall time. Nothing read is cyclic.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_live(
    client: SimpleHelpClient, manifest: LoadedManifest, *, concurrency: int = 8
) -> dict[str, Any]:
    """Read every kind's live state; kinds read side by side, each fanning out in `pool`."""
    pool = Pool(concurrency)
    ctx = ReadContext(client=client, manifest=manifest, pool=pool)
    try:
        with (
            _collector_paused(),
            ThreadPoolExecutor(max_workers=len(REGISTRY), thread_name_prefix="read") as readers,
        ):
            futures = {name: readers.submit(kind.read, ctx) for name, kind in REGISTRY.items()}
            return {name: future.result() for name, future in futures.items()}
    finally:
        pool.close()


def make_plan(
    manifest: LoadedManifest,
    live: dict[str, Any],
    *,
    server: str,
    rotate_secrets: bool = False,
) -> Plan:
    """Compare declared with live, kind by kind. Pure: no I/O."""
    groups: LiveGroups = live["groups"]
    issues = check_references(manifest, known_groups=set(groups.by_name))
    if issues:
        raise ManifestError(issues)
    ctx = PlanContext(manifest=manifest, live=live, rotate_secrets=rotate_secrets)
    plan = Plan(server=server, manifests=[_portable(f) for f in manifest.files])
    for name, kind in REGISTRY.items():
        part = kind.plan(ctx)
        plan.changes += part.changes
        plan.warnings += part.warnings
        plan.undeclared += part.undeclared
        plan.live_counts[name] = part.live_count
    return plan.sorted()


def _portable(path: str) -> str:
    """Relative to the working directory when inside it, so a plan made in one CI job
    applies in another job's checkout of the same repository."""
    resolved = Path(path).resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


def stale_changes(plan: Plan, live: dict[str, Any]) -> list[str]:
    """Changes whose object changed on the server since the plan was made."""
    stale = []
    for change in plan.changes:
        identity = change.rename_from or change.identity
        now = fingerprint(REGISTRY[change.kind].snapshot(identity, live[change.kind]))
        if now != change.fingerprint:
            stale.append(f"{change.kind} {change.identity!r}")
    return stale


def secret_lookup(manifest: LoadedManifest) -> Callable[[str, str, str], Any]:
    """Values of sensitive fields, taken from the loaded manifests at apply time."""
    model = manifest.model
    index: dict[tuple[str, str], BaseModel] = {}
    index.update({("groups", g.name): g for g in model.groups})
    index.update({("technicians", t.username): t for t in model.technicians})
    index.update({("machines", m.machineID): m for m in model.machines})
    index.update({("machineGroups", "/".join(g.path)): g for g in model.machineGroups})

    def lookup(kind: str, identity: str, path: str) -> Any:
        obj: Any = (
            model.server if kind in ("server", "techRestrictions") else index.get((kind, identity))
        )
        if obj is None:
            raise ShcfgError(f"{kind} {identity!r} is no longer declared in the manifests")
        value: Any = obj
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
            if isinstance(value, BaseModel):
                value = value.model_dump(exclude_none=True)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None:
            raise ShcfgError(f"{kind} {identity!r}: {path} is no longer declared in the manifests")
        return value

    return lookup


def make_refresh(
    client: SimpleHelpClient,
    manifest: LoadedManifest,
    plan: Plan,
    concurrency: int,
    rotate_secrets: bool,
) -> Callable[[Change], Change | None]:
    """After a write of unknown outcome: re-read, re-plan, return what is still to do.

    A create that did land still owes its write-only fields (passwords), which a fresh
    plan cannot see; they are carried over onto the fresh change.
    """

    def refresh(change: Change) -> Change | None:
        live = read_live(client, manifest, concurrency=concurrency)
        fresh_plan = make_plan(manifest, live, server=plan.server, rotate_secrets=rotate_secrets)
        fresh = next((c for c in fresh_plan.changes if c.key == change.key), None)
        owed = [f for f in change.fields if f.path == "password"]
        if change.action is not Action.CREATE or not owed:
            return fresh
        if fresh is not None and fresh.action is Action.CREATE:
            return fresh
        snapshot = REGISTRY[change.kind].snapshot(change.identity, live[change.kind])
        live_id = _unique_id(snapshot)
        base = fresh or change.model_copy(update={"action": Action.UPDATE, "fields": ()})
        kept = tuple(f for f in base.fields if f.path != "password")
        return base.model_copy(
            update={"action": Action.UPDATE, "live_id": live_id, "fields": (*kept, *owed)}
        )

    return refresh


def _unique_id(snapshot: Any) -> int | None:
    if isinstance(snapshot, dict):
        inner = snapshot.get("group", snapshot)
        if isinstance(inner, dict) and isinstance(inner.get("uniqueID"), int):
            return int(inner["uniqueID"])
    return None
