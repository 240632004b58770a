"""Technician groups: attributes, nested LDAP/MFA/password settings, permissions, password.

Permissions (read, checked, compared, sent) are in `group_permissions.py`, the security
labels of a change in `group_labels.py`; the attributes are declared here only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import SecretStr, StrictBool, StrictStr

from reconciler.kinds import group_permissions
from reconciler.kinds.attrs import (
    Attr,
    LifecycleAttr,
    ManifestModel,
    NonEmptyStr,
    NonNegativeInt,
    Password,
    Role,
    fields_with,
    value,
    write_only_password,
)
from reconciler.kinds.base import (
    Defaults,
    create_pairs,
    declared_change,
    field_changes,
    plan_declared,
    same,
    secret_fields,
    unique,
    update_pairs,
)
from reconciler.kinds.contexts import ApplyContext, KindPlan, PlanContext, ReadContext
from reconciler.kinds.exporting import (
    EnvNames,
    ExportPart,
    declared_attributes,
    text,
    write_only_footer,
)
from reconciler.kinds.group_labels import labels
from reconciler.plan import Action, Change, Phase, fingerprint


class LdapSettings(ManifestModel):
    """The API's LDAP Settings Object."""

    enabled: StrictBool | None = None
    advanced: StrictBool | None = None
    baseDN: StrictStr | None = None
    filter: StrictStr | None = None
    memberOfGroups: list[StrictStr] | None = None


class MfaSettings(ManifestModel):
    """The API's MFA Settings Object."""

    email: StrictBool | None = None
    app: StrictBool | None = None
    rememberMachine: StrictBool | None = None
    emailCodeLength: NonNegativeInt | None = None
    emailSubject: StrictStr | None = None
    emailBody: StrictStr | None = None


Count = NonNegativeInt | None


class Group(ManifestModel):
    """A technician group; identity: ``name``."""

    name: Annotated[NonEmptyStr, Attr(Role.IDENTITY, "identity; unique on the server")]
    renamedFrom: Annotated[
        NonEmptyStr | None,
        Attr(Role.RENAME, "rename in place: the group keeps its uniqueID and members"),
    ] = None
    allowAnonymousLogins: Annotated[
        StrictBool | None,
        value("label `enables-anonymous-logins` when turned on", security=True),
    ] = None
    max_groupShSessions: Annotated[Count, value("support sessions of the group")] = None
    max_groupSgSessions: Annotated[Count, value("access sessions of the group")] = None
    max_userShSessions: Annotated[Count, value("support sessions per technician")] = None
    max_userSgSessions: Annotated[Count, value("access sessions per technician (erratum 2)")] = None
    sessionSpeedLimitKbps: Annotated[Count, value("0 = no limit")] = None
    maxFileSize: Annotated[Count, value("bytes")] = None
    requestAccessTimeout: Annotated[Count, value("ms; 0 = no timeout")] = None
    fpsDelay: Annotated[Count, value("ms")] = None
    groupSpecificHostname: Annotated[StrictStr | None, value()] = None
    defaultSgServiceName: Annotated[StrictStr | None, value()] = None
    videoPassword: Annotated[
        SecretStr | None,
        Attr(
            Role.READABLE_SECRET,
            "compared when the server returns it; otherwise set on create and with "
            "`--rotate-secrets`",
            security=True,
        ),
    ] = None
    ldapSettings: Annotated[
        LdapSettings | None,
        Attr(
            Role.SETTINGS,
            "only declared keys compared; `memberOfGroups` is a set; sent whole (live values "
            "merged) so a server that replaces the object keeps undeclared keys; label "
            "`changes-ldap`",
            security=True,
        ),
    ] = None
    mfaSettings: Annotated[
        MfaSettings | None,
        Attr(
            Role.SETTINGS,
            "only declared keys compared; label `weakens-mfa` when `app`/`email` turn off "
            "or `rememberMachine` turns on",
            security=True,
        ),
    ] = None
    passwordSettings: Annotated[
        dict[StrictStr, StrictBool | StrictStr] | None,
        Attr(Role.SETTINGS, "open object of bool/string (erratum 7): declared keys compared"),
    ] = None
    permissions: Annotated[
        dict[StrictStr, StrictBool] | None,
        Attr(
            Role.MAP,
            "only declared keys enforced; names checked against the server's; label "
            "`grants-permission` when one turns on",
            api="groups/permissions/*",
            security=True,
        ),
    ] = None
    password: Annotated[Password, write_only_password("groups/password/set")] = None
    lifecycle: LifecycleAttr = None


