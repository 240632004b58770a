"""Exact request counts of a small plan and apply: no N+1, no read repeated in a run.

The figures are the per-kind minimums of docs/performance.md, worked out by hand for
this manifest. They do not depend on --concurrency, so both 1 and 8 must give them.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.client.api import SimpleHelpClient
from reconciler.manifest import load_manifests
from reconciler.reconcile import read_live
from reconciler.sandbox import Sandbox, SandboxConfig

TOKEN = "count-token-5e21b"
PATHS = (["Europe", "London"], ["Europe", "Paris"])

SEED: dict[str, Any] = {
    "hostname": "support.example.com",
    "techRestrictions": ["10\\.0\\..*"],
    "groups": [
        {"name": "Helpdesk", "permissions": {"canRunTools": True}},
        {"name": "Admins", "permissions": {"canManageTechnicians": True}},
        {"name": "Contractors"},
    ],
    "technicians": [
        {"username": f"tech{i}", "displayName": f"Tech {i}", "groups": ["Helpdesk"]}
        for i in range(5)
    ],
    "machines": [
        {"machineID": f"SG_{i}", "groups": PATHS[i % 2], "notes": f"pc {i}"} for i in range(4)
    ],
    "machineGroups": [
        {"path": PATHS[0], "properties": {"site": "LON", "floor": "2"}},
        {"path": PATHS[1], "properties": {"site": "PAR"}},
    ],
}

SAME = (
    """\
version: 1
server:
  hostname: support.example.com
  techRestrictions: ['10\\.0\\..*']
groups:
  - name: Helpdesk
    permissions: {canRunTools: true}
  - name: Admins
    permissions: {canManageTechnicians: true}
  - name: Contractors
technicians:
"""
    + "".join(
        f"  - {{username: tech{i}, displayName: Tech {i}, groups: [Helpdesk]}}\n" for i in range(5)
    )
    + """\
machines:
"""
    + "".join(f"  - {{machineID: SG_{i}, notes: pc {i}}}\n" for i in range(4))
    + """\
machineGroups:
  - path: [Europe, London]
    properties: {site: LON, floor: '2'}
  - path: [Europe, Paris]
    properties: {site: PAR}
