"""Technician accounts: attributes, group memberships (by name), write-only password."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.errors import ShcfgError
from reconciler.kinds.base import (
    ApplyContext,
    KindPlan,
    PlanContext,
    ReadContext,
    field_changes,
    same,
)
from reconciler.kinds.groups import LiveGroups
from reconciler.manifest.models import Technician
from reconciler.plan import Action, Change, FieldChange, Label, Phase, Undeclared, fingerprint

ATTRIBUTES = ("displayName", "emailAddress", "enabled", "allowLocallyAuthenticatedLogins")
PROTECTED_FLAGS = ("isAnonymous", "appProfilesUser")


class TechniciansKind:
    name = "technicians"

    def read(self, ctx: ReadContext) -> dict[str, dict[str, Any]]:
        by_username: dict[str, dict[str, Any]] = {}
        for tech in ctx.client.technicians_list():
            if tech.username in by_username:
                raise ShcfgError(
                    f"technicians/list: the server returned two technicians named {tech.username!r}"
                )
            by_username[tech.username] = tech.model_dump(mode="json", exclude_none=True)
        return by_username

    def snapshot(self, identity: str, live: dict[str, dict[str, Any]]) -> Any:
        return live.get(identity)

    def plan(self, ctx: PlanContext) -> KindPlan:
        live: dict[str, dict[str, Any]] = ctx.live[self.name]
        names = _group_names_by_id(ctx)
        result = KindPlan(live_count=len(live))
        claimed: set[str] = set()
        for tech in ctx.manifest.model.technicians:
            current, rename_from = _match(tech, live)
            if current is None:
                result.changes.append(self._create(ctx, tech))
                continue
            claimed.add(rename_from or tech.username)
            change = self._update(ctx, tech, current, names, rename_from, live)
            if change is not None:
                result.changes.append(change)
        prune = ctx.manifest.model.prune.technicians
        for username, current in sorted(live.items()):
            if username in claimed or ctx.ignored(self.name, username):
                continue
            protected = next((f for f in PROTECTED_FLAGS if current.get(f) is True), None)
            if prune and protected is None:
                result.changes.append(
                    Change(
                        action=Action.DELETE,
                        kind=self.name,
                        identity=username,
                        phase=Phase.DELETE_TECHNICIANS,
                        live_id=int(current["uniqueID"]),
                        labels=(Label.DELETES_TECHNICIAN,),
                        fingerprint=fingerprint(current),
                    )
                )
            else:
                reason = (
                    f"{protected} accounts are never pruned"
                    if protected
                    else ("prune.technicians is off")
                )
                result.undeclared.append(
                    Undeclared(kind=self.name, identity=username, reason=reason)
                )
        return result

    def _create(self, ctx: PlanContext, tech: Technician) -> Change:
        pairs: list[tuple[str, Any, Any]] = [
            (k, None, getattr(tech, k)) for k in ATTRIBUTES if getattr(tech, k) is not None
        ]
        if tech.groups is not None:
            pairs.append(("groups", None, sorted(tech.groups)))
        fields = field_changes(ctx, self.name, tech.username, pairs)
        if tech.password is not None:
            fields.append(FieldChange(path="password", sensitive=True))
        return Change(
            action=Action.CREATE,
            kind=self.name,
            identity=tech.username,
            phase=Phase.TECHNICIANS,
            fields=tuple(fields),
            labels=_labels(fields),
            fingerprint=fingerprint(None),
        )

    def _update(
        self,
        ctx: PlanContext,
        tech: Technician,
        current: dict[str, Any],
        names: dict[int, str],
        rename_from: str | None,
        live: dict[str, dict[str, Any]],
    ) -> Change | None:
        pairs: list[tuple[str, Any, Any]] = []
        if rename_from:
            pairs.append(("username", rename_from, tech.username))
        for key in ATTRIBUTES:
            want = getattr(tech, key)
            if want is not None and not same(current.get(key), want):
                pairs.append((key, current.get(key), want))
        if tech.groups is not None:
            have = sorted(names.get(i, f"#{i}") for i in current.get("groupIDs") or [])
            if have != sorted(tech.groups):
                pairs.append(("groups", have, sorted(tech.groups)))
        fields = field_changes(ctx, self.name, tech.username, pairs)
        if tech.password is not None and ctx.rotate_secrets:
            fields.append(FieldChange(path="password", sensitive=True))
        if not fields:
            return None
        return Change(
            action=Action.UPDATE,
            kind=self.name,
            identity=tech.username,
            phase=Phase.TECHNICIANS,
            fields=tuple(fields),
            labels=_labels(fields),
            live_id=int(current["uniqueID"]),
            rename_from=rename_from,
            fingerprint=fingerprint(live.get(rename_from or tech.username)),
        )

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> None:
        for change in changes:
            if change.action is Action.DELETE:
                assert change.live_id is not None
                ctx.client.technicians_remove(change.live_id)
                continue
            attrs = _attributes(change, ctx)
            if change.action is Action.CREATE:
                ctx.client.technicians_new({"username": change.identity, **attrs})
                created = ctx.client.technicians_get(username=change.identity)
                unique_id = created.uniqueID
                have = created.model_dump(mode="json", exclude_none=True)
                missed = {k: v for k, v in attrs.items() if not _stuck(have.get(k), v, k)}
                if missed:
                    ctx.client.technicians_set(unique_id, missed)
            else:
                assert change.live_id is not None
                unique_id = change.live_id
                if change.rename_from:
                    attrs["username"] = change.identity
                if attrs:
                    ctx.client.technicians_set(unique_id, attrs)
            password = change.field("password")
            if password is not None:
                ctx.client.technicians_password_set(unique_id, ctx.value(change, password))


def _match(
    tech: Technician, live: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any] | None, str | None]:
    if tech.username in live:
        return live[tech.username], None
    if tech.renamedFrom and tech.renamedFrom in live:
        return live[tech.renamedFrom], tech.renamedFrom
    return None, None


def _group_names_by_id(ctx: PlanContext) -> dict[int, str]:
    """Live group IDs by the name the manifests will give them (renames included)."""
    groups: LiveGroups = ctx.live["groups"]
    names = {int(g["uniqueID"]): name for name, g in groups.by_name.items()}
    for group in ctx.manifest.model.groups:
        if (
            group.renamedFrom
            and group.renamedFrom in groups.by_name
            and (group.name not in groups.by_name)
        ):
            names[int(groups.by_name[group.renamedFrom]["uniqueID"])] = group.name
    return names


def _attributes(change: Change, ctx: ApplyContext) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for fc in change.fields:
        if fc.path in ATTRIBUTES:
            attrs[fc.path] = ctx.value(change, fc)
        elif fc.path == "groups":
            try:
                attrs["groupIDs"] = sorted(ctx.group_id(n) for n in ctx.value(change, fc))
            except KeyError as missing:
                raise ShcfgError(
                    f"technician {change.identity!r}: group {missing} does not exist on the server"
                ) from None
    return attrs


def _stuck(have: Any, want: Any, key: str) -> bool:
    return same(have, want, unordered=key == "groupIDs")


def _labels(fields: Sequence[FieldChange]) -> tuple[Label, ...]:
    labels: list[Label] = []
    for fc in fields:
        if fc.path == "enabled" and fc.after is False:
            labels.append(Label.DISABLES_TECHNICIAN)
        elif fc.path == "password":
            labels.append(Label.SETS_PASSWORD)
    return tuple(labels)
