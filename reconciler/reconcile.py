"""Reading live state and turning manifests + live state into a Plan."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr

from reconciler.client.api import SimpleHelpClient
from reconciler.errors import ShcfgError
from reconciler.kinds import REGISTRY
from reconciler.kinds.attrs import Role, fields_with
from reconciler.kinds.base import compared
from reconciler.kinds.contexts import PlanContext, ReadContext
from reconciler.manifest import Issue, LoadedManifest, Manifest, ManifestError, check_references
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
    client: SimpleHelpClient,
    manifest: LoadedManifest | None,
    *,
    concurrency: int = 8,
    everything: bool = False,
    kinds: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Read every kind's live state; kinds read side by side, each fanning out in `pool`.

    A plan reads what the manifests declare; export (`everything`, no manifest) reads
    every object of the `kinds` it exports, through the same reads.
    """
    names = list(REGISTRY) if kinds is None else list(kinds)
    model = manifest.model if manifest is not None else Manifest(version=1)
    with (
        _collector_paused(),
        ThreadPoolExecutor(concurrency, thread_name_prefix="shcfg") as pool,
        ThreadPoolExecutor(len(names), thread_name_prefix="read") as readers,
    ):
        ctx = ReadContext(client=client, model=model, pool=pool, everything=everything)
        try:
            futures = {name: readers.submit(REGISTRY[name].read, ctx) for name in names}
            return {name: future.result() for name, future in futures.items()}
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def make_plan(
    manifest: LoadedManifest,
    live: dict[str, Any],
    *,
    server: str,
    rotate_secrets: bool = False,
) -> Plan:
    """Compare declared with live, kind by kind. Pure: no I/O.

    The collector is paused as in the read: a diff allocates in bursts over a heap of
    manifests and live state that holds no cycle, and each collection walked all of it
    (the super-linear part of the cost at three times the bench's size).
    """
    with _collector_paused():
        return _make_plan(manifest, live, server=server, rotate_secrets=rotate_secrets)


def _make_plan(
    manifest: LoadedManifest, live: dict[str, Any], *, server: str, rotate_secrets: bool
) -> Plan:
    known = REGISTRY["groups"].identities(live["groups"])
    ctx = PlanContext(manifest=manifest, live=live, rotate_secrets=rotate_secrets)
    issues = check_references(manifest, known_groups=known)
    issues += [
        Issue(manifest.locations.get(key), message)
        for kind in REGISTRY.values()
        for key, message in kind.problems(ctx)
    ]
    if issues:
        raise ManifestError(issues)
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
    for name, kind in REGISTRY.items():
        section = getattr(model, kind.section)
        if not isinstance(section, list):
            continue
        key = fields_with(kind.model, Role.IDENTITY)[0]
        for obj in section:
            ident = getattr(obj, key)
            index[(name, "/".join(ident) if isinstance(ident, list) else ident)] = obj

    def lookup(kind: str, identity: str, path: str) -> Any:
        section = getattr(model, REGISTRY[kind].section) if kind in REGISTRY else None
        obj: Any = section if isinstance(section, BaseModel) else index.get((kind, identity))
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
        write_only = compared(REGISTRY[change.kind], Role.WRITE_ONLY)
        owed = [f for f in change.fields if f.path in write_only]
        if change.action is not Action.CREATE or not owed:
            return fresh
        if fresh is not None and fresh.action is Action.CREATE:
            return fresh
        live_id = REGISTRY[change.kind].live_id(change.identity, live[change.kind])
        base = fresh or change.model_copy(update={"action": Action.UPDATE, "fields": ()})
        kept = tuple(f for f in base.fields if f.path not in write_only)
        return base.model_copy(
            update={"action": Action.UPDATE, "live_id": live_id, "fields": (*kept, *owed)}
        )

    return refresh