"""
)

# Plan reads: one list per kind, permissions per declared group that has them, machine
# reads batched, machine-group keys per group plus one per declared key present.
PLAN_READS = {
    "technicians/list": 1,
    "groups/list": 1,
    "groups/permissions/get": 2,
    "server/hostname/get": 1,
    "server/tech-restrictions/get": 1,
    "machines/list": 1,
    "machines/notes/get": 1,
    "machines/properties/get": 1,
    "machinegroups/properties/get": 2 + 3,
}

CHANGED = (
    SAME.replace(
        "  - name: Contractors\n", "  - name: Night\n    permissions: {canUseChat: true}\n"
    )
    .replace("displayName: Tech 1,", "displayName: Tech One,")
    .replace(
        "{username: tech4, displayName: Tech 4, groups: [Helpdesk]}",
        "{username: new1, groups: [Night]}",
    )
    .replace("SG_0, notes: pc 0}", "SG_0, notes: pc zero, monitoring: true}")
    .replace("SG_1, notes: pc 1}", "SG_1, notes: pc 1, monitoring: true, properties: {a: b}}")
    .replace("site: PAR", "site: PARIS")
    .replace(
        "techRestrictions: ['10\\.0\\..*']", "techRestrictions: ['10\\.0\\..*', '10\\.1\\..*']"
    )
    + "prune: {technicians: true, groups: true}\n"
)

# Apply of CHANGED: the plan's reads, the backup, then one write per change (creates read
# the new object back by name: the API returns no uniqueID).
APPLY = {
    **PLAN_READS,
    "support/sessions/list": 1,  # a technician is deleted: is it in a live session?
    "access/sessions/list": 1,
    "server/backup": 1,
    "groups/new": 1,
    "groups/get": 1,
    "groups/permissions/set": 1,
    "groups/remove": 1,
    "technicians/set": 1,
    "technicians/new": 1,
    "technicians/get": 1,
    "technicians/remove": 1,
    "server/tech-restrictions/new": 1,
    "machines/set": 1,  # both machines' monitoring in one batch
    "machines/notes/set": 1,
    "machines/properties/set": 1,
    "machinegroups/properties/set": 1,
}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(token=TOKEN, seed=SEED)) as server:
        yield server


def _run(sandbox: Sandbox, tmp_path: Path, text: str, *args: str) -> Counter[str]:
    path = tmp_path / "manifest.yaml"
    path.write_text(text, encoding="utf-8")
    sandbox.reset_calls()
    env = {"SIMPLEHELP_URL": sandbox.url, "SIMPLEHELP_API_TOKEN": TOKEN}
    with contextlib.chdir(tmp_path):
        result = CliRunner().invoke(cli, [*args, str(path)], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return Counter(c.query for c in sandbox.calls)


@pytest.mark.parametrize("concurrency", ["1", "8"])
def test_no_change_plan_makes_the_minimum_reads(
    sandbox: Sandbox, tmp_path: Path, concurrency: str
) -> None:
    counts = _run(sandbox, tmp_path, SAME, "plan", "--concurrency", concurrency)
    assert counts == PLAN_READS


def test_changed_plan_reads_the_same_and_writes_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    counts = _run(sandbox, tmp_path, CHANGED, "plan")
    assert counts == {**PLAN_READS, "support/sessions/list": 1, "access/sessions/list": 1}


@pytest.mark.parametrize("concurrency", ["1", "8"])
def test_apply_makes_one_write_per_change_in_dependency_order(
    sandbox: Sandbox, tmp_path: Path, concurrency: str
) -> None:
    counts = _run(
        sandbox, tmp_path, CHANGED, "apply", "--auto-approve", "--concurrency", concurrency
    )
    assert counts == APPLY
    writes = [c.query for c in sandbox.calls if c.write]
    assert writes[0] == "server/backup"
    assert writes.index("groups/permissions/set") < writes.index("technicians/new")
    assert set(writes[-2:]) == {"technicians/remove", "groups/remove"}
    assert writes.index("technicians/remove") < writes.index("groups/remove")
    assert _run(sandbox, tmp_path, CHANGED, "plan", "--detailed-exitcode") == {
        **PLAN_READS,
        "groups/permissions/get": 3,  # Night now exists too
        # prune.technicians may delete one: sessions are read with live state, not after
        "support/sessions/list": 1,
        "access/sessions/list": 1,
    }


def test_requests_in_flight_never_exceed_the_pool_size(sandbox: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(SAME, encoding="utf-8")
    client = SimpleHelpClient(sandbox.url, TOKEN, pool_size=2)
    transport_exchange = client._transport.exchange
    lock = threading.Lock()
    in_flight = [0, 0]  # now, highest

    def counting_exchange(*args: Any, **kwargs: Any) -> Any:
        with lock:
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
        try:
            return transport_exchange(*args, **kwargs)
        finally:
            with lock:
                in_flight[0] -= 1

    client._transport.exchange = counting_exchange  # type: ignore[method-assign]
    with client:
        read_live(client, load_manifests([path]), concurrency=16)
    assert client.request_count == sum(PLAN_READS.values())
    assert 1 <= in_flight[1] <= 2


def test_a_slot_is_free_while_an_answer_is_validated(sandbox: Sandbox) -> None:
    """With one slot, a second request completes while the first answer is still being
    validated: the slot covers the round trip only."""
    client = SimpleHelpClient(sandbox.url, TOKEN, pool_size=1)
    transport_decode = client._transport.decode
    validating = threading.Event()
    other_done = threading.Event()

    def slow_decode(*args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name == "first":
            validating.set()
            assert other_done.wait(10)
        return transport_decode(*args, **kwargs)

    client._transport.decode = slow_decode  # type: ignore[method-assign]
    results: list[Any] = []
    with client:
        first = threading.Thread(
            target=lambda: results.append(client.server_tech_restrictions_get()), name="first"
        )
        first.start()
        assert validating.wait(10)
        hostname = client.server_hostname_get()
        other_done.set()
        first.join(10)
    assert isinstance(hostname, str)
    assert len(results) == 1
