"""The vocabulary a kind declares its manifest attributes in.

Every field of a kind's manifest model carries exactly one `Attr` (as `Annotated`
metadata): how it is compared, whether it is write-only or security-relevant, and the
note the docs table shows. The comparison, export, docs tables and JSON Schema read these
declarations; `tests/kinds/test_declarations.py` fails for a field without one.

Imports stay light (pydantic only): the manifest root model imports the kinds' models.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StrictBool, StrictInt, StrictStr

NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]


class Role(StrEnum):
    """How the plan treats a manifest attribute."""

    IDENTITY = "identity"  # names the object; never changed except by a rename
    RENAME = "rename"  # the identity the object had before (rename in place)
    VALUE = "value"  # compared as a value: booleans are not numbers
    SET = "set"  # a list compared as a set (order ignored)
    SETTINGS = "settings"  # an object: only declared keys compared; sent whole
    MAP = "map"  # key -> value entries compared one by one (kind-specific apply)
    REFS = "refs"  # names of objects of another kind: compared as a set, sent as IDs
    WRITE_ONLY = "write-only"  # secret the server never returns: set on create or rotate
    READABLE_SECRET = "readable-secret"  # secret compared when returned, else write-only
    GUARD = "guard"  # not compared: read by the safety checks


#: Roles whose attributes the plan compares against live state.
COMPARED = frozenset(
    {
        Role.VALUE,
        Role.SET,
        Role.SETTINGS,
        Role.MAP,
        Role.REFS,
        Role.WRITE_ONLY,
        Role.READABLE_SECRET,
    }
)
#: Roles excluded from comparison on purpose (identities, renames, guards).
EXCLUDED = frozenset({Role.IDENTITY, Role.RENAME, Role.GUARD})


@dataclass(frozen=True)
class Attr:
    """The declaration of one manifest attribute (pydantic field metadata)."""

    role: Role
    note: str = ""
    api: str | None = None  # the API field or query, when not the attribute's own name
    security: bool = False  # a change of it can carry a security label

    @property
    def sensitive(self) -> bool:
        return self.role in (Role.WRITE_ONLY, Role.READABLE_SECRET)


def value(note: str = "", **extra: Any) -> Attr:
    """Shorthand for the commonest declaration: an attribute compared as a value."""
    return Attr(Role.VALUE, note, **extra)


#: A write-only password (groups, technicians): the API can set it, never read it.
Password = SecretStr | None


def write_only_password(api: str, label: str = "") -> Attr:
    """A password's declaration: set on create, afterwards only with `--rotate-secrets`."""
    note = "set on create, and on every apply only with `--rotate-secrets`" + label
    return Attr(Role.WRITE_ONLY, note, api=api, security=True)


#: A property map (machines, machine groups): key -> string value.
Properties = dict[StrictStr, StrictStr] | None


def property_map(note: str, api: str) -> Attr:
    """A property map's declaration: keys compared one by one, set with their own query."""
    return Attr(Role.MAP, f"map key → string; {note}", api=api)


@functools.cache
def attrs_of(model: type[BaseModel]) -> dict[str, Attr | None]:
    """Each field's declaration (None for a field that lacks one: a declaration bug).

    Cached: do not mutate the answer."""
    result: dict[str, Attr | None] = {}
    for name, info in model.model_fields.items():
        result[name] = next((m for m in info.metadata if isinstance(m, Attr)), None)
    return result


@functools.cache
def fields_with(model: type[BaseModel], *roles: Role) -> tuple[str, ...]:
    """Names of the model's fields declared with one of `roles`, in model order."""
    return tuple(
        name for name, attr in attrs_of(model).items() if attr is not None and attr.role in roles
    )


def no_duplicates(values: list[str] | None, what: str) -> list[str] | None:
    """Reject repeated entries in a list that the server treats as a set."""
    if values is None:
        return None
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)
    return values


class ManifestModel(BaseModel):
    """Base of every manifest model: unknown keys and loose types are errors."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Lifecycle(ManifestModel):
    """Guards against destructive changes to one object."""

    preventDestroy: StrictBool = False


LifecycleAttr = Annotated[
    Lifecycle | None, Attr(Role.GUARD, "`preventDestroy: true`: a plan that deletes it fails")
]
