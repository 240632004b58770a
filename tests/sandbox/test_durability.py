"""Acknowledged writes survive `kill -9`, as on a real server; the CLI sets the options."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import requests

from reconciler.sandbox import Sandbox
from reconciler.sandbox.store import STATE_FILE
from tests.sandbox.conftest import TOKEN, Api, make_config

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def cli_sandbox(*options: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`shcfg sandbox --port 0 OPTIONS` in a subprocess; yields its API base URL and the
    process, whose first stderr lines are the start-up log."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "--port", "0", *options],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "SIMPLEHELP_API_TOKEN": TOKEN},
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        found = re.search(r"serving (\S+)", first)
        assert found is not None, first + proc.stderr.read()
        yield f"{found.group(1)}/api/v1/{TOKEN}/", proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    """Several writes in a row, SIGKILL right after the last is acknowledged: a
    write-behind sandbox loses the last ones (its writer sleeps between two files)."""
    data = str(tmp_path / "data")
    with cli_sandbox("--data-dir", data) as (api, proc):
        with requests.Session() as session:
            for i in range(5):
                resp = session.post(f"{api}server/hostname/set", json={"hostname": f"h{i}"})
                assert resp.json() == {"success": True}
            resp = session.post(f"{api}groups/new", json={"group": {"name": "Acked"}})
            assert resp.status_code == 200
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    with cli_sandbox("--data-dir", data) as (api, _):
        assert requests.get(f"{api}server/hostname/get", timeout=10).json() == "h4"
        groups = requests.get(f"{api}groups/list", timeout=10).json()
        assert [g["name"] for g in groups] == ["Acked"]


def test_state_is_on_disk_when_the_write_is_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Sandbox(make_config(data_dir=data)) as sb:
        api = Api(sb)
        for i in range(3):
            api.ok("server/hostname/set", {"hostname": f"d{i}"})
            assert json.loads((data / STATE_FILE).read_text())["hostname"] == f"d{i}"
    assert sorted(p.name for p in data.iterdir()) == [STATE_FILE]


def test_write_behind_still_writes_on_close(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Sandbox(make_config(data_dir=data, durable=False)) as sb:
        for i in range(3):
            Api(sb).ok("server/hostname/set", {"hostname": f"w{i}"})
    assert json.loads((data / STATE_FILE).read_text())["hostname"] == "w2"


def test_cli_options_reach_the_sandbox_and_are_logged(tmp_path: Path) -> None:
    options = ["--readings", "all", "--auth-status", "401", "--no-durable"]
    with cli_sandbox(*options, "--data-dir", str(tmp_path)) as (api, proc):
        assert proc.stderr is not None
        knobs, readings = proc.stderr.readline(), proc.stderr.readline()
        assert "durable=False" in knobs
        assert readings.split(" ", 2)[2].strip() == (
            "sandbox readings: refuse_bodyless_post=True write_answer=empty "
            "text_strings=True absent_status=400 auth_status=401 "
            "backup_query=server/configuration/backup"
        )
        assert requests.post(f"{api}server/hostname/get", timeout=10).status_code == 400
        resp = requests.get(f"{api}server/hostname/get", timeout=10)
        assert resp.headers["Content-Type"].startswith("text/plain")
        wrong = api.replace(TOKEN, "wrong")
        assert requests.get(f"{wrong}alerts/list", timeout=10).status_code == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert TOKEN not in knobs + readings + proc.stderr.read()


def test_concurrent_acknowledged_writes_are_each_on_disk(tmp_path: Path) -> None:
    """Writers that share one file write (group commit) are each acknowledged only once
    a file holding their write has replaced state.json."""
    data = tmp_path / "data"
    with Sandbox(make_config(data_dir=data)) as sb:

        def create(worker: int) -> None:
            api = Api(sb)
            for i in range(5):
                name = f"g{worker}-{i}"
                api.ok("groups/new", {"group": {"name": name}})
                state = json.loads((data / STATE_FILE).read_text())
                assert name in {g["obj"]["name"] for g in state["groups"]}

        with ThreadPoolExecutor(6) as pool:
            list(pool.map(create, range(6)))
        assert len(sb.snapshot()["groups"]) == 2 + 30


def test_a_write_that_cannot_be_persisted_is_not_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Sandbox(make_config(data_dir=data)) as sb:
        (data / STATE_FILE).unlink()
        (data / STATE_FILE).mkdir()
        (data / STATE_FILE / "blocker").write_text("x")
        resp = Api(sb).call("server/hostname/set", {"hostname": "lost"})
        assert resp.status_code == 500
        assert resp.json()["reason"].startswith("cannot persist state")
        assert not [p for p in data.iterdir() if p.name.endswith(".tmp")]
        (data / STATE_FILE / "blocker").unlink()
        (data / STATE_FILE).rmdir()
