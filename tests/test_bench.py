"""The benchmark's bookkeeping (its timings are never asserted: they are measured)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.fleet import project_file
from bench.fleet import render as fleet_render
from bench.floor import read_floor
from bench.run import Server, median_run, render, split_cpus
from reconciler.kinds.groups import LiveGroups
from reconciler.manifest import load_manifests
from reconciler.project import load_project


def _run(wall: float, **extra: Any) -> dict[str, Any]:
    return {"phases": {"network_wall": wall}, **extra}


def test_the_median_run_is_reported_with_every_wall() -> None:
    tries = [_run(0.9, tag="slow"), _run(0.5, tag="fast"), _run(0.6, tag="middle")]
    run = median_run(tries)
    assert run["tag"] == "middle"
    assert run["network_walls"] == [0.5, 0.6, 0.9]


def test_an_even_count_reports_the_lower_middle_run() -> None:
    run = median_run([_run(0.4, tag="a"), _run(0.7, tag="b"), _run(0.5, tag="c"), _run(0.6)])
    assert run["tag"] == "c"


def test_the_sandbox_gets_the_last_cpu_only_when_there_are_two() -> None:
    server, clients = split_cpus(pin=True)
    if server is None:
        assert clients is None
    else:
        assert len(server) == 1 and max(server) > max(clients or {-1})
        assert not server & (clients or set())
    assert split_cpus(pin=False) == (None, None)


def test_the_table_shows_median_range_and_ratio() -> None:
    run = {
        "scenario": "plan, no change",
        "concurrency": 16,
        "requests": 625,
        "floor_requests": 625,
        "network_wall": 0.6,
        "network_walls": [0.55, 0.6, 0.7],
        "floor_wall": 0.4,
        "wall_ratio": 1.5,
        "process_wall": 1.6,
        "phases": {"load_wall": 0.6, "diff_cpu": 0.03},
        "client_cpu": 1.3,
        "peak_rss_mb": 123.0,
        "server_cpu_per_request_ms": 0.27,
        "extra_requests": {},
    }
    serial = {**run, "concurrency": 1, "network_wall": 6.0, "network_walls": [6.0]}
    table = render({"runs": [run, serial]})
    row = next(line for line in table.splitlines() if "| 16 |" in line)
    assert "| 3 | 625 (625) | 0.60 (0.40, 1.50x) | 0.55-0.70 | 10.0x |" in row


def test_the_fleet_project_names_every_server_and_the_row_shows_the_ratio(
    tmp_path: Path,
) -> None:
    servers = {name: Server(tmp_path / "seed.yaml", 10.0) for name in ("s00", "s01")}
    for index, server in enumerate(servers.values()):
        server.url = f"http://127.0.0.1:{9000 + index}"
    project = load_project(project_file(tmp_path, servers))
    assert list(project.model.servers) == ["s00", "s01"]
    assert project.model.servers["s01"].url == "http://127.0.0.1:9001"
    assert project.model.servers["s00"].tokenEnv == "TOKEN_S00"
    row = fleet_render(
        {
            "servers": 2,
            "parallel_servers": 2,
            "fleet_wall": 0.6,
            "fleet_walls": [0.6, 0.7],
            "slowest_single_wall": 0.5,
            "ratio": 1.2,
        }
    ).splitlines()[-1]
    assert row == "| 2 | 2 | 0.60 (0.60, 0.70) | 0.50 | 1.20x |"


def test_the_floor_counts_the_sessions_when_a_technician_may_be_stopped(tmp_path: Path) -> None:
    """The safety check reads both session lists when a plan can delete or disable a
    technician: part of the minimum then, not otherwise."""
    live: dict[str, Any] = {"groups": LiveGroups({}), "machines": {}, "machineGroups": {}}
    path = tmp_path / "manifest.yaml"
    path.write_text("version: 1\ntechnicians:\n  - username: alice\n", encoding="utf-8")
    assert "support/sessions/list" not in read_floor(load_manifests([path]), live)
    for stops in (
        "prune:\n  technicians: true\n",
        "technicians:\n  - {username: a, enabled: false}\n",
    ):
        path.write_text("version: 1\n" + stops, encoding="utf-8")
        floor = read_floor(load_manifests([path]), live)
        assert floor["support/sessions/list"] == floor["access/sessions/list"] == 1, stops
