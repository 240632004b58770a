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
