"""Unit tests of the kinds' diffs on constructed live state: no HTTP, no sandbox."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.kinds import REGISTRY
from reconciler.kinds.contexts import KindPlan, PlanContext
from reconciler.kinds.groups import LiveGroups
from reconciler.manifest import LoadedManifest, load_manifests
from reconciler.sandbox import Sandbox, SandboxConfig
from tests.e2e.conftest import TOKEN, Shcfg

Load = Callable[..., LoadedManifest]


@pytest.fixture
def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Load:
    """Load a manifest given as data (JSON is YAML), with environment variables set."""
    count = 0

    def _load(data: dict[str, Any], **env: str) -> LoadedManifest:
        nonlocal count
        count += 1
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        path = tmp_path / f"m{count}.yaml"
        path.write_text(json.dumps({"version": 1, **data}), encoding="utf-8")
        return load_manifests([path])

    return _load


def empty_live(**parts: Any) -> dict[str, Any]:
    """Live state of a server with nothing on it, with `parts` replacing kinds' states."""
    live: dict[str, Any] = {
        "groups": LiveGroups({}),
        "technicians": {},
        "server": None,
        "techRestrictions": None,
        "machines": {},
        "machineGroups": {},
    }
    return {**live, **parts}


def plan_of(
    kind: str, manifest: LoadedManifest, live: dict[str, Any], *, rotate: bool = False
) -> KindPlan:
    """One kind's plan, as make_plan would get it."""
    ctx = PlanContext(manifest=manifest, live=live, rotate_secrets=rotate)
    return REGISTRY[kind].plan(ctx)


def group(name: str, unique_id: int, **attrs: Any) -> dict[str, Any]:
    """A live group as groups/list answers it."""
    return {"name": name, "uniqueID": unique_id, **attrs}


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], Shcfg]]:
    """A factory: a sandbox with the given seed, and the CLI pointed at it (e2e tests)."""
    with contextlib.ExitStack() as stack:
        count = 0

        def make(seed: dict[str, Any]) -> Shcfg:
            nonlocal count
            count += 1
            server = stack.enter_context(Sandbox(SandboxConfig(token=TOKEN, seed=seed)))
            work = tmp_path / f"work{count}"
            work.mkdir()
            return Shcfg(server, work)

        yield make
