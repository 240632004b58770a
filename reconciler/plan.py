"""The plan: what apply would change, as plain data.

A plan is built by the kinds (reconciler.kinds), rendered by reconciler.render and
executed by reconciler.apply. It never holds a secret value: a sensitive field carries
only the fact that it is sensitive; apply takes the value from the loaded manifests.
"""

from __future__ import annotations

import hashlib
import json
from enum import IntEnum, StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from reconciler.errors import ShcfgError
from reconciler.redact import MASK

SENSITIVE = MASK  # what a sensitive value shows as: the project's one mask
FORMAT_VERSION = 1


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class Phase(IntEnum):
    """Dependency order of apply: lower phases run first."""

    GROUPS = 10
    TECHNICIANS = 20
    SERVER = 30
    MACHINES = 40
    DELETE_TECHNICIANS = 50
    DELETE_GROUPS = 60


class Label(StrEnum):
    """Security impact of a change, shown first to reviewers."""

    GRANTS_PERMISSION = "grants-permission"
    WEAKENS_MFA = "weakens-mfa"
    CHANGES_LDAP = "changes-ldap"
    WIDENS_IP_RESTRICTIONS = "widens-ip-restrictions"
    NARROWS_IP_RESTRICTIONS = "narrows-ip-restrictions"
    ENABLES_ANONYMOUS_LOGINS = "enables-anonymous-logins"
    DISABLES_TECHNICIAN = "disables-technician"
    DELETES_TECHNICIAN = "deletes-technician"
    SETS_PASSWORD = "sets-password"


class FieldChange(BaseModel):
    """One attribute: `before` is the live value, `after` the declared one.

    For a sensitive field both values are None in the plan; renderers show SENSITIVE.
    """

    model_config = ConfigDict(frozen=True)

    path: str
    before: Any = None
    after: Any = None
    sensitive: bool = False


class Change(BaseModel):
    """One object to create, update or delete.

    `base` holds live values that apply merges into (whole nested settings objects, so a
    server that replaces rather than merges them keeps the keys the manifest leaves out).
    """

    model_config = ConfigDict(frozen=True)

    action: Action
    kind: str
    identity: str
    phase: Phase
    fields: tuple[FieldChange, ...] = ()
    labels: tuple[Label, ...] = ()
    live_id: int | None = None
    rename_from: str | None = None
    base: dict[str, Any] = Field(default_factory=dict)
    fingerprint: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.identity)

    def sort_key(self) -> tuple[int, str, str, str]:
        return (int(self.phase), self.kind, self.action.value, self.identity)

    def field(self, path: str) -> FieldChange | None:
        return next((f for f in self.fields if f.path == path), None)


class Undeclared(BaseModel):
    """A live object the manifests do not declare and that is not pruned."""

    kind: str
    identity: str
    reason: str


class Plan(BaseModel):
    format_version: int = FORMAT_VERSION
    server: str = ""
    changes: list[Change] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    undeclared: list[Undeclared] = Field(default_factory=list)
    live_counts: dict[str, int] = Field(default_factory=dict)
    manifests: list[str] = Field(default_factory=list)

    def sorted(self) -> Plan:
        return self.model_copy(update={"changes": sorted(self.changes, key=Change.sort_key)})

    def summary(self) -> dict[str, int]:
        counts = {a.value: 0 for a in Action}
        for change in self.changes:
            counts[change.action.value] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def checksum(self) -> str:
        """Digest of the changes, so a reviewed plan can be matched to the applied one."""
        data = json.dumps(
            [c.model_dump(mode="json") for c in self.changes], sort_keys=True, default=str
        )
        return hashlib.sha256(data.encode()).hexdigest()


class UnsafePlanError(ShcfgError):
    """The plan crosses a safety threshold; --force overrides."""


def fingerprint(live: Any) -> str:
    """Stable digest of a live object's normalised state (or of its absence: None)."""
    data = json.dumps(live, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(data.encode()).hexdigest()[:16]
