"""The normalised view every audit rule and policy check reads (``AuditState``).

Two adapters build it: ``from_live`` from what ``reconcile.read_live`` returns (plus the
few reads it skips), and ``from_manifest`` from loaded manifests. A change in the live
state's internal shape is a change to ``from_live`` alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reconciler.client.api import SimpleHelpClient
from reconciler.manifest import LoadedManifest, Manifest


@dataclass(frozen=True)
class GroupState:
    """A technician group: API attribute names, nested objects as dicts; absent = unknown."""

    name: str
    attrs: Mapping[str, Any]
    permissions: Mapping[str, bool] | None = None

    def setting(self, obj: str, key: str) -> Any:
        """``attrs[obj][key]``, or None when either is absent."""
        nested = self.attrs.get(obj)
        return nested.get(key) if isinstance(nested, Mapping) else None


@dataclass(frozen=True)
class TechnicianState:
    """A technician account; ``None`` where the source does not say."""

    username: str
    groups: tuple[str, ...] = ()
    enabled: bool | None = None
    isAnonymous: bool = False
    appProfilesUser: bool = False
    allowLocallyAuthenticatedLogins: bool | None = None

    @property
    def active(self) -> bool:
        """Enabled unless said otherwise (a new account is enabled on the server)."""
        return self.enabled is not False

    @property
    def local_login(self) -> bool:
        """May log in with a local password (the server's default for a new account)."""
        return self.allowLocallyAuthenticatedLogins is not False


@dataclass(frozen=True)
class AuditState:
    """What the rules look at. ``restrictions`` None: unknown (not read, not declared)."""

    version: str | None
    groups: dict[str, GroupState] = field(default_factory=dict)
    technicians: dict[str, TechnicianState] = field(default_factory=dict)
    restrictions: tuple[str, ...] | None = None

    def members(self, group: str) -> list[TechnicianState]:
        return [t for t in self.technicians.values() if group in t.groups]


def empty_manifest() -> LoadedManifest:
    """A manifest declaring nothing: ``read_live`` then reads only what every audit needs."""
    return LoadedManifest(
        model=Manifest(version=1), secret_refs={}, secret_values=frozenset(), files=[], locate=dict
    )


def from_live(
    client: SimpleHelpClient, live: dict[str, Any], *, version: str | None, concurrency: int = 8
) -> AuditState:
    """Adapt ``read_live``'s result; reads every group's permissions and the restrictions
    when ``read_live`` did not (it reads only what the manifests declare)."""
    by_name: dict[str, dict[str, Any]] = dict(live["groups"].by_name)
    known: dict[int, Mapping[str, bool]] = dict(live["groups"].permissions)
    ids = {name: int(g["uniqueID"]) for name, g in by_name.items()}
    missing = sorted(i for i in ids.values() if i not in known)
    if missing:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            known.update(
                zip(missing, pool.map(client.groups_permissions_get, missing), strict=True)
            )
    names = {gid: name for name, gid in ids.items()}
    groups = {
        name: GroupState(name, _attrs(group), _bools(known.get(ids[name])))
        for name, group in by_name.items()
    }
    technicians = {}
    for username, tech in live["technicians"].items():
        technicians[username] = TechnicianState(
            username=username,
            groups=tuple(names[i] for i in tech.get("groupIDs") or [] if i in names),
            enabled=_bool(tech.get("enabled")),
            isAnonymous=tech.get("isAnonymous") is True,
            appProfilesUser=tech.get("appProfilesUser") is True,
            allowLocallyAuthenticatedLogins=_bool(tech.get("allowLocallyAuthenticatedLogins")),
        )
    restrictions = live.get("techRestrictions")
    if restrictions is None:
        restrictions = client.server_tech_restrictions_get()
    return AuditState(
        version,
        groups,
        technicians,
        tuple(r for r in restrictions if isinstance(r, str)),
    )


def from_manifest(loaded: LoadedManifest) -> AuditState:
    """The declared state: undeclared attributes stay unknown; no server version."""
    model = loaded.model
    groups = {
        g.name: GroupState(
            g.name,
            g.model_dump(
                mode="json",
                exclude_none=True,
                exclude={"name", "renamedFrom", "permissions", "password", "videoPassword"},
            ),
            g.permissions,
        )
        for g in model.groups
    }
    technicians = {
        t.username: TechnicianState(
            username=t.username,
            groups=tuple(t.groups or ()),
            enabled=t.enabled,
            allowLocallyAuthenticatedLogins=t.allowLocallyAuthenticatedLogins,
        )
        for t in model.technicians
    }
    restrictions = model.server.techRestrictions
    return AuditState(
        None, groups, technicians, None if restrictions is None else tuple(restrictions)
    )


def _attrs(group: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in group.items() if k not in ("uniqueID", "name", "videoPassword")}


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _bools(values: Mapping[str, Any] | None) -> dict[str, bool] | None:
    """A hostile answer's non-boolean permission values are dropped, not trusted."""
    if not isinstance(values, Mapping):
        return None
    return {str(k): v for k, v in values.items() if isinstance(v, bool)}
