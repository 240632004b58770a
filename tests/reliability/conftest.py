"""Reliability fixtures: sandboxes built per test (seeds, faults, TLS) and the in-process CLI."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox import Sandbox, SandboxConfig
from reconciler.sandbox.faults import Fault
from tests.e2e.conftest import TOKEN, Shcfg

MakeShcfg = Callable[..., Shcfg]


class ScriptedFaults:
    """Stands in for the sandbox's FaultInjector: the Nth write gets the Nth scripted fault."""

    def __init__(self, writes: list[Fault | None]) -> None:
        self.fail_rate = 1.0
        self._writes = list(writes)
        self._lock = threading.Lock()

    def draw(self, write: bool) -> Fault | None:
        with self._lock:
            if not write or not self._writes:
                return None
            return self._writes.pop(0)


@pytest.fixture
def make_shcfg(tmp_path: Path) -> Iterator[MakeShcfg]:
    """Start a sandbox with the given config fields; return a CLI runner bound to it."""
    with contextlib.ExitStack() as stack:
        count = 0

        def make(**config: Any) -> Shcfg:
            nonlocal count
            count += 1
            server = stack.enter_context(Sandbox(SandboxConfig(token=TOKEN, **config)))
            work = tmp_path / f"work{count}"
            work.mkdir()
            return Shcfg(server, work)

        yield make
