"""The diff's cost grows with the work, no faster (issue 15): counted, not timed.

Every Python and builtin call `make_plan` makes is counted for a server of n objects of
each kind and for one of 3n; a per-object scan of a list or a sort inside a loop would
make the count grow by 9x, not 3x. The cyclic collector never runs during a diff.
"""

from __future__ import annotations

import gc
import re
import sys
from types import FrameType
from typing import Any

from reconciler.kinds.groups import LiveGroups
from reconciler.kinds.machines import LiveMachine
from reconciler.manifest import LoadedManifest
from reconciler.reconcile import make_plan
from tests.kinds.conftest import Load


def _server(n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Manifest data and matching live state with n objects of each kind, 10% changed."""
    groups = [
        {"name": f"g{i}", "maxFileSize": i, "permissions": {"canRunTools": True}} for i in range(n)
    ]
    techs = [
        {"username": f"t{i}", "enabled": True, "groups": [f"g{i}", f"g{(i + 1) % n}"]}
        for i in range(n)
    ]
    machines = [
        {"machineID": f"M{i}", "notes": "n", "properties": {"a": "1", "b": str(i)}}
        for i in range(n)
    ]
    machine_groups = [{"path": ["r", f"s{i}"], "properties": {"k": "v"}} for i in range(n)]
    manifest = {
        "server": {"techRestrictions": [f"10\\.{i}\\..*" for i in range(n)]},
        "groups": groups,
        "technicians": techs,
        "machines": machines,
        "machineGroups": machine_groups,
        "prune": {"technicians": True, "groups": True, "machineProperties": True},
    }
    live_groups = LiveGroups(
        {
            f"g{i}": {"name": f"g{i}", "uniqueID": i, "maxFileSize": i + (i % 10 == 0)}
            for i in range(n)
        },
        {i: {"canRunTools": i % 10 != 0, "canUseChat": False} for i in range(n)},
        frozenset({"canRunTools", "canUseChat"}),
    )
    live = {
        "groups": live_groups,
        "technicians": {
            f"t{i}": {
                "username": f"t{i}",
                "uniqueID": 1000 + i,
                "enabled": i % 10 != 0,
                "groupIDs": [(i + 1) % n, i],
            }
            for i in range(n)
        },
        "server": None,
        "techRestrictions": [f"10\\.{i}\\..*" for i in range(n) if i % 10],
        "machines": {
            f"M{i}": LiveMachine(
                None, "n" if i % 10 else "old", "", {"a": "1", "b": str(i), "c": "x"}
            )
            for i in range(n)
        },
        "machineGroups": {f"r/s{i}": {"k": "v" if i % 10 else "w"} for i in range(n)},
    }
    return manifest, live


def _calls(manifest: LoadedManifest, live: dict[str, Any]) -> tuple[int, int]:
    calls = 0

    def count(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    # Patterns an earlier test compiled would be cheap hits in re's cache: start both
    # counts from an empty cache, or the ratio depends on which tests ran before.
    re.purge()
    sys.setprofile(count)
    try:
        plan = make_plan(manifest, live, server="x")
    finally:
        sys.setprofile(None)
    return calls, len(plan.changes)


def test_diff_calls_grow_linearly_with_the_objects(load: Load) -> None:
    small_data, small_live = _server(100)
    large_data, large_live = _server(300)
    small, small_changes = _calls(load(small_data), small_live)
    large, large_changes = _calls(load(large_data), large_live)
    assert large_changes == 3 * small_changes > 0
    assert large < 3.1 * small, (small, large)


def test_the_collector_never_runs_during_a_diff(load: Load) -> None:
    data, live = _server(300)
    manifest = load(data)
    runs: list[str] = []

    def seen(phase: str, info: dict[str, Any]) -> None:
        runs.append(phase)

    gc.callbacks.append(seen)
    try:
        make_plan(manifest, live, server="x")
    finally:
        gc.callbacks.remove(seen)
    assert gc.isenabled()
    assert runs.count("start") <= 1, runs  # at most the one when it is switched back on
