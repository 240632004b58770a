"""The manifest root model: the YAML shape users write (see docs/manifest.md).

Each section's model is declared by its kind (`reconciler/kinds/*.py`, fields annotated
with `Attr`); this module only assembles them. Field names are the API's own camelCase.
``None`` means "not declared: leave the live value alone"; only identities are required.
Types are strict so that YAML ``"yes"`` is not a boolean and ``true`` is not an integer.
`tests/kinds/test_declarations.py` checks that the root's sections, `prune` switches and
`ignore` lists are exactly those the kinds in REGISTRY declare.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool, StrictStr, field_validator

from reconciler.kinds.attrs import Lifecycle, ManifestModel
from reconciler.kinds.groups import Group, LdapSettings, MfaSettings
from reconciler.kinds.machinegroups import MachineGroup
from reconciler.kinds.machines import Machine
from reconciler.kinds.server import Server
from reconciler.kinds.technicians import Technician

__all__ = [
    "Group",
    "Ignore",
    "LdapSettings",
    "Lifecycle",
    "Machine",
    "MachineGroup",
    "Manifest",
    "MfaSettings",
    "Prune",
    "Server",
    "Technician",
]


class Prune(ManifestModel):
    """Which kinds of absent objects may be deleted; all off by default."""

    technicians: StrictBool = False
    groups: StrictBool = False
    techRestrictions: StrictBool = False
    machineProperties: StrictBool = False


class Ignore(ManifestModel):
    """fnmatch globs of objects never changed nor pruned (machine groups match "a/b")."""

    technicians: list[StrictStr] = Field(default_factory=list)
    groups: list[StrictStr] = Field(default_factory=list)
    machines: list[StrictStr] = Field(default_factory=list)
    machineGroups: list[StrictStr] = Field(default_factory=list)


class Manifest(ManifestModel):
    """One manifest document, or all of them merged."""

    version: Literal[1]
    server: Server = Field(default_factory=Server)
    groups: list[Group] = Field(default_factory=list)
    technicians: list[Technician] = Field(default_factory=list)
    machines: list[Machine] = Field(default_factory=list)
    machineGroups: list[MachineGroup] = Field(default_factory=list)
    prune: Prune = Field(default_factory=Prune)
    ignore: Ignore = Field(default_factory=Ignore)

    @field_validator("version", mode="before")
    @classmethod
    def _version_not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("Input should be 1")
        return value
