"""Pydantic models of every object in the SimpleHelp API reference.

Fields are optional because servers omit attributes freely; unknown fields are kept
(``extra="allow"``) so a newer server's data survives a read-modify-write. Only the
identity fields the client relies on are required.
"""

from __future__ import annotations

from typing import Annotated, Literal, Required

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

Permissions = dict[str, bool]


class ApiModel(BaseModel):
    """Base of every API object: keeps unknown fields.

    No ``populate_by_name``: the one alias (``warning``) is listed with its field name,
    and the option made validating large lists up to 1.7x slower.
    """

    model_config = ConfigDict(extra="allow")


class ApiResponse(ApiModel):
    """The API Response Object returned by writes and failures.

    ``shape`` says which reading of a write's 2xx answer came back (for the journal):
    ``empty`` body, JSON ``true``, ``text`` (a JSON string or any non-JSON text), an
    ``object`` without ``success``, an API Response Object (``response``), or ``other``
    JSON (a number, an array).
    """

    success: bool | None = None
    reason: str | None = None
    shape: Literal["empty", "true", "text", "object", "response", "other"] = "response"


class Technician(ApiModel):
    uniqueID: int
    username: str
    displayName: str | None = None
    emailAddress: str | None = None
    isAnonymous: bool | None = None
    allowLocallyAuthenticatedLogins: bool | None = None
    enabled: bool | None = None
    appProfilesUser: bool | None = None
    groupIDs: list[int] | None = None


class LdapSettings(ApiModel):
    enabled: bool | None = None
    advanced: bool | None = None
    baseDN: str | None = None
    filter: str | None = None
    memberOfGroups: list[str] | None = None


class MfaSettings(ApiModel):
    email: bool | None = None
    app: bool | None = None
    emailCodeLength: int | None = None
    emailSubject: str | None = None
    emailBody: str | None = None
    rememberMachine: bool | None = None


class PasswordSettings(ApiModel):
    """Named but never defined by the reference (erratum 7): round-tripped as received."""


class TechnicianGroup(ApiModel):
    uniqueID: int
    name: str
    allowAnonymousLogins: bool | None = None
    max_groupShSessions: int | None = None
    max_groupSgSessions: int | None = None
    max_userShSessions: int | None = None
    # The reference lists max_userShSessions twice; the access-session one is this (erratum 2).
    max_userSgSessions: int | None = None
    maxFileSize: int | None = None
    requestAccessTimeout: int | None = None
    groupSpecificHostname: str | None = None
    defaultSgServiceName: str | None = None
    videoPassword: str | None = None
    sessionSpeedLimitKbps: int | None = None
    fpsDelay: int | None = None
    ldapSettings: LdapSettings | None = None
    mfaSettings: MfaSettings | None = None
    passwordSettings: PasswordSettings | None = None


class NetworkAdapter(ApiModel):
    ip: str | None = None
    mac: str | None = None
    name: str | None = None


class Machine(ApiModel):
    machineID: str
    online: bool | None = None
    groups: list[str] | None = None
    name: str | None = None
    state: str | None = None
    protocol: str | None = None
    lastRegistrationTime: int | None = None
    sessionCount: int | None = None
    monitoringEnabled: bool | None = None
    os: str | None = None
    hostname: str | None = None
    wanIP: str | None = None
    # An array of Network Adapter Objects, not strings (erratum 14).
    ipAddresses: list[NetworkAdapter] | None = None


class Memory(ApiModel):
    capacity: int | None = None
    type: str | None = None
    speedHz: int | None = None
    status: str | None = None
    manufacturer: str | None = None


class Disk(ApiModel):
    disk: str | None = None
    deviceName: str | None = None
    mediaName: str | None = None
    capacity: int | None = None
    type: str | None = None
    protocol: str | None = None
    internal: bool | None = None


class Processor(ApiModel):
    name: str | None = None
    # The reference types this as a String; servers may send a number.
    speedHz: str | int | None = None
    cores: int | None = None
    is64bit: bool | None = None


class Hardware(ApiModel):
    machineID: str | None = None
    totalMemory: int | None = None
    modelName: str | None = None
    modelIdentifier: str | None = None
    manufacturer: str | None = None
    serial: str | None = None
    eccMemory: bool | None = None
    memory: list[Memory] | None = None
    disks: list[Disk] | None = None
    processors: list[Processor] | None = None


class Usage(ApiModel):
    """A named share in use: a disk's (Disk Monitoring Object) or a process's (CPU offender)."""

    name: str | None = None
    usedPercentage: float | None = None


class Monitoring(ApiModel):
    machineID: str | None = None
    cpuLoadAverages: list[int] | None = None
    memoryLoadAverages: list[int] | None = None
    is64bit: bool | None = None
    os: str | None = None
    hostname: str | None = None
    wanIP: str | None = None
    lastRestarted: int | None = None
    disks: list[Usage] | None = None
    cpuOffenders: list[Usage] | None = None
    networkAdapters: list[NetworkAdapter] | None = None


class MachineNotes(ApiModel):
    machineID: str | None = None
    notes: str | None = None
    # The reference's example says `warning`, its table `warnings` (erratum 5): accept both.
    warnings: str | None = Field(default=None, validation_alias=AliasChoices("warnings", "warning"))


class MachineProperty(ApiModel):
    key: str | None = None
    value: str | None = None


class MachineProperties(ApiModel):
    machineID: str | None = None
    properties: list[MachineProperty] | None = None


# Brief views: only the attributes a plan compares, as plain dicts; unknown keys dropped.
# 10,000 machines validate about 5x faster into these than into the models above.


class MachineBrief(TypedDict, total=False):
    machineID: Required[str]
    monitoringEnabled: bool | None


class MachineNotesBrief(TypedDict, total=False):
    machineID: str | None
    notes: str | None
    warnings: Annotated[str | None, Field(validation_alias=AliasChoices("warnings", "warning"))]


class MachinePropertyBrief(TypedDict, total=False):
    key: str | None
    value: str | None


class MachinePropertiesBrief(TypedDict, total=False):
    machineID: str | None
    properties: list[MachinePropertyBrief] | None


class Customer(ApiModel):
    customerID: str | None = None
    timeInQueue: int | None = None
    username: str | None = None
    country: str | None = None
    domain: str | None = None
    url: str | None = None
    os: str | None = None
    hostname: str | None = None
    wanIP: str | None = None
    ipAddresses: list[str] | None = None
    details: dict[str, str] | None = None


class History(ApiModel):
    sessionID: str | None = None
    type: str | None = None
    technicianName: str | None = None
    technicianUsername: str | None = None
    start: int | None = None
    duration: int | None = None
    lastModified: int | None = None
    hasRecording: bool | None = None
    chat: str | None = None
    comments: str | None = None
    mode: str | None = None
    appTunnelTarget: str | None = None
    machine: Machine | None = None
    customer: Customer | None = None


class Alert(ApiModel):
    name: str | None = None
    active: bool | None = None
    triggered: bool | None = None
    triggeredMachineIDs: list[str] | None = None
    reason: str | None = None
    shortReason: str | None = None
    lastReportMS: int | None = None
    stateAgeMS: int | None = None
    severity: str | None = None


class Session(ApiModel):
    """What support and access sessions share: the technician and the session."""

    technicianDisplayName: str | None = None
    technicianUsername: str | None = None
    technicianID: int | None = None
    sessionID: str | None = None
    elapsedTime: int | None = None
    startTime: int | None = None


class SupportSession(Session):
    customer: Customer | None = None


class AccessSession(Session):
    machine: Machine | None = None
