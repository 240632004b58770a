"""`make bench`: plan and apply at scale against a sandbox with network latency.

The sandbox and every client run are separate processes, so the client's CPU time and
peak memory (from wait4's rusage) are its own. Requests are counted by the sandbox.
With two CPUs or more the sandbox gets one of its own and the clients the others, so
the figures are the client's, not the two processes' fight for a core. Each scenario runs
`--repeat` times at `--concurrency` (the median run is reported, with the range) and
once at concurrency 1. Prints a table (measured, floor, ratio) and writes the figures
to a JSON file.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.scenario import Size, manifests, seed

ROOT = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")


def split_cpus(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """CPUs for the sandbox and for the clients: the last one and the rest, or no pinning."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return None, None
    return {cpus[-1]}, set(cpus[:-1])


@dataclass
class Server:
    """The sandbox in a subprocess, seeded fresh on every start."""

    seed_file: Path
    latency_ms: float
    cpus: set[int] | None = None
    token: str = field(default_factory=lambda: secrets.token_hex(12))
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""

    def start(self) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        cmd = [sys.executable, "-m", "reconciler", "sandbox", "--port", str(port)]
        cmd += ["--seed", str(self.seed_file), "--latency-ms", str(self.latency_ms)]
        env = {**os.environ, "SIMPLEHELP_API_TOKEN": self.token}
        self.proc = subprocess.Popen(
            cmd, env=env, stderr=subprocess.DEVNULL, preexec_fn=_pin(self.cpus)
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                self.admin("GET", "calls")
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("the sandbox did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None

    def admin(self, method: str, name: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}/_sandbox/{name}", method=method, headers={"X-Sandbox-Token": self.token}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def cpu_seconds(self) -> float:
        """User + system CPU of the sandbox process so far."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS


def _pin(cpus: set[int] | None) -> Callable[[], None] | None:
    """A preexec_fn that confines the child to ``cpus`` (threads it starts inherit it)."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_client(
    server: Server, path: Path, mode: str, concurrency: int, cpus: set[int] | None
) -> dict[str, Any]:
    """One client process; its rusage and the sandbox's request log for it."""
    server.admin("POST", "reset-calls")
    cpu_before = server.cpu_seconds()
    cmd = [sys.executable, "-m", "bench.client", str(path), "--url", server.url]
    cmd += ["--mode", mode, "--concurrency", str(concurrency)]
    env = {**os.environ, "SIMPLEHELP_API_TOKEN": server.token}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, preexec_fn=_pin(cpus))
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench client failed ({mode}, concurrency {concurrency})")
    result: dict[str, Any] = json.loads(output)
    calls = server.admin("GET", "calls")
    result.update(
        mode=mode,
        concurrency=concurrency,
        process_wall=wall,
        client_cpu=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        requests=dict(sorted(Counter(c["query"] for c in calls).items())),
        server_cpu=server.cpu_seconds() - cpu_before,
    )
    return result


