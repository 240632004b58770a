"""`make demo`: the main job against a fresh bundled sandbox, no real server needed.

Starts the sandbox on loopback (seeded with the machines of examples/seed.yaml), then
runs validate, plan, apply and plan again on examples/org to show convergence. Both ship
inside the package (reconciler/demo_data), so the demo also runs from an installed wheel.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from reconciler.sandbox import Sandbox, SandboxConfig

DATA = Path(__file__).resolve().parent / "demo_data"
console = Console(highlight=False)


def shcfg(*args: str, env: dict[str, str]) -> int:
    console.rule(f"[bold]$ shcfg {' '.join(args)}")
    done = subprocess.run([sys.executable, "-m", "reconciler", *args], env=env, check=False)
    console.print(f"[dim](exit code {done.returncode})[/dim]\n")
    return done.returncode


def main() -> int:
    token = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="shcfg-demo-") as tmp:
        config = SandboxConfig(token=token, data_dir=Path(tmp) / "server", seed=DATA / "seed.yaml")
        with Sandbox(config) as server:
            console.print(f"Sandbox running at {server.url} (data in {tmp}/server)\n")
            env = {
                **os.environ,
                "SIMPLEHELP_URL": server.url,
                "SIMPLEHELP_API_TOKEN": token,
                "HELPDESK_GROUP_PASSWORD": secrets.token_urlsafe(12),
                "ALICE_PASSWORD": secrets.token_urlsafe(12),
            }
            org = str(DATA / "org")
            journal = str(Path(tmp) / "journal.jsonl")
            steps = [
                (("validate", org), {0}),
                (("plan", org, "--detailed-exitcode"), {2}),
                (("apply", org, "--auto-approve", "--journal", journal), {0}),
                (("plan", org, "--detailed-exitcode"), {0}),
            ]
            for args, expected in steps:
                if shcfg(*args, env=env) not in expected:
                    console.print(f"[bold red]demo failed at: shcfg {' '.join(args)}")
                    return 1
            console.print(
                f"[bold green]Converged:[/] {server.request_count} API requests served; "
                "the second plan shows no changes."
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
