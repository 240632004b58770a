"""Machine-group properties (machinegroups/properties/*).

The API lists a group's property keys in one request and returns one value per request,
and has no way to remove a property: a property the manifests drop is reported as a
warning, never pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from functools import partial
from typing import Any

from reconciler.client.errors import NotFoundError
from reconciler.kinds.base import ApplyContext, KindPlan, PlanContext, ReadContext, field_changes
from reconciler.manifest.models import MachineGroup
from reconciler.plan import Action, Change, Phase, fingerprint

LiveGroup = dict[str, str | None]


def identity(path: Sequence[str]) -> str:
    return "/".join(path)


class MachineGroupsKind:
    name = "machineGroups"

    def read(self, ctx: ReadContext) -> dict[str, LiveGroup | None]:
        declared = [
            g
            for g in ctx.manifest.model.machineGroups
            if not ctx.ignored(self.name, identity(g.path))
        ]

        def value_of(path: list[str], key: str) -> str:
            value = ctx.client.machinegroups_properties_get(path, key=key)
            return value if isinstance(value, str) else str(value)

        def read_group(group: MachineGroup) -> dict[str, Future[str] | None] | None:
            """A group's keys; the values it declares are queued as soon as they are known
            (not after every group's keys), so no round trip waits on the slowest key list.
            """
            try:
                keys = ctx.client.machinegroups_properties_get(group.path)
            except NotFoundError:
                return None
            wanted = group.properties or {}
            return {
                key: ctx.pool.submit(partial(value_of, group.path, key)) if key in wanted else None
                for key in (keys if isinstance(keys, list) else [])
            }

        pending = [ctx.pool.submit(partial(read_group, g)) for g in declared]
        live: dict[str, LiveGroup | None] = {}
        for group, keys in zip(declared, pending, strict=True):
            found = keys.result()
            live[identity(group.path)] = (
                None
                if found is None
                else {
                    key: None if value is None else value.result() for key, value in found.items()
                }
            )
        return live

    def snapshot(self, ident: str, live: dict[str, LiveGroup | None]) -> Any:
        return live.get(ident)

    def plan(self, ctx: PlanContext) -> KindPlan:
        live: dict[str, LiveGroup | None] = ctx.live[self.name]
        result = KindPlan(live_count=sum(1 for v in live.values() if v is not None))
        for group in ctx.manifest.model.machineGroups:
            ident = identity(group.path)
            if ident not in live:
                continue
            current = live[ident]
            if current is None:
                result.warnings.append(
                    f"machine group {ident!r} does not exist on the server: skipped "
                    "(machine groups cannot be created through the API)"
                )
                continue
            wanted = group.properties or {}
            dropped = sorted(k for k in current if k not in wanted)
            if dropped and group.properties is not None:
                result.warnings.append(
                    f"machine group {ident!r}: properties {', '.join(dropped)} are not declared "
                    "and cannot be removed through the API (declare them as '' to blank them)"
                )
            pairs = [
                (f"properties.{k}", current.get(k), v)
                for k, v in sorted(wanted.items())
                if current.get(k) != v
            ]
            if pairs:
                result.changes.append(
                    Change(
                        action=Action.UPDATE,
                        kind=self.name,
                        identity=ident,
                        phase=Phase.MACHINES,
                        fields=tuple(field_changes(ctx, self.name, ident, pairs)),
                        base={"path": list(group.path)},
                        fingerprint=fingerprint(current),
                    )
                )
        return result

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> None:
        for change in changes:
            path = list(change.base["path"])
            for fc in change.fields:
                key = fc.path.split(".", 1)[1]
                ctx.client.machinegroups_properties_set(path, key, ctx.value(change, fc))
