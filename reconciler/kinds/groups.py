"""Technician groups: attributes, nested LDAP/MFA/password settings, permissions, password."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import ShcfgError
from reconciler.kinds.base import (
    ApplyContext,
    KindPlan,
    PlanContext,
    ReadContext,
    field_changes,
    nested_changes,
    same,
)
from reconciler.manifest.models import Group
from reconciler.plan import Action, Change, FieldChange, Label, Phase, Undeclared, fingerprint

SCALARS = (
    "allowAnonymousLogins",
    "max_groupShSessions",
    "max_groupSgSessions",
    "max_userShSessions",
    "max_userSgSessions",
    "maxFileSize",
    "requestAccessTimeout",
    "groupSpecificHostname",
    "defaultSgServiceName",
    "sessionSpeedLimitKbps",
    "fpsDelay",
)
NESTED = ("ldapSettings", "mfaSettings", "passwordSettings")


@dataclass
class LiveGroups:
    by_name: dict[str, dict[str, Any]]
    permissions: dict[int, dict[str, bool]] = field(default_factory=dict)


def _declared_attrs(group: Group) -> dict[str, Any]:
    """Declared plain attributes (no identity, permissions or write-only secrets)."""
    data = group.model_dump(
        exclude_none=True,
        exclude={"name", "renamedFrom", "permissions", "password", "videoPassword", "lifecycle"},
    )
    return {k: data[k] for k in (*SCALARS, *NESTED) if k in data}


class GroupsKind:
    name = "groups"

    def read(self, ctx: ReadContext) -> LiveGroups:
        by_name: dict[str, dict[str, Any]] = {}
        for group in ctx.client.groups_list():
            if group.name in by_name:
                raise ShcfgError(
                    f"groups/list: the server returned two groups named {group.name!r}"
                )
            by_name[group.name] = group.model_dump(mode="json", exclude_none=True)
        wanted = []
        for declared in ctx.manifest.model.groups:
            live = by_name.get(declared.name) or by_name.get(declared.renamedFrom or "")
            if declared.permissions is not None and live is not None:
                wanted.append(int(live["uniqueID"]))
        perms = ctx.pool.map(ctx.client.groups_permissions_get, wanted)
        return LiveGroups(by_name, dict(zip(wanted, perms, strict=True)))

    def snapshot(self, identity: str, live: LiveGroups) -> Any:
        group = live.by_name.get(identity)
        if group is None:
            return None
        return {"group": group, "permissions": live.permissions.get(int(group["uniqueID"]))}

    def plan(self, ctx: PlanContext) -> KindPlan:
        live: LiveGroups = ctx.live[self.name]
        result = KindPlan(live_count=len(live.by_name))
        claimed: set[str] = set()
        for group in ctx.manifest.model.groups:
            current, rename_from = self._match(group, live)
            if current is None:
                result.changes.append(self._create(ctx, group))
                continue
            claimed.add(rename_from or group.name)
            change = self._update(ctx, group, current, live, rename_from)
            if change is not None:
                result.changes.append(change)
        prune = ctx.manifest.model.prune.groups
        for name, current in sorted(live.by_name.items()):
            if name in claimed or ctx.ignored(self.name, name):
                continue
            if prune:
                result.changes.append(
                    Change(
                        action=Action.DELETE,
                        kind=self.name,
                        identity=name,
                        phase=Phase.DELETE_GROUPS,
                        live_id=int(current["uniqueID"]),
                        fingerprint=fingerprint(self.snapshot(name, live)),
                    )
                )
            else:
                result.undeclared.append(
                    Undeclared(kind=self.name, identity=name, reason="prune.groups is off")
                )
        return result

    @staticmethod
    def _match(group: Group, live: LiveGroups) -> tuple[dict[str, Any] | None, str | None]:
        if group.name in live.by_name:
            return live.by_name[group.name], None
        if group.renamedFrom and group.renamedFrom in live.by_name:
            return live.by_name[group.renamedFrom], group.renamedFrom
        return None, None

    def _create(self, ctx: PlanContext, group: Group) -> Change:
        pairs: list[tuple[str, Any, Any]] = [
            (k, None, v) for k, v in _declared_attrs(group).items()
        ]
        pairs += [
            (f"permissions.{k}", None, v) for k, v in sorted((group.permissions or {}).items())
        ]
        fields = field_changes(ctx, self.name, group.name, pairs)
        fields += [
            FieldChange(path=k, sensitive=True)
            for k in ("videoPassword", "password")
            if getattr(group, k) is not None
        ]
        labels = _labels(fields, created=True)
        return Change(
            action=Action.CREATE,
            kind=self.name,
            identity=group.name,
            phase=Phase.GROUPS,
            fields=tuple(fields),
            labels=labels,
            fingerprint=fingerprint(None),
        )

    def _update(
        self,
        ctx: PlanContext,
        group: Group,
        current: dict[str, Any],
        live: LiveGroups,
        rename_from: str | None,
    ) -> Change | None:
        pairs: list[tuple[str, Any, Any]] = []
        base: dict[str, Any] = {}
        if rename_from:
            pairs.append(("name", rename_from, group.name))
        for key, want in _declared_attrs(group).items():
            have = current.get(key)
            if key in NESTED:
                have_map = have if isinstance(have, dict) else {}
                changed = nested_changes(have_map, want)
                if changed:
                    base[key] = have_map
                    pairs += [(f"{key}.{sub}", have_map.get(sub), want[sub]) for sub in changed]
            elif not same(have, want):
                pairs.append((key, have, want))
        if group.permissions is not None:
            have_perms = live.permissions.get(int(current["uniqueID"]), {})
            pairs += [
                (f"permissions.{k}", have_perms.get(k), v)
                for k, v in sorted(group.permissions.items())
                if have_perms.get(k) is not v
            ]
        fields = field_changes(ctx, self.name, group.name, pairs)
        if group.videoPassword is not None:
            have_video = current.get("videoPassword")
            readable = isinstance(have_video, str)
            if (readable and have_video != group.videoPassword.get_secret_value()) or (
                not readable and ctx.rotate_secrets
            ):
                fields.append(FieldChange(path="videoPassword", sensitive=True))
        if group.password is not None and ctx.rotate_secrets:
            fields.append(FieldChange(path="password", sensitive=True))
        if not fields:
            return None
        return Change(
            action=Action.UPDATE,
            kind=self.name,
            identity=group.name,
            phase=Phase.GROUPS,
            fields=tuple(fields),
            labels=_labels(fields, created=False),
            live_id=int(current["uniqueID"]),
            rename_from=rename_from,
            base=base,
            fingerprint=fingerprint(self.snapshot(rename_from or group.name, live)),
        )

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
            k: v for k, v in attrs.items() if k != "videoPassword" and not same(have.get(k), v)
        }
        if missed:
            ctx.client.groups_set(created.uniqueID, missed)
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
        perms = {
            f.path.split(".", 1)[1]: ctx.value(change, f)
            for f in change.fields
            if f.path.startswith("permissions.")
        }
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
        if head in ("permissions", "password", "name"):
            continue
        if head in NESTED and sub:
            nested = attrs.setdefault(head, dict(change.base.get(head, {})))
            nested[sub] = ctx.value(change, fc)
        else:
            attrs[head] = ctx.value(change, fc)
    return attrs


def _labels(fields: Sequence[FieldChange], *, created: bool) -> tuple[Label, ...]:
    labels: list[Label] = []
    # On create a nested settings object is one field holding the whole object.
    flat = [
        (f"{fc.path}.{sub}", None, value)
        for fc in fields
        if fc.path in NESTED and isinstance(fc.after, dict)
        for sub, value in fc.after.items()
    ]
    flat += [(fc.path, fc.before, fc.after) for fc in fields]
    for path, before, after in flat:
        if path.startswith("permissions.") and after is True and before is not True:
            labels.append(Label.GRANTS_PERMISSION)
        elif path.startswith("ldapSettings"):
            labels.append(Label.CHANGES_LDAP)
        elif (
            path in ("mfaSettings.app", "mfaSettings.email") and after is False and not created
        ) or (path == "mfaSettings.rememberMachine" and after is True):
            labels.append(Label.WEAKENS_MFA)
        elif path == "allowAnonymousLogins" and after is True:
            labels.append(Label.ENABLES_ANONYMOUS_LOGINS)
        elif path in ("password", "videoPassword"):
            labels.append(Label.SETS_PASSWORD)
    return tuple(dict.fromkeys(labels))
