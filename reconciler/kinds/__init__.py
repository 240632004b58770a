"""Resource kinds. A new kind is one module plus one line in REGISTRY."""

from reconciler.kinds.attrs import Role, fields_with
from reconciler.kinds.base import Kind
from reconciler.kinds.groups import GroupsKind
from reconciler.kinds.machinegroups import MachineGroupsKind
from reconciler.kinds.machines import MachinesKind
from reconciler.kinds.restrictions import RestrictionsKind
from reconciler.kinds.server import ServerKind
from reconciler.kinds.technicians import TechniciansKind

REGISTRY: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        GroupsKind(),
        TechniciansKind(),
        ServerKind(),
        RestrictionsKind(),
        MachinesKind(),
        MachineGroupsKind(),
    )
}


def list_sections() -> list[tuple[str, str, str]]:
    """(manifest section, identity attribute, noun) of every kind declared as a list of
    objects, in REGISTRY order (the loader keys and names merged objects by these)."""
    return [
        (kind.section, fields_with(kind.model, Role.IDENTITY)[0], kind.noun)
        for kind in REGISTRY.values()
        if fields_with(kind.model, Role.IDENTITY)
    ]


__all__ = ["REGISTRY", "Kind", "list_sections"]
