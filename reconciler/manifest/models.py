"""The manifest root model: the YAML shape users write (see docs/manifest.md).

Each section's model is declared by its kind (`reconciler/kinds/*.py`, fields annotated
with `Attr`); this module only assembles them from `REGISTRY`: the root's sections (a
list of objects for a kind whose model has an identity, else one object), `Prune` and
`Ignore` (from the kinds' `prune` and `ignorable`). A new kind needs no line here.
Under ``TYPE_CHECKING`` a typed view tells mypy the sections other modules read by name
(a test checks it against the built root); a section not listed there is typed `Any`.
Field names are the API's own camelCase. ``None`` means "not declared: leave the live
value alone"; only identities are required. Types are strict so that YAML ``"yes"`` is
not a boolean and ``true`` is not an integer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictStr, create_model, field_validator

from reconciler.audit.policy_model import Policy, PolicyException
from reconciler.kinds import REGISTRY
from reconciler.kinds.attrs import Lifecycle, ManifestModel, Role, fields_with
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


class _Root(ManifestModel):
    """What every manifest has besides the kinds' sections."""

    version: Literal[1]

    @field_validator("version", mode="before")
    @classmethod
    def _version_not_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("Input should be 1")
        return value


def _sections() -> dict[str, Any]:
    """Each kind's section, objects before lists (the order of the JSON Schema)."""
    models: dict[str, type[BaseModel]] = {}
    for kind in REGISTRY.values():
        models.setdefault(kind.section, kind.model)
    listed = {s for s, model in models.items() if fields_with(model, Role.IDENTITY)}
    objects = {s: (m, Field(default_factory=m)) for s, m in models.items() if s not in listed}
    lists: dict[str, Any] = {
        s: (list[m], Field(default_factory=list))  # type: ignore[valid-type]
        for s, m in models.items()
        if s in listed
    }
    return {**objects, **lists}


if TYPE_CHECKING:

    class Manifest(_Root):
        """What mypy sees: the sections other modules read by name, typed; a section not
        listed here is `Any` (tests/kinds/test_declarations.py checks these against the
        root built below)."""

        server: Server = Field(default_factory=Server)
        groups: list[Group] = Field(default_factory=list)
        technicians: list[Technician] = Field(default_factory=list)
        machines: list[Machine] = Field(default_factory=list)
        machineGroups: list[MachineGroup] = Field(default_factory=list)
        prune: Prune = Field(default_factory=Prune)
        ignore: Ignore = Field(default_factory=Ignore)
        policy: Policy = Field(default_factory=Policy)
        policyExceptions: list[PolicyException] = Field(default_factory=list)

        def __getattr__(self, name: str) -> Any: ...

else:
    Manifest = create_model(
        "Manifest",
        __base__=_Root,
        __doc__="One manifest document, or all of them merged.",
        **_sections(),
        prune=(Prune, Field(default_factory=Prune)),
        ignore=(Ignore, Field(default_factory=Ignore)),
        policy=(Policy, Field(default_factory=Policy)),
        policyExceptions=(list[PolicyException], Field(default_factory=list)),
    )
