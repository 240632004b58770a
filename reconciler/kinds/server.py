"""The server section: its hostname (server/hostname/*) and the model of `server:`.

`server.techRestrictions` is a kind of its own (kinds/restrictions.py); `keepAccessFrom`
is read by the safety checks only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import StrictStr, field_validator

from reconciler.kinds.attrs import Attr, ManifestModel, NonEmptyStr, Role, no_duplicates
from reconciler.kinds.base import Defaults, field_changes
from reconciler.kinds.contexts import ApplyContext, KindPlan, PlanContext, ReadContext
from reconciler.kinds.exporting import EnvNames, ExportPart, text
from reconciler.plan import Action, Change, Phase, fingerprint

IDENTITY = "hostname"


class Server(ManifestModel):
    """Server-wide settings (``server/hostname/*``, ``server/tech-restrictions/*``)."""

    hostname: Annotated[
        NonEmptyStr | None, Attr(Role.VALUE, "kind `server`", api="server/hostname/*")
    ] = None
    techRestrictions: Annotated[
        list[StrictStr] | None,
        Attr(
            Role.SET,
            "kind `techRestrictions`: regular expressions, a set",
            api="server/tech-restrictions/*",
            security=True,
        ),
    ] = None
    keepAccessFrom: Annotated[
        list[StrictStr] | None,
        Attr(Role.GUARD, "IP addresses the restrictions must keep allowing (safety check)"),
    ] = None

    @field_validator("techRestrictions")
    @classmethod
    def _unique_restrictions(cls, value: list[str] | None) -> list[str] | None:
        return no_duplicates(value, "tech restriction")

    @field_validator("keepAccessFrom")
    @classmethod
    def _ip_addresses(cls, value: list[str] | None) -> list[str] | None:
        for address in value or []:
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(f"{address!r} is not an IP address") from None
        return no_duplicates(value, "address")


class ServerKind(Defaults):
    name = "server"
    noun = "server hostname"
    section = "server"
    model = Server
    attributes = ("hostname",)
    phase = Phase.SERVER
    ignorable = False
    export_file = "server.yaml"

    def read(self, ctx: ReadContext) -> str | None:
        if ctx.model.server.hostname is None and not ctx.everything:
            return None
        return ctx.client.server_hostname_get()

    def identities(self, live: str | None) -> set[str]:
        return {IDENTITY} if live else set()

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
            phase=self.phase,
            fields=tuple(fields),
            fingerprint=fingerprint(have),
        )
        return KindPlan(changes=[change])

    def export(self, live: Mapping[str, Any], names: EnvNames) -> ExportPart:
        hostname: str | None = live[self.name]
        return ExportPart(data={"hostname": text(hostname)} if hostname else {})

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> None:
        for change in changes:
            for fc in change.fields:
                ctx.client.server_hostname_set(ctx.value(change, fc))
