"""End-to-end fixtures: a real sandbox over HTTP and the real CLI."""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.sandbox import READINGS, Sandbox, SandboxConfig

TOKEN = "e2e-token-7c1d9a"
#: Each sandbox reading alone, at each of its non-default values, then every one at once.
READING_CASES = [
    pytest.param({name: value}, id=f"{name}={value}")
    for name, values in READINGS.items()
    for value in values[1:]
] + [pytest.param({"readings": "all"}, id="all")]
# A group and a technician whose passwords come from GROUP_PW and ALICE_PW.
SECRET_MANIFEST = """\
version: 1
server:
  hostname: support.example.com
groups:
  - name: Helpdesk
    permissions: {canRunTools: true}
    password: ${env:GROUP_PW}
technicians:
  - username: alice
    groups: [Helpdesk]
    password: ${env:ALICE_PW}
"""

SEED: dict[str, Any] = {
    "hostname": "old.example.com",
    "machines": [
        {"machineID": "SG_1", "name": "Front desk", "groups": ["United Kingdom", "London"]},
        {"machineID": "SG_2", "name": "Back office", "groups": ["United Kingdom", "London"]},
        {"machineID": "SG_3", "name": "Paris kiosk", "groups": ["France", "Paris"]},
    ],
    "machineGroups": [{"path": ["United Kingdom", "London"], "properties": {"legacy": "x"}}],
}


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Shcfg:
    """Runs `shcfg` in-process against one sandbox; manifests are written into tmp_path."""

    def __init__(self, sandbox: Sandbox, workdir: Path) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        self.env = {"SIMPLEHELP_URL": sandbox.url, "SIMPLEHELP_API_TOKEN": TOKEN}

    def manifest(self, text: str, name: str = "manifest.yaml") -> Path:
        path = self.workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> Result:
        runner = CliRunner()
        with contextlib.chdir(self.workdir):
            result = runner.invoke(
                cli,
                list(args),
                env={**self.env, **(env or {})},
                input=stdin,
                catch_exceptions=False,
            )
        return Result(result.exit_code, result.stdout, result.stderr)

    def writes(self) -> list[str]:
        return [c.query for c in self.sandbox.calls if c.write]

    def groups(self) -> dict[str, dict[str, Any]]:
        """Live groups by name, with their permissions and whether a password is set."""
        return {
            g["obj"]["name"]: {
                **g["obj"],
                "permissions": g["permissions"],
                "passwordSet": g["passwordSet"],
            }
            for g in self.sandbox.snapshot()["groups"]
        }

    def technicians(self) -> dict[str, dict[str, Any]]:
        """Live technicians by username, with group names and whether a password is set."""
        snapshot = self.sandbox.snapshot()
        names = {g["obj"]["uniqueID"]: g["obj"]["name"] for g in snapshot["groups"]}
        return {
            t["obj"]["username"]: {
                **t["obj"],
                "groups": sorted(names[i] for i in t["obj"]["groupIDs"]),
                "passwordSet": t["passwordSet"],
            }
            for t in snapshot["technicians"]
        }


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    config = SandboxConfig(token=TOKEN, data_dir=tmp_path / "server", seed=SEED)
    with Sandbox(config) as server:
        yield server


@pytest.fixture
def shcfg(sandbox: Sandbox, tmp_path: Path) -> Shcfg:
    work = tmp_path / "work"
    work.mkdir()
    return Shcfg(sandbox, work)


@pytest.fixture
def shcfg_seeded(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], Shcfg]]:
    """A factory: a fresh sandbox with the given seed, and the CLI pointed at it."""
    with contextlib.ExitStack() as stack:

        def make(seed: dict[str, Any]) -> Shcfg:
            base = tmp_path / f"seeded-{len(stack._exit_callbacks)}"
            config = SandboxConfig(token=TOKEN, data_dir=base / "server", seed=seed)
            server = stack.enter_context(Sandbox(config))
            (base / "work").mkdir(parents=True)
            return Shcfg(server, base / "work")

        yield make


MakeShcfg = Callable[..., Shcfg]


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
