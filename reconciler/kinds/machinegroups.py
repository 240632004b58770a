"""Machine-group properties (machinegroups/properties/*).

The API lists a group's property keys in one request and returns one value per request,
and has no way to remove a property: a property the manifests drop is reported as a
warning, never pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.client.errors import NotFoundError
from reconciler.kinds.base import ApplyContext, KindPlan, PlanContext, ReadContext, field_changes
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

        def keys_of(path: list[str]) -> list[str] | None:
            try:
                keys = ctx.client.machinegroups_properties_get(path)
            except NotFoundError:
                return None
            return keys if isinstance(keys, list) else []

        key_lists = ctx.pool.map(keys_of, [g.path for g in declared])
        lookups: list[tuple[str, list[str], str]] = []
        live: dict[str, LiveGroup | None] = {}
        for group, keys in zip(declared, key_lists, strict=True):
            ident = identity(group.path)
            if keys is None:
                live[ident] = None
                continue
            live[ident] = dict.fromkeys(keys)
            wanted = group.properties or {}
            lookups += [(ident, group.path, k) for k in keys if k in wanted]

        def value_of(item: tuple[str, list[str], str]) -> str:
            value = ctx.client.machinegroups_properties_get(item[1], key=item[2])
            return value if isinstance(value, str) else str(value)

        for (ident, _path, key), value in zip(
            lookups, ctx.pool.map(value_of, lookups), strict=True
        ):
            group_live = live[ident]
            assert group_live is not None
            group_live[key] = value
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
