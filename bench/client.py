"""One benchmark run of the client, meant to run in its own process.

It does what `shcfg plan` / `shcfg apply --auto-approve` do, timing each phase, and
prints one JSON object. The parent measures the process's CPU time and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.floor import read_floor, write_floor
from reconciler.apply import Journal, apply_plan, new_context, run_backup
from reconciler.client.api import SimpleHelpClient
from reconciler.kinds.groups import ids_by_name
from reconciler.manifest import load_manifests
from reconciler.reconcile import make_plan, secret_lookup
from reconciler.safety import Protections, check_plan, facts_of, may_stop_technicians
from reconciler.workflow import read


def run(manifests: Path, url: str, mode: str, concurrency: int) -> dict[str, Any]:
    """Load, read, diff (and apply); wall and CPU seconds of each phase."""
    token = os.environ["SIMPLEHELP_API_TOKEN"]
    phases: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    loaded = load_manifests([manifests])
    t1, c1 = time.perf_counter(), time.process_time()
    client = SimpleHelpClient(url, token, pool_size=concurrency)
    sessions = may_stop_technicians(loaded.model)
    live, active = read(client, loaded, concurrency, sessions=sessions)
    t2, c2 = time.perf_counter(), time.process_time()
    plan = make_plan(loaded, live, server=client.url)
    facts = facts_of(plan, loaded.model, active)
    check_plan(plan, Protections.of(loaded.model), facts, force=False)
    t3, c3 = time.perf_counter(), time.process_time()
    phases.update(
        load_wall=t1 - t0,
        load_cpu=c1 - c0,
        read_wall=t2 - t1,
        read_cpu=c2 - c1,
        diff_wall=t3 - t2,
        diff_cpu=c3 - c2,
    )
    floor = read_floor(loaded, live)
    applied = 0
    if mode == "apply" and plan.has_changes:
        ctx = new_context(client, secret_lookup(loaded), ids_by_name(live), concurrency)
        journal = Journal(None)
        run_backup(client, journal)
        result = apply_plan(plan, ctx, journal=journal, stop=threading.Event())
        ctx.pool.shutdown()
        if not result.ok:
            raise SystemExit(f"apply failed: {result.failed[:1]}")
        applied = len(result.applied)
        floor += write_floor(plan)
        t4 = time.perf_counter()
        phases["apply_wall"] = t4 - t3
        phases["network_wall"] = (t2 - t1) + (t4 - t3)
    else:
        phases["network_wall"] = t2 - t1
    client.close()
    return {
        "phases": phases,
        "changes": len(plan.changes),
        "summary": plan.summary(),
        "applied": applied,
        "client_requests": client.request_count,
        "floor": dict(sorted(floor.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("manifests", type=Path)
    parser.add_argument("--url", required=True)
    parser.add_argument("--mode", choices=("plan", "apply"), default="plan")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    out = run(args.manifests, args.url, args.mode, args.concurrency)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
