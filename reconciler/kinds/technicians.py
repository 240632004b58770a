"""Technician accounts: attributes, group memberships (by name), write-only password."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import StrictBool, StrictStr, field_validator

from reconciler.errors import ShcfgError
from reconciler.kinds.attrs import (
    Attr,
    LifecycleAttr,
    ManifestModel,
    NonEmptyStr,
    Password,
    Role,
    fields_with,
    no_duplicates,
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
from reconciler.kinds.groups import names_by_id
from reconciler.plan import Action, Change, FieldChange, Label, Phase, fingerprint


class Technician(ManifestModel):
    """A technician account; identity: ``username``."""

    username: Annotated[NonEmptyStr, Attr(Role.IDENTITY, "identity")]
    renamedFrom: Annotated[
        NonEmptyStr | None, Attr(Role.RENAME, "rename in place: keeps uniqueID and sessions")
    ] = None
    displayName: Annotated[StrictStr | None, value()] = None
    emailAddress: Annotated[StrictStr | None, value("must look like an address")] = None
    enabled: Annotated[
        StrictBool | None,
        value("label `disables-technician` when turned off", security=True),
    ] = None
    allowLocallyAuthenticatedLogins: Annotated[StrictBool | None, value()] = None
    groups: Annotated[
        list[StrictStr] | None,
        Attr(
            Role.REFS,
            "group names (declared or live), a set; resolved to IDs at apply time, so a "
            "technician can join a group created in the same run",
            api="groupIDs",
            security=True,
        ),
    ] = None
    password: Annotated[
        Password, write_only_password("technicians/password/set", "; label `sets-password`")
    ] = None
    lifecycle: LifecycleAttr = None

    @field_validator("groups")
    @classmethod
    def _unique_groups(cls, value: list[str] | None) -> list[str] | None:
        return no_duplicates(value, "group")


ATTRIBUTES = fields_with(Technician, Role.VALUE)
#: Accounts shcfg never manages: never pruned, never exported.
PROTECTED_FLAGS = ("isAnonymous", "appProfilesUser")


class TechniciansKind(Defaults):
    name = "technicians"
    noun = "technician"
    section = "technicians"
    model = Technician
    phase = Phase.TECHNICIANS
    depends_on = ("groups",)
    prune = "technicians"
    export_file = "technicians.yaml"

    def read(self, ctx: ReadContext) -> dict[str, dict[str, Any]]:
        listed = ctx.client.technicians_list()
        unique("technicians/list", "technicians with uniqueID", (t.uniqueID for t in listed))
        unique("technicians/list", "technicians named", (t.username for t in listed))
        return {t.username: t.model_dump(mode="json", exclude_none=True) for t in listed}

    def identities(self, live: dict[str, dict[str, Any]]) -> set[str]:
        return set(live)

    def live_id(self, identity: str, live: dict[str, dict[str, Any]]) -> int | None:
        tech = live.get(identity)
        return None if tech is None else int(tech["uniqueID"])

    def snapshot(self, identity: str, live: dict[str, dict[str, Any]]) -> Any:
        return live.get(identity)

    def plan(self, ctx: PlanContext) -> KindPlan:
        names = names_by_id(ctx.live, ctx.manifest.model.groups)
        return plan_declared(
            self,
            ctx,
            ctx.live[self.name],
            ((t.username, t.renamedFrom, t) for t in ctx.manifest.model.technicians),
            lambda tech: self._create(ctx, tech),
            lambda tech, current, renamed: self._update(ctx, tech, current, names, renamed),
            self._delete,
            _never_pruned,
        )

    def _delete(self, username: str, current: dict[str, Any]) -> Change:
        return Change(
            action=Action.DELETE,
            kind=self.name,
            identity=username,
            phase=Phase.DELETE_TECHNICIANS,
            live_id=int(current["uniqueID"]),
            labels=(Label.DELETES_TECHNICIAN,),
            fingerprint=fingerprint(current),
        )

    def _create(self, ctx: PlanContext, tech: Technician) -> Change:
        pairs = create_pairs(self, tech)
        if tech.groups is not None:
            pairs.append(("groups", None, sorted(tech.groups)))
        fields = field_changes(ctx, self.name, tech.username, pairs)
        fields += secret_fields(self, tech, None, rotate=ctx.rotate_secrets)
        return declared_change(self, Action.CREATE, tech.username, fields, _labels(fields))

    def _update(
        self,
        ctx: PlanContext,
        tech: Technician,
        current: dict[str, Any],
        names: dict[int, str],
        rename_from: str | None,
    ) -> Change | None:
        pairs: list[tuple[str, Any, Any]] = []
        if rename_from:
            pairs.append(("username", rename_from, tech.username))
        pairs += update_pairs(self, tech, current)[0]
        if tech.groups is not None:
            have = sorted(names.get(i, f"#{i}") for i in current.get("groupIDs") or [])
            if have != sorted(tech.groups):
                pairs.append(("groups", have, sorted(tech.groups)))
        fields = field_changes(ctx, self.name, tech.username, pairs)
        fields += secret_fields(self, tech, current, rotate=ctx.rotate_secrets)
        if not fields:
            return None
        return declared_change(
            self,
            Action.UPDATE,
            tech.username,
            fields,
            _labels(fields),
            live_id=int(current["uniqueID"]),
            rename_from=rename_from,
            fingerprint=fingerprint(current),
        )

    def export(self, live: Mapping[str, Any], names: EnvNames) -> ExportPart:
        techs: dict[str, dict[str, Any]] = live[self.name]
        group_names = names_by_id(live)
        part = ExportPart(data=[])
        skipped, write_only = [], []
        for username, data in sorted(techs.items()):
            flag = next((f for f in PROTECTED_FLAGS if data.get(f) is True), None)
            if flag:
                skipped.append(f"{username} ({flag})")
                continue
            item: dict[str, Any] = {"username": text(username)}
            item.update(declared_attributes(Technician, data))
            if data.get("groupIDs") is not None:
                item["groups"] = sorted(
                    text(group_names[i]) for i in data["groupIDs"] if i in group_names
                )
            write_only.append((names.make("TECH", username, "PASSWORD"), username))
            part.data.append(item)
        if skipped:
            part.header.append("Not exported (never managed by shcfg): " + ", ".join(skipped) + ".")
        part.footer = write_only_footer("technician", write_only)
        return part

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


def _never_pruned(current: dict[str, Any]) -> str | None:
    flag = next((f for f in PROTECTED_FLAGS if current.get(f) is True), None)
    return f"{flag} accounts are never pruned" if flag else None


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
