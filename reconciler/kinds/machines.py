"""Machines (Remote Access Services): monitoring, notes and warnings, properties.

Machines register themselves with the server; shcfg never creates or deletes them. Reads
are batched: one machines/list, then notes and properties for many machines per request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import StrictBool, StrictStr

from reconciler.kinds.attrs import (
    Attr,
    LifecycleAttr,
    ManifestModel,
    NonEmptyStr,
    Properties,
    Role,
    property_map,
)
from reconciler.kinds.base import Defaults, declared_change, field_changes, unique, update_pairs
from reconciler.kinds.contexts import ApplyContext, KindPlan, PlanContext, ReadContext
from reconciler.kinds.exporting import EnvNames, ExportPart, text
from reconciler.plan import Action, Change, FieldChange, Phase, fingerprint

#: Machines per notes/properties read and per machines/set (docs/kinds/machines.md).
BATCH = 1000


class Machine(ManifestModel):
    """A remote access machine (registered by its agent, never created); identity: ``machineID``."""

    machineID: Annotated[NonEmptyStr, Attr(Role.IDENTITY, "identity; registered by its agent")]
    monitoring: Annotated[
        StrictBool | None,
        Attr(
            Role.VALUE,
            "batched: one `machines/set` per value and 1,000 machines",
            api="machines/set monitor; read as monitoringEnabled",
        ),
    ] = None
    notes: Annotated[
        StrictStr | None,
        Attr(
            Role.VALUE,
            "sent with warnings (the live value when undeclared)",
            api="machines/notes/set",
        ),
    ] = None
    warnings: Annotated[
        StrictStr | None,
        Attr(Role.VALUE, "erratum 5: `warnings`, not `warning`", api="machines/notes/set"),
    ] = None
    properties: Annotated[
        Properties,
        property_map(
            "undeclared keys removed only with `prune.machineProperties`",
            "machines/properties/set, remove",
        ),
    ] = None
    lifecycle: LifecycleAttr = None


@dataclass(slots=True)
class LiveMachine:
    monitoring: bool | None
    notes: str
    warnings: str
    properties: dict[str, str]
    groups: tuple[str, ...] = ()

    def get(self, key: str, /) -> Any:
        """An attribute by its manifest name (what `update_pairs` compares)."""
        return getattr(self, key, None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "monitoring": self.monitoring,
            "notes": self.notes,
            "warnings": self.warnings,
            "properties": self.properties,
        }


def chunks(items: list[str]) -> list[list[str]]:
    """`items` in batches of BATCH."""
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def listed(ctx: ReadContext) -> list[dict[str, Any]]:
    """machines/list, read once per read phase (machine groups use its group paths)."""
    if ctx.everything:
        return ctx.once(
            "machines/list",
            lambda: [m.model_dump(exclude_none=True) for m in ctx.client.machines_list()],
        )
    return ctx.once("machines/list/brief", ctx.client.machines_list_brief)


class MachinesKind(Defaults):
    name = "machines"
    noun = "machine"
    section = "machines"
    model = Machine
    phase = Phase.MACHINES
    batched = True
    prune = "machineProperties"
    export_file = "machines.yaml"

    def read(self, ctx: ReadContext) -> dict[str, LiveMachine]:
        declared = [m.machineID for m in ctx.model.machines]
        if not declared and not ctx.everything:
            return {}
        brief = listed(ctx)
        unique("machines/list", "machines with machineID", (m["machineID"] for m in brief))
        monitoring = {m["machineID"]: m.get("monitoringEnabled") for m in brief}
        present = sorted(monitoring) if ctx.everything else [m for m in declared if m in monitoring]
        batches = chunks(present)
        # Notes and properties batches go out together: one wave of requests, not two.
        reads: list[Callable[[list[str]], list[Any]]] = [
            ctx.client.machines_notes_get_brief,
            ctx.client.machines_properties_get_brief,
        ]
        jobs = [(r, b) for r in reads for b in batches]
        pages = list(ctx.pool.map(lambda job: job[0](job[1]), jobs))
        notes = {n.get("machineID"): n for page in pages[: len(batches)] for n in page}
        props = {p.get("machineID"): p for page in pages[len(batches) :] for p in page}
        paths = (
            {m["machineID"]: tuple(m.get("groups") or ()) for m in brief} if ctx.everything else {}
        )
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
                paths.get(mid, ()),
            )
        return live

    def identities(self, live: dict[str, LiveMachine]) -> set[str]:
        return set(live)

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
            pairs = update_pairs(self, machine, current)[0]
            removed: list[FieldChange] = []
            if machine.properties is not None:
                for key, value in sorted(machine.properties.items()):
                    if current.properties.get(key) != value:
                        pairs.append((f"properties.{key}", current.properties.get(key), value))
                if prune:
                    # A removal, shown as one: the live value of an undeclared key is not
                    # a manifest secret, and apply removes it rather than looking one up.
                    removed = [
                        FieldChange(path=f"properties.{key}", before=value, after=None)
                        for key, value in sorted(current.properties.items())
                        if key not in machine.properties
                    ]
            if pairs or removed:
                fields = field_changes(ctx, self.name, mid, pairs) + removed
                result.changes.append(
                    declared_change(
                        self,
                        Action.UPDATE,
                        mid,
                        fields,
                        base={"notes": current.notes, "warnings": current.warnings},
                        fingerprint=fingerprint(current.as_dict()),
                    )
                )
        return result

    def export(self, live: Mapping[str, Any], names: EnvNames) -> ExportPart:
        machines: dict[str, LiveMachine] = live[self.name]
        items = []
        for mid, machine in sorted(machines.items()):
            item: dict[str, Any] = {"machineID": text(mid)}
            if isinstance(machine.monitoring, bool):
                item["monitoring"] = machine.monitoring
            item["notes"] = text(machine.notes)
            item["warnings"] = text(machine.warnings)
            item["properties"] = {text(k): text(v) for k, v in sorted(machine.properties.items())}
            items.append(item)
        header = [
            "Machines are registered by their agents: shcfg updates them, never creates them."
        ]
        return ExportPart(data=items, header=header)

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> None:
        by_value: dict[bool, list[str]] = {}
        for change in changes:
            monitoring = change.field("monitoring")
            if monitoring is not None:
                by_value.setdefault(bool(ctx.value(change, monitoring)), []).append(change.identity)
        for value, ids in sorted(by_value.items()):
            for batch in chunks(ids):
                ctx.client.machines_set(batch, monitor=value)
        list(ctx.pool.map(lambda change: self._apply_one(change, ctx), changes))

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
