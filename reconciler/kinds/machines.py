"""Machines (Remote Access Services): monitoring, notes and warnings, properties.

Machines register themselves with the server; shcfg never creates or deletes them. Reads
are batched: one machines/list, then notes and properties for many machines per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.kinds.base import ApplyContext, KindPlan, PlanContext, ReadContext, field_changes
from reconciler.plan import Action, Change, Phase, fingerprint

BATCH = 1000


@dataclass(slots=True)
class LiveMachine:
    monitoring: bool | None
    notes: str
    warnings: str
    properties: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "monitoring": self.monitoring,
            "notes": self.notes,
            "warnings": self.warnings,
            "properties": self.properties,
        }


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


class MachinesKind:
    name = "machines"
    batched = True

    def read(self, ctx: ReadContext) -> dict[str, LiveMachine]:
        declared = [m.machineID for m in ctx.manifest.model.machines]
        if not declared:
            return {}
        brief = ctx.client.machines_list_brief()
        monitoring = {m["machineID"]: m.get("monitoringEnabled") for m in brief}
        present = [mid for mid in declared if mid in monitoring]
        batches = _chunks(present)
        # Notes and properties batches go out together: one wave of requests, not two;
        # urgent, because they are the biggest reads and the last link of this chain.
        reads: list[Callable[[list[str]], list[Any]]] = [
            ctx.client.machines_notes_get_brief,
            ctx.client.machines_properties_get_brief,
        ]
        jobs = [(r, b) for r in reads for b in batches]
        pages = ctx.pool.map(lambda job: job[0](job[1]), jobs, urgent=True)
        notes = {n.get("machineID"): n for page in pages[: len(batches)] for n in page}
        props = {p.get("machineID"): p for page in pages[len(batches) :] for p in page}
        live: dict[str, LiveMachine] = {}
        nothing: dict[str, Any] = {}
        for mid in present:
            note = notes.get(mid) or nothing
            pairs = (props.get(mid) or nothing).get("properties") or ()
            # Positional: 10,000 of these are built while other answers wait.
            live[mid] = LiveMachine(
                monitoring[mid],
                note.get("notes") or "",
                note.get("warnings") or "",
                {p["key"]: p.get("value") or "" for p in pairs if p.get("key") is not None},
            )
        return live

    def snapshot(self, identity: str, live: dict[str, LiveMachine]) -> Any:
        machine = live.get(identity)
        return None if machine is None else machine.as_dict()

    def plan(self, ctx: PlanContext) -> KindPlan:
        live: dict[str, LiveMachine] = ctx.live[self.name]
        prune = ctx.manifest.model.prune.machineProperties
        result = KindPlan(live_count=len(live))
        for machine in ctx.manifest.model.machines:
            mid = machine.machineID
            if ctx.ignored(self.name, mid):
                continue
            current = live.get(mid)
            if current is None:
                result.warnings.append(
                    f"machine {mid!r} is not registered with the server: skipped "
                    "(machines are registered by their agents, never created)"
                )
                continue
            pairs: list[tuple[str, Any, Any]] = []
            if machine.monitoring is not None and current.monitoring is not machine.monitoring:
                pairs.append(("monitoring", current.monitoring, machine.monitoring))
            for key in ("notes", "warnings"):
                want = getattr(machine, key)
                if want is not None and getattr(current, key) != want:
                    pairs.append((key, getattr(current, key), want))
            if machine.properties is not None:
                for key, value in sorted(machine.properties.items()):
                    if current.properties.get(key) != value:
                        pairs.append((f"properties.{key}", current.properties.get(key), value))
                if prune:
                    pairs += [
                        (f"properties.{key}", value, None)
                        for key, value in sorted(current.properties.items())
                        if key not in machine.properties
                    ]
            if pairs:
                result.changes.append(
                    Change(
                        action=Action.UPDATE,
                        kind=self.name,
                        identity=mid,
                        phase=Phase.MACHINES,
                        fields=tuple(field_changes(ctx, self.name, mid, pairs)),
                        base={"notes": current.notes, "warnings": current.warnings},
                        fingerprint=fingerprint(current.as_dict()),
                    )
                )
        return result

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> None:
        by_value: dict[bool, list[str]] = {}
        for change in changes:
            monitoring = change.field("monitoring")
            if monitoring is not None:
                by_value.setdefault(bool(ctx.value(change, monitoring)), []).append(change.identity)
        for value, ids in sorted(by_value.items()):
            for batch in _chunks(ids):
                ctx.client.machines_set(batch, monitor=value)
        ctx.pool.map(lambda change: self._apply_one(change, ctx), changes)

    @staticmethod
    def _apply_one(change: Change, ctx: ApplyContext) -> None:
        notes = change.field("notes")
        warnings = change.field("warnings")
        if notes is not None or warnings is not None:
            ctx.client.machines_notes_set(
                change.identity,
                notes=ctx.value(change, notes) if notes else change.base.get("notes", ""),
                warnings=ctx.value(change, warnings)
                if warnings
                else change.base.get("warnings", ""),
            )
        for fc in change.fields:
            if not fc.path.startswith("properties."):
                continue
            key = fc.path.split(".", 1)[1]
            if not fc.sensitive and fc.after is None:
                ctx.client.machines_properties_remove(change.identity, key)
            else:
                ctx.client.machines_properties_set(change.identity, key, ctx.value(change, fc))
