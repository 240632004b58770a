"""Resource kinds. A new kind is one module plus one line in REGISTRY."""

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

__all__ = ["REGISTRY", "Kind"]