def _summarise(run: dict[str, Any], latency_ms: float) -> dict[str, Any]:
    requests = sum(run["requests"].values())
    floor_requests = sum(run["floor"].values())
    floor_time = floor_requests * latency_ms / 1000 / run["concurrency"]
    network = run["phases"]["network_wall"]
    return {
        "requests": requests,
        "floor_requests": floor_requests,
        "extra_requests": {
            q: n - run["floor"].get(q, 0)
            for q, n in run["requests"].items()
            if n != run["floor"].get(q, 0)
        },
        "network_wall": network,
        "floor_wall": floor_time,
        "wall_ratio": network / floor_time if floor_time else None,
        "server_cpu_per_request_ms": 1000 * run["server_cpu"] / max(requests, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply every count.")
    parser.add_argument("--latency-ms", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=5, help="Runs per scenario at --concurrency.")
    parser.add_argument("--no-pin", action="store_true", help="Let both processes share CPUs.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results.json")
    args = parser.parse_args()
    base = Size()
    scaled = ("technicians", "groups", "machines", "machine_groups", "restrictions")
    size = Size(**{k: max(1, round(getattr(base, k) * args.scale)) for k in scaled})
    server_cpus, client_cpus = split_cpus(not args.no_pin)
    with tempfile.TemporaryDirectory(prefix="shcfg-bench-") as tmp:
        work = Path(tmp)
        seed_file = work / "seed.json"
        seed_file.write_text(json.dumps(seed(size)), encoding="utf-8")
        same = manifests(size, work / "same")
        changed = manifests(size, work / "changed", changed=True)
        server = Server(seed_file, args.latency_ms, server_cpus)
        runs: list[dict[str, Any]] = []
        scenarios = [
            ("plan, no change", same, "plan"),
            ("plan, 1% changed", changed, "plan"),
            ("apply, 1% changed", changed, "apply"),
        ]
        try:
            for name, path, mode in scenarios:
                for concurrency, repeat in ((args.concurrency, max(1, args.repeat)), (1, 1)):
                    tries = []
                    for _ in range(repeat):
                        if server.proc is None:
                            server.start()
                        tries.append(run_client(server, path, mode, concurrency, client_cpus))
                        if mode == "apply":
                            server.stop()  # the next apply starts from the seed again
                    run = median_run(tries)
                    run["scenario"] = name
                    run.update(_summarise(run, args.latency_ms))
                    runs.append(run)
                    print(f"  done: {name}, concurrency {concurrency}", file=sys.stderr)
        finally:
            server.stop()
    report = {
        "size": size.__dict__,
        "latency_ms": args.latency_ms,
        "cpus": {"sandbox": sorted(server_cpus or []), "client": sorted(client_cpus or [])},
        "runs": runs,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(render(report))
    print(f"\nwrote {args.out}")


def median_run(tries: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median network wall (the lower middle one for an even count),
    carrying every run's network wall for the range."""
    walls = sorted(t["phases"]["network_wall"] for t in tries)
    ranked = sorted(tries, key=lambda t: float(t["phases"]["network_wall"]))
    run = dict(ranked[(len(ranked) - 1) // 2])
    run["network_walls"] = walls
    return run


def render(report: dict[str, Any]) -> str:
    """The table for the terminal and for docs/performance.md (markdown)."""
    lines = [
        "| scenario | conc. | runs | requests (floor) | network wall s, median (floor, ratio) | "
        "range s | speed-up vs 1 | end-to-end s | load s | diff CPU s | client CPU s | peak MB | "
        "server CPU/req ms |",
        "| --- |" + " ---: |" * 12,
    ]
    serial = {r["scenario"]: r["network_wall"] for r in report["runs"] if r["concurrency"] == 1}
    for r in report["runs"]:
        speedup = serial.get(r["scenario"], 0) / r["network_wall"] if r["network_wall"] else 0
        walls = r.get("network_walls") or [r["network_wall"]]
        lines.append(
            f"| {r['scenario']} | {r['concurrency']} | {len(walls)} | "
            f"{r['requests']} ({r['floor_requests']}) | "
            f"{r['network_wall']:.2f} ({r['floor_wall']:.2f}, {r['wall_ratio']:.2f}x) | "
            f"{walls[0]:.2f}-{walls[-1]:.2f} | "
            f"{speedup:.1f}x | {r['process_wall']:.1f} | {r['phases']['load_wall']:.1f} | "
            f"{r['phases']['diff_cpu']:.2f} | {r['client_cpu']:.1f} | {r['peak_rss_mb']:.0f} | "
            f"{r['server_cpu_per_request_ms']:.2f} |"
        )
    extra = [f"{r['scenario']} c{r['concurrency']}: {r['extra_requests']}" for r in report["runs"]]
    extra = [e for e, r in zip(extra, report["runs"], strict=True) if r["extra_requests"]]
    if extra:
        lines.append("\nrequests above the floor: " + "; ".join(extra))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