SETTINGS = fields_with(Group, Role.SETTINGS)
#: Not sent with groups/new or groups/set: own queries (permissions, password), or the name.
_SENT_APART = fields_with(Group, Role.IDENTITY, Role.MAP, Role.WRITE_ONLY)
#: Readable secrets: never compared with what groups/get answers right after a create.
_READABLE_SECRETS = fields_with(Group, Role.READABLE_SECRET)


@dataclass
class LiveGroups:
    by_name: dict[str, dict[str, Any]]
    permissions: dict[int, dict[str, bool]] = field(default_factory=dict)
    #: Every permission name the server knows (None: not read, nothing to check).
    permission_names: frozenset[str] | None = None


def ids_by_name(live: Mapping[str, Any]) -> dict[str, int]:
    """Live group IDs by name, from the whole live state (apply turns names into IDs)."""
    groups: LiveGroups = live[GroupsKind.name]
    return {name: int(g["uniqueID"]) for name, g in groups.by_name.items()}


def names_by_id(live: Mapping[str, Any], declared: Sequence[Group] = ()) -> dict[int, str]:
    """Live group names by ID; with `declared`, a renamed group under its new name."""
    groups: LiveGroups = live[GroupsKind.name]
    names = {int(g["uniqueID"]): name for name, g in groups.by_name.items()}
    for group in declared:
        old = groups.by_name.get(group.renamedFrom or "")
        if old is not None and group.name not in groups.by_name:
            names[int(old["uniqueID"])] = group.name
    return names


