"""Export's promise at bench scale: 2,000 technicians and 10,000 machines plan back as no
changes (a file that size once tripped the alias-expansion guard)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.scenario import Size, seed
from tests.e2e.conftest import Shcfg

BENCH = Size()


def test_export_of_a_bench_size_server_plans_back_as_no_changes(
    shcfg_seeded: Callable[[dict[str, Any]], Shcfg],
) -> None:
    shcfg = shcfg_seeded(seed(BENCH))
    exported = shcfg("export", "--out", "exported", "--concurrency", "16")
    assert exported.exit_code == 0, exported.output
    out = shcfg.workdir / "exported"
    technicians = (out / "technicians.yaml").read_text(encoding="utf-8")
    assert technicians.count("username: tech-") == BENCH.technicians
    machines = (out / "machines.yaml").read_text(encoding="utf-8")
    assert machines.count("machineID: SG_") == BENCH.machines
    assert len(machines) > 1_000_000
    shcfg.sandbox.reset_calls()
    planned = shcfg("plan", str(out), "--detailed-exitcode", "--concurrency", "16")
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout
    assert shcfg.writes() == []
