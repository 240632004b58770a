"""The README's tour runs as written, against the sandbox it starts itself."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tour_script() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A tour", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the tour is one sh block"
    return blocks[0]


def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    script = tour_script()
    assert "kill %1" in script, "the tour stops the sandbox it started"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLEHELP_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(tmp_path)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "set -m\n" + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "No changes" in done.stdout
    assert "tour-token-0123456789" not in done.stdout + done.stderr


def test_the_real_server_start_is_read_only_and_plans_no_changes(tmp_path: Path) -> None:
    """The "Your own server" block, against a sandbox standing in for the real server:
    it never writes, and the project it makes plans as no changes."""
    from reconciler.sandbox import Sandbox, SandboxConfig

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Your own server", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    commands = [line for line in block.splitlines() if not line.startswith("export ")]
    token = "readme-token-0123456789"
    seed = ROOT / "examples" / "seed.yaml"
    with Sandbox(SandboxConfig(token=token, seed=seed)) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLEHELP_")}
        env.update(SIMPLEHELP_URL=server.url, SIMPLEHELP_API_TOKEN=token, HOME=str(tmp_path))
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", "\n".join(commands)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        writes = [call.query for call in server.calls if call.write]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "No changes" in done.stdout
    assert (tmp_path / "support-config" / "shcfg.yaml").is_file()
    assert writes == []
