"""The manifest root model: the YAML shape users write (see docs/manifest.md).

Each section's model is declared by its kind (`reconciler/kinds/*.py`, fields annotated
with `Attr`); this module only assembles them. `Prune` and `Ignore` are built from the
kinds' `prune` and `ignorable` declarations; the root lists its sections by hand so that
the loader and mypy see them typed (a test checks they are exactly the kinds' sections).
Field names are the API's own camelCase. ``None`` means "not declared: leave the live
value alone"; only identities are required. Types are strict so that YAML ``"yes"`` is
not a boolean and ``true`` is not an integer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, StrictBool, StrictStr, create_model, field_validator

from reconciler.audit.policy_model import Policy, PolicyException
from reconciler.kinds import REGISTRY
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


class _Switches(ManifestModel):
    """What mypy sees of `Prune` and `Ignore`: their fields come from the kinds."""

    if TYPE_CHECKING:

        def __getattr__(self, name: str) -> Any: ...


def _from_kinds(name: str, doc: str, fields: dict[str, Any]) -> type[ManifestModel]:
    return create_model(name, __base__=ManifestModel, __doc__=doc, **fields)


if TYPE_CHECKING:
    Prune = _Switches
    Ignore = _Switches
else:
    Prune = _from_kinds(
        "Prune",
        "Which kinds of absent objects may be deleted; all off by default.",
        {k.prune: (StrictBool, False) for k in REGISTRY.values() if k.prune},
    )
    Ignore = _from_kinds(
        "Ignore",
        'fnmatch globs of objects never changed nor pruned (machine groups match "a/b").',
        {
            k.name: (list[StrictStr], Field(default_factory=list))
            for k in REGISTRY.values()
            if k.ignorable
        },
    )


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
    policy: Policy = Field(default_factory=Policy)
    policyExceptions: list[PolicyException] = Field(default_factory=list)

    @field_validator("version", mode="before")
    @classmethod
    def _version_not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("Input should be 1")
        return value
