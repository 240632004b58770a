"""The fleet runner as a library: a stop (Ctrl-C) starts nothing more."""

from __future__ import annotations

import threading

from reconciler.client.api import SimpleHelpClient
from reconciler.fleet import Member, Outcome, apply_fleet
from reconciler.project import ManifestSet
from reconciler.redact import Redactor
from reconciler.workflow import Options, Target
from tests.fleet.conftest import Fleet
from tests.fleet.test_fleet_e2e import SHARED


def _members(fleet: Fleet) -> list[Member]:
    path = fleet.write("manifests/org.yaml", SHARED.replace("${var:hostname}", "h.example"))
    text = path.read_text(encoding="utf-8").replace("${var:site}", "LON")
    path.write_text(text, encoding="utf-8")
    members = []
    for name, server in fleet.servers.items():
        token = fleet.env[f"{name.upper()}_TOKEN"]

        def connect(url: str = server.url, token: str = token) -> SimpleHelpClient:
            return SimpleHelpClient(url, token)

        members.append(
            Member(
                name,
                Target(token, connect),
                ManifestSet((str(path),)),
                Options(),
                fleet.root / f"journal-{name}.jsonl",
            )
        )
    return members


def test_a_stop_before_the_apply_phase_leaves_every_server_untouched(fleet: Fleet) -> None:
    stop = threading.Event()

    def confirm(outcomes: dict[str, Outcome]) -> bool:
        assert all(o.plan is not None and o.plan.has_changes for o in outcomes.values())
        stop.set()  # Ctrl-C while the plans are shown
        return True

    outcomes = apply_fleet(
        _members(fleet),
        Redactor(),
        confirm,
        parallel=3,
        plans=None,
        backup=True,
        fail_fast=False,
        stop=stop,
    )
    assert all(not o.attempted and o.result is None for o in outcomes.values())
    assert all(not [c for c in s.calls if c.write] for s in fleet.servers.values())
