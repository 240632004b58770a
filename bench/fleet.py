"""`make bench`'s fleet scenario: ten servers planned together, against the slowest alone.

Ten sandboxes (each its own process, `--latency-ms 10`, seeded with examples/seed.yaml)
serve the example organisation (examples/org) through one shcfg.yaml with ten servers.
Each server is planned alone (`shcfg plan --server NAME`, one process each, one after
the other), then all ten together (`shcfg plan --parallel-servers N`). Every timing is a
whole `shcfg` process, start-up included, so the two are measured alike; the median of
`--repeat` runs is reported. The target: the fleet's wall within 2x the slowest single
server's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.run import ROOT, Server

SECRETS = {"HELPDESK_GROUP_PASSWORD": "bench-helpdesk-pw-1", "ALICE_PASSWORD": "bench-alice-pw-1"}


def project_file(directory: Path, servers: dict[str, Server]) -> Path:
    """shcfg.yaml naming the example organisation and every sandbox."""
    lines = [f"manifests: [{ROOT / 'examples' / 'org'}]", "servers:"]
    for name, server in servers.items():
        lines += [f"  {name}:", f"    url: {server.url}", f"    tokenEnv: TOKEN_{name.upper()}"]
    path = directory / "shcfg.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def timed_plan(directory: Path, env: dict[str, str], *args: str) -> float:
    """Wall seconds of one `shcfg plan` process; it must succeed (exit 0 or 2)."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "--detailed-exitcode", *args],
        cwd=directory,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 2):
        raise SystemExit(f"shcfg plan {' '.join(args)} failed: {proc.stderr.decode()[-400:]}")
    return wall


def measure(count: int, latency_ms: float, parallel: int, repeat: int) -> dict[str, Any]:
    """Start the sandboxes, plan each alone and all together; the medians and their ratio."""
    seed = ROOT / "examples" / "seed.yaml"
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        servers = {f"s{i:02d}": Server(seed, latency_ms) for i in range(count)}
        for server in servers.values():
            server.start()
            stack.callback(server.stop)
        directory = Path(tmp)
        project_file(directory, servers)
        env = {**os.environ, **SECRETS}
        env.update({f"TOKEN_{n.upper()}": s.token for n, s in servers.items()})
        singles = {
            name: statistics.median(
                timed_plan(directory, env, "--server", name) for _ in range(repeat)
            )
            for name in servers
        }
        fleet = [
            timed_plan(directory, env, "--parallel-servers", str(parallel)) for _ in range(repeat)
        ]
    slowest = max(singles.values())
    together = statistics.median(fleet)
    return {
        "servers": count,
        "latency_ms": latency_ms,
        "parallel_servers": parallel,
        "repeat": repeat,
        "single_walls": singles,
        "slowest_single_wall": slowest,
        "fleet_walls": fleet,
        "fleet_wall": together,
        "ratio": together / slowest,
    }


def render(result: dict[str, Any]) -> str:
    """One table row, as docs/performance.md shows it."""
    return (
        "| servers | parallel | fleet wall s, median (runs) | slowest single s | ratio |\n"
        "| ---: | ---: | ---: | ---: | ---: |\n"
        f"| {result['servers']} | {result['parallel_servers']} | {result['fleet_wall']:.2f} "
        f"({', '.join(f'{w:.2f}' for w in result['fleet_walls'])}) | "
        f"{result['slowest_single_wall']:.2f} | {result['ratio']:.2f}x |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=10.0)
    parser.add_argument("--parallel-servers", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="Also write the figures here.")
    args = parser.parse_args()
    result = measure(args.servers, args.latency_ms, args.parallel_servers, args.repeat)
    print(render(result))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
