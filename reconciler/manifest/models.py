"""Pydantic models of the manifest: the YAML shape users write (see docs/manifest.md).

Field names are the API's own camelCase. ``None`` means "not declared: leave the live value
alone"; only identities are required. Types are strict so that YAML ``"yes"`` is not a boolean
and ``true`` is not an integer.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
)

from reconciler.audit.policy_model import Policy, PolicyException

NonEmptyStr = Annotated[StrictStr, Field(min_length=1)]
NonNegativeInt = Annotated[StrictInt, Field(ge=0)]


def _no_duplicates(values: list[str] | None, what: str) -> list[str] | None:
    """Reject repeated entries in a list that the server treats as a set."""
    if values is None:
        return None
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)
    return values


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Lifecycle(_Model):
    """Guards against destructive changes to one object."""

    preventDestroy: StrictBool = False


class Server(_Model):
    """Server-wide settings (``server/hostname/*``, ``server/tech-restrictions/*``)."""

    hostname: NonEmptyStr | None = None
    techRestrictions: list[StrictStr] | None = None
    keepAccessFrom: list[StrictStr] | None = None

    @field_validator("techRestrictions")
    @classmethod
    def _unique_restrictions(cls, value: list[str] | None) -> list[str] | None:
        return _no_duplicates(value, "tech restriction")

    @field_validator("keepAccessFrom")
    @classmethod
    def _ip_addresses(cls, value: list[str] | None) -> list[str] | None:
        for address in value or []:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(f"{address!r} is not an IP address") from None
        return _no_duplicates(value, "address")


class LdapSettings(_Model):
    """The API's LDAP Settings Object."""

    enabled: StrictBool | None = None
    advanced: StrictBool | None = None
    baseDN: StrictStr | None = None
    filter: StrictStr | None = None
    memberOfGroups: list[StrictStr] | None = None


class MfaSettings(_Model):
    """The API's MFA Settings Object."""

    email: StrictBool | None = None
    app: StrictBool | None = None
    rememberMachine: StrictBool | None = None
    emailCodeLength: NonNegativeInt | None = None
    emailSubject: StrictStr | None = None
    emailBody: StrictStr | None = None


class Group(_Model):
    """A technician group; identity: ``name``."""

    name: NonEmptyStr
    renamedFrom: NonEmptyStr | None = None
    allowAnonymousLogins: StrictBool | None = None
    max_groupShSessions: NonNegativeInt | None = None
    max_groupSgSessions: NonNegativeInt | None = None
    max_userShSessions: NonNegativeInt | None = None
    max_userSgSessions: NonNegativeInt | None = None
    sessionSpeedLimitKbps: NonNegativeInt | None = None
    maxFileSize: NonNegativeInt | None = None
    requestAccessTimeout: NonNegativeInt | None = None
    fpsDelay: NonNegativeInt | None = None
    groupSpecificHostname: StrictStr | None = None
    defaultSgServiceName: StrictStr | None = None
    videoPassword: SecretStr | None = None
    ldapSettings: LdapSettings | None = None
    mfaSettings: MfaSettings | None = None
    passwordSettings: dict[StrictStr, StrictBool | StrictStr] | None = None
    permissions: dict[StrictStr, StrictBool] | None = None
    password: SecretStr | None = None
    lifecycle: Lifecycle | None = None


class Technician(_Model):
    """A technician account; identity: ``username``."""

    username: NonEmptyStr
    renamedFrom: NonEmptyStr | None = None
    displayName: StrictStr | None = None
    emailAddress: StrictStr | None = None
    enabled: StrictBool | None = None
    allowLocallyAuthenticatedLogins: StrictBool | None = None
    groups: list[StrictStr] | None = None
    password: SecretStr | None = None
    lifecycle: Lifecycle | None = None

    @field_validator("groups")
    @classmethod
    def _unique_groups(cls, value: list[str] | None) -> list[str] | None:
        return _no_duplicates(value, "group")


class Machine(_Model):
    """A remote access machine (registered by its agent, never created); identity: ``machineID``."""

    machineID: NonEmptyStr
    monitoring: StrictBool | None = None
    notes: StrictStr | None = None
    warnings: StrictStr | None = None
    properties: dict[StrictStr, StrictStr] | None = None
    lifecycle: Lifecycle | None = None


class MachineGroup(_Model):
    """A node of the machine group tree; identity: its ``path``."""

    path: Annotated[list[NonEmptyStr], Field(min_length=1)]
    properties: dict[StrictStr, StrictStr] | None = None


class Prune(_Model):
    """Which kinds of absent objects may be deleted; all off by default."""

    technicians: StrictBool = False
    groups: StrictBool = False
    techRestrictions: StrictBool = False
    machineProperties: StrictBool = False


class Ignore(_Model):
    """fnmatch globs of objects never changed nor pruned (machine groups match "a/b")."""

    technicians: list[StrictStr] = Field(default_factory=list)
    groups: list[StrictStr] = Field(default_factory=list)
    machines: list[StrictStr] = Field(default_factory=list)
    machineGroups: list[StrictStr] = Field(default_factory=list)


class Manifest(_Model):
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