class GroupsKind(Defaults):
    name = "groups"
    noun = "group"
    section = "groups"
    model = Group
    phase = Phase.GROUPS
    prune = "groups"
    export_file = "groups.yaml"

    def read(self, ctx: ReadContext) -> LiveGroups:
        listed = ctx.client.groups_list()
        unique("groups/list", "groups with uniqueID", (g.uniqueID for g in listed))
        unique("groups/list", "groups named", (g.name for g in listed))
        by_name = {g.name: g.model_dump(mode="json", exclude_none=True) for g in listed}
        perms, names = group_permissions.read(ctx, by_name, ctx.model.groups)
        return LiveGroups(by_name, perms, names)

    def identities(self, live: LiveGroups) -> set[str]:
        return set(live.by_name)

    def live_id(self, identity: str, live: LiveGroups) -> int | None:
        group = live.by_name.get(identity)
        return None if group is None else int(group["uniqueID"])

    def snapshot(self, identity: str, live: LiveGroups) -> Any:
        group = live.by_name.get(identity)
        perms = None if group is None else live.permissions.get(int(group["uniqueID"]))
        return None if group is None else {"group": group, "permissions": perms}

    def problems(self, ctx: PlanContext) -> list[tuple[tuple[str, str], str]]:
        """Permission names the server does not know: refused before any write."""
        known = ctx.live[self.name].permission_names
        groups = ctx.manifest.model.groups if known else ()
        return [
            ((self.section, group.name), message)
            for group in groups
            for message in group_permissions.unknown(group.name, group.permissions or {}, known)
        ]

    def plan(self, ctx: PlanContext) -> KindPlan:
        live: LiveGroups = ctx.live[self.name]
        return plan_declared(
            self,
            ctx,
            live.by_name,
            ((g.name, g.renamedFrom, g) for g in ctx.manifest.model.groups),
            lambda group: self._create(ctx, group),
            lambda group, current, renamed: self._update(ctx, group, current, live, renamed),
            lambda name, current: self._delete(name, current, live),
        )

    def _delete(self, name: str, current: dict[str, Any], live: LiveGroups) -> Change:
        return Change(
            action=Action.DELETE,
            kind=self.name,
            identity=name,
            phase=Phase.DELETE_GROUPS,
            live_id=int(current["uniqueID"]),
            fingerprint=fingerprint(self.snapshot(name, live)),
        )

    def _create(self, ctx: PlanContext, group: Group) -> Change:
        pairs = create_pairs(self, group) + group_permissions.pairs(group.permissions, {})
        fields = field_changes(ctx, self.name, group.name, pairs)
        fields += secret_fields(self, group, None, rotate=ctx.rotate_secrets)
        found = labels(fields, created=True)
        return declared_change(self, Action.CREATE, group.name, fields, found)

    def _update(
        self,
        ctx: PlanContext,
        group: Group,
        current: dict[str, Any],
        live: LiveGroups,
        rename_from: str | None,
    ) -> Change | None:
        pairs: list[tuple[str, Any, Any]] = []
        if rename_from:
            pairs.append(("name", rename_from, group.name))
        changed, base = update_pairs(self, group, current)
        pairs += changed
        have_perms = live.permissions.get(int(current["uniqueID"]), {})
        pairs += group_permissions.pairs(group.permissions, have_perms)
        fields = field_changes(ctx, self.name, group.name, pairs)
        fields += secret_fields(self, group, current, rotate=ctx.rotate_secrets)
        if not fields:
            return None
        return declared_change(
            self,
            Action.UPDATE,
            group.name,
            fields,
            labels(fields, created=False),
            live_id=int(current["uniqueID"]),
            rename_from=rename_from,
            base=base,
            fingerprint=fingerprint(self.snapshot(rename_from or group.name, live)),
        )

    def export(self, live: Mapping[str, Any], names: EnvNames) -> ExportPart:
        groups: LiveGroups = live[self.name]
        part = ExportPart(data=[])
        write_only = []
        for name, data in sorted(groups.by_name.items()):
            item: dict[str, Any] = {"name": text(name)}
            item.update(declared_attributes(Group, data))
            perms = groups.permissions.get(int(data["uniqueID"]), {})
            item["permissions"] = dict(sorted(perms.items()))
            if data.get("videoPassword"):
                env = names.make("GROUP", name, "VIDEO_PASSWORD")
                item["videoPassword"] = f"${{env:{env}}}"
                part.placeholders.append(env)
            write_only.append((names.make("GROUP", name, "PASSWORD"), name))
            part.data.append(item)
        part.footer = write_only_footer("group", write_only)
        return part

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> None:
        for change in changes:
            if change.action is Action.DELETE:
                assert change.live_id is not None
                ctx.client.groups_remove(change.live_id)
                ctx.learn_group(change.identity, None)
            elif change.action is Action.CREATE:
                self._apply_create(change, ctx)
            else:
                assert change.live_id is not None
                self._apply_update(change, ctx, change.live_id)

    def _apply_create(self, change: Change, ctx: ApplyContext) -> None:
        attrs = _attributes(change, ctx)
        ctx.client.groups_new({"name": change.identity, **attrs})
        created = ctx.client.groups_get(name=change.identity)
        ctx.learn_group(change.identity, created.uniqueID)
        have = created.model_dump(mode="json", exclude_none=True)
        missed = {
            k: v
            for k, v in attrs.items()
            if k not in _READABLE_SECRETS and not same(have.get(k), v)
        }
        if missed:
            ctx.client.groups_set(created.uniqueID, missed)
        perms = group_permissions.to_send(change, ctx)
        if perms and ctx.permissions_unchecked:
            group_permissions.check_created(ctx, change, created.uniqueID, perms)
        self._apply_extras(change, ctx, created.uniqueID)

    def _apply_update(self, change: Change, ctx: ApplyContext, unique_id: int) -> None:
        attrs = _attributes(change, ctx)
        if change.rename_from:
            attrs["name"] = change.identity
        if attrs:
            ctx.client.groups_set(unique_id, attrs)
        ctx.learn_group(change.identity, unique_id, old_name=change.rename_from)
        self._apply_extras(change, ctx, unique_id)

    @staticmethod
    def _apply_extras(change: Change, ctx: ApplyContext, unique_id: int) -> None:
        perms = group_permissions.to_send(change, ctx)
        if perms:
            ctx.client.groups_permissions_set(unique_id, perms)
        password = change.field("password")
        if password is not None:
            ctx.client.groups_password_set(unique_id, ctx.value(change, password))


def _attributes(change: Change, ctx: ApplyContext) -> dict[str, Any]:
    """The groups/new or groups/set attributes of a change; nested objects sent whole."""
    attrs: dict[str, Any] = {}
    for fc in change.fields:
        head, _, sub = fc.path.partition(".")
        if head in _SENT_APART:
            continue
        if head in SETTINGS and sub:
            nested = attrs.setdefault(head, dict(change.base.get(head, {})))
            nested[sub] = ctx.value(change, fc)
        else:
            attrs[head] = ctx.value(change, fc)
    return attrs
