"""The read pool: urgent jobs run before queued ordinary ones; failures reach the caller."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from reconciler.kinds.base import Pool


def test_urgent_jobs_run_before_queued_ordinary_ones() -> None:
    pool = Pool(1)
    gate = threading.Event()
    order: list[str] = []
    try:
        blocker = pool.submit(gate.wait)  # holds the only worker while the others queue
        ordinary = [pool.submit(lambda n=n: order.append(f"ordinary-{n}")) for n in range(2)]
        urgent = pool.submit(lambda: order.append("urgent"), urgent=True)
        gate.set()
        for future in (blocker, *ordinary, urgent):
            future.result(timeout=10)
    finally:
        pool.close()
    assert order == ["urgent", "ordinary-0", "ordinary-1"]


def test_map_keeps_order_and_raises_the_first_failure() -> None:
    pool = Pool(4)
    try:
        assert pool.map(lambda n: n * n, range(10)) == [n * n for n in range(10)]

        def fail_on_three(n: int) -> int:
            if n == 3:
                raise ValueError("three")
            return n

        with pytest.raises(ValueError, match="three"):
            pool.map(fail_on_three, range(6), urgent=True)
    finally:
        pool.close()


def test_after_close_no_job_is_left_pending() -> None:
    """Whether a queued job ran or was cancelled, nobody waiting on it hangs."""
    pool = Pool(1)
    gate = threading.Event()
    blocker = pool.submit(gate.wait)
    queued = [pool.submit(lambda: "ran") for _ in range(3)]
    closer = threading.Thread(target=pool.close)
    closer.start()
    gate.set()
    closer.join(timeout=10)
    assert not closer.is_alive()
    assert blocker.result(timeout=10) is True
    assert all(future.done() for future in queued)


def test_a_pool_left_open_lets_its_running_job_finish_and_the_process_exit() -> None:
    """An error path that never closes a pool must not hang the exit, nor cut short a
    request already on the wire."""
    script = (
        "import sys, time\n"
        "from reconciler.kinds.base import Pool\n"
        "pool = Pool(2)\n"
        "def job():\n"
        "    time.sleep(0.3)\n"
        "    print('finished', flush=True)\n"
        "pool.submit(job)\n"
        "time.sleep(0.05)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "finished"
