"""Ctrl-C ends the run promptly even when the server never finishes answering.

Before any write (reading, planning, the prompt) the first Ctrl-C leaves at once; during
apply the first one lets the requests in flight finish and a second one leaves at once.
The bounds below are generous limits on a hang, not timings: without the fix each run
waits for the whole `--timeout` (60 s) of the request it is stuck in.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.sandbox.faults import Fault
from tests.e2e.conftest import TOKEN
from tests.reliability.conftest import MakeShcfg, ScriptedFaults
from tests.reliability.test_interrupt import MANIFEST, SECRETS, SEED

HANG_LIMIT_S = 15


@pytest.fixture
def dripping_server() -> Iterator[tuple[str, threading.Event]]:
    """Answers every request with headers, then one byte every 0.2 s, never finishing;
    the event is set once a request has arrived (the run is stuck in a read)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop, asked = threading.Event(), threading.Event()

    def drip(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                asked.set()
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000000\r\n\r\n["
                )
                while not stop.wait(0.2):
                    conn.sendall(b" ")
            except OSError:
                return

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", asked
    stop.set()
    listener.close()


def _start(args: list[str], url: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, **SECRETS, "SIMPLEHELP_URL": url, "SIMPLEHELP_API_TOKEN": TOKEN}
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until(predicate: object, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + HANG_LIMIT_S
    while time.monotonic() < deadline and proc.poll() is None:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise AssertionError("the run never reached the point to interrupt")


def test_ctrl_c_during_a_hanging_read_leaves_at_once(
    dripping_server: tuple[str, threading.Event], tmp_path: Path
) -> None:
    url, asked = dripping_server
    manifest = tmp_path / "m.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    proc = _start(["plan", str(manifest), "--timeout", "60"], url, tmp_path)
    # Not a fixed sleep: on a loaded machine the interpreter may still be importing.
    _wait_until(asked.is_set, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=HANG_LIMIT_S)
    assert proc.returncode == 130, stdout + stderr
    assert stderr.strip().splitlines()[-1] == "Interrupted."
    assert "Traceback" not in stderr


def test_a_second_ctrl_c_during_a_hanging_write_leaves_at_once(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg(seed=SEED, fault_timeout_s=60)
    # Every write hangs for a minute before the sandbox gives up on it.
    shcfg.sandbox.faults = ScriptedFaults([Fault("timeout")] * 50)  # type: ignore[assignment]
    manifest = shcfg.manifest(MANIFEST)
    proc = _start(
        ["apply", str(manifest), "--auto-approve", "--no-backup", "--timeout", "60"],
        shcfg.sandbox.url,
        shcfg.workdir,
    )
    journal = shcfg.workdir / ".shcfg" / "journal.jsonl"
    _wait_until(lambda: journal.exists() and '"intent"' in journal.read_text(), proc)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None, "the first Ctrl-C lets the requests in flight finish"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=HANG_LIMIT_S)
    assert proc.returncode == 130, stdout + stderr
    assert "Interrupted: finishing the requests in flight, then stopping." in stderr
    assert "Interrupted again: leaving now" in stderr
    assert "Traceback" not in stderr
    for secret in SECRETS.values():
        assert secret not in stdout + stderr
