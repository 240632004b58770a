"""Technician IP restrictions (server/tech-restrictions/*): a set of regular expressions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.kinds.base import Defaults
from reconciler.kinds.contexts import ApplyContext, KindPlan, PlanContext, ReadContext
from reconciler.kinds.exporting import EnvNames, ExportPart, text
from reconciler.kinds.server import Server
from reconciler.plan import Action, Change, Label, Phase, Undeclared, fingerprint


class RestrictionsKind(Defaults):
    name = "techRestrictions"
    noun = "tech restriction"
    section = "server"
    model = Server
    attributes = ("techRestrictions",)
    phase = Phase.SERVER
    batched = True
    prune = "techRestrictions"
    ignorable = False
    export_file = "server.yaml"

    def read(self, ctx: ReadContext) -> list[str] | None:
        if ctx.model.server.techRestrictions is None and not ctx.everything:
            return None
        return ctx.client.server_tech_restrictions_get()

    def identities(self, live: list[str] | None) -> set[str]:
        return set(live or ())

    def export(self, live: Mapping[str, Any], names: EnvNames) -> ExportPart:
        patterns: list[str] = live[self.name] or []
        return ExportPart(data={"techRestrictions": sorted(text(p) for p in patterns)})

    def snapshot(self, identity: str, live: list[str] | None) -> Any:
        return identity in (live or [])

    def plan(self, ctx: PlanContext) -> KindPlan:
        declared = ctx.manifest.model.server.techRestrictions
        live: list[str] | None = ctx.live[self.name]
        if declared is None or live is None:
            return KindPlan()
        have, want = set(live), set(declared)
        prune = ctx.manifest.model.prune.techRestrictions
        removed = {p for p in have - want if prune and not ctx.ignored(self.name, p)}
        final = (have | want) - removed
        result = KindPlan(live_count=len(have))
        for pattern in sorted(want - have):
            label = Label.WIDENS_IP_RESTRICTIONS if have else Label.NARROWS_IP_RESTRICTIONS
            result.changes.append(self._change(Action.CREATE, pattern, label))
        for pattern in sorted(have - want):
            if pattern in removed:
                label = Label.NARROWS_IP_RESTRICTIONS if final else Label.WIDENS_IP_RESTRICTIONS
                result.changes.append(self._change(Action.DELETE, pattern, label))
            elif not ctx.ignored(self.name, pattern):
                result.undeclared.append(
                    Undeclared(
                        kind=self.name, identity=pattern, reason="prune.techRestrictions is off"
                    )
                )
        return result

    def _change(self, action: Action, pattern: str, label: Label) -> Change:
        return Change(
            action=action,
            kind=self.name,
            identity=pattern,
            phase=self.phase,
            labels=(label,),
            fingerprint=fingerprint(action is Action.DELETE),
        )

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> None:
        patterns = [c.identity for c in changes]
        if not patterns:
            return
        if changes[0].action is Action.CREATE:
            ctx.client.server_tech_restrictions_new(patterns)
        else:
            ctx.client.server_tech_restrictions_remove(patterns)
