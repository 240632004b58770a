"""The server hostname (server/hostname/*)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.kinds.base import ApplyContext, KindPlan, PlanContext, ReadContext, field_changes
from reconciler.plan import Action, Change, Phase, fingerprint

IDENTITY = "hostname"


class ServerKind:
    name = "server"

    def read(self, ctx: ReadContext) -> str | None:
        if ctx.manifest.model.server.hostname is None:
            return None
        return ctx.client.server_hostname_get()

    def snapshot(self, identity: str, live: str | None) -> Any:
        return live

    def plan(self, ctx: PlanContext) -> KindPlan:
        want = ctx.manifest.model.server.hostname
        have: str | None = ctx.live[self.name]
        if want is None or have == want:
            return KindPlan(live_count=0)
        fields = field_changes(ctx, self.name, IDENTITY, [("hostname", have, want)])
        change = Change(
            action=Action.UPDATE,
            kind=self.name,
            identity=IDENTITY,
            phase=Phase.SERVER,
            fields=tuple(fields),
            fingerprint=fingerprint(have),
        )
        return KindPlan(changes=[change])

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> None:
        for change in changes:
            for fc in change.fields:
                ctx.client.server_hostname_set(ctx.value(change, fc))
