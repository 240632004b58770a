"""Machine-group properties (machinegroups/properties/*).

The API lists a group's property keys in one request and returns one value per request,
and has no way to remove a property: a property the manifests drop is reported as a
warning, never pruned. The API cannot list machine groups either: export finds them in
the machines' group paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from functools import partial
from typing import Annotated, Any

from pydantic import Field

from reconciler.client.errors import NotFoundError
from reconciler.kinds.attrs import Attr, ManifestModel, NonEmptyStr, Properties, Role, property_map
from reconciler.kinds.base import Defaults, declared_change, field_changes
from reconciler.kinds.contexts import ApplyContext, KindPlan, PlanContext, ReadContext
from reconciler.kinds.exporting import EnvNames, ExportPart, text
from reconciler.kinds.machines import listed
from reconciler.plan import Action, Change, Phase, fingerprint

LiveGroup = dict[str, str | None]


class MachineGroup(ManifestModel):
    """A node of the machine group tree; identity: its ``path``."""

    path: Annotated[
        list[NonEmptyStr],
        Field(min_length=1),
        Attr(
            Role.IDENTITY,
            "identity (`a/b` in plans); must exist: the API cannot create one (a warning)",
        ),
    ]
    properties: Annotated[
        Properties,
        property_map(
            "the API cannot remove a key (a warning names it)", "machinegroups/properties/set"
        ),
    ] = None


def identity(path: Sequence[str]) -> str:
    return "/".join(path)


class MachineGroupsKind(Defaults):
    name = "machineGroups"
    noun = "machine group"
    section = "machineGroups"
    model = MachineGroup
    phase = Phase.MACHINES
    export_file = "machine-groups.yaml"

    def read(self, ctx: ReadContext) -> dict[str, LiveGroup | None]:
        if ctx.everything:
            paths = {
                tuple(groups[:end])
                for m in listed(ctx)
                for groups in [m.get("groups") or []]
                for end in range(1, len(groups) + 1)
            }
            declared = [MachineGroup(path=list(p)) for p in sorted(paths)]
        else:
            declared = [
                g for g in ctx.model.machineGroups if not ctx.ignored(self.name, identity(g.path))
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
                key: ctx.pool.submit(partial(value_of, group.path, key))
                if ctx.everything or key in wanted
                else None
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

    def identities(self, live: dict[str, LiveGroup | None]) -> set[str]:
        return {ident for ident, group in live.items() if group is not None}

    def export(self, live: Mapping[str, Any], names: EnvNames) -> ExportPart:
        groups: dict[str, LiveGroup | None] = live[self.name]
        paths = {  # the paths as the machines list them ("/" may occur inside a name)
            identity(m.groups[:end]): m.groups[:end]
            for m in live["machines"].values()
            for end in range(1, len(m.groups) + 1)
        }
        items = [
            {
                "path": [text(p) for p in path],
                "properties": {text(k): text(v or "") for k, v in sorted(props.items())},
            }
            for path, props in sorted((paths[i], p) for i, p in groups.items() if i in paths)
            if props
        ]
        header = [
            "Machine groups come from the machines' group paths; the API cannot list others.",
            "Properties cannot be removed through the API, only set.",
        ]
        return ExportPart(data=items, header=header)

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
                fields = field_changes(ctx, self.name, ident, pairs)
                result.changes.append(
                    declared_change(
                        self,
                        Action.UPDATE,
                        ident,
                        fields,
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
