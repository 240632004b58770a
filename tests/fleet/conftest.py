"""Fleet fixtures: several sandboxes, each with its own token, and a project directory."""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.sandbox import Sandbox, SandboxConfig
from tests.e2e.conftest import SEED, Result, sandbox, shcfg

__all__ = ["Fleet", "sandbox", "shcfg"]


class Fleet:
    """Runs `shcfg` in a project directory whose shcfg.yaml names several sandboxes."""

    def __init__(self, root: Path, servers: dict[str, Sandbox], tokens: dict[str, str]) -> None:
        self.root = root
        self.servers = servers
        self.env = {f"{name.upper()}_TOKEN": token for name, token in tokens.items()}
        self.env["SIMPLEHELP_URL"] = ""
        self.env["SIMPLEHELP_API_TOKEN"] = ""

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def project(self, extra: dict[str, str] | None = None, shared: str = "manifests/") -> Path:
        """shcfg.yaml: the shared set and one entry per sandbox (`extra` lines appended)."""
        lines = [f"manifests: [{shared}]", "servers:"]
        for name, server in self.servers.items():
            lines += [
                f"  {name}:",
                f"    url: {server.url}",
                f"    tokenEnv: {name.upper()}_TOKEN",
            ]
            lines += [f"    {line}" for line in (extra or {}).get(name, "").splitlines()]
        return self.write("shcfg.yaml", "\n".join(lines) + "\n")

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        with contextlib.chdir(self.root):
            result = CliRunner().invoke(
                cli, list(args), env={**self.env, **(env or {})}, catch_exceptions=False
            )
        return Result(result.exit_code, result.stdout, result.stderr)

    def technicians(self, name: str) -> set[str]:
        return {t["obj"]["username"] for t in self.servers[name].snapshot()["technicians"]}

    def hostname(self, name: str) -> Any:
        return self.servers[name].snapshot()["hostname"]


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    """Three sandboxes (prod, dr, staging), each with its own token."""
    tokens = {name: f"{name}-token-canary-5e1f0c" for name in ("prod", "dr", "staging")}
    with contextlib.ExitStack() as stack:
        servers = {
            name: stack.enter_context(
                Sandbox(SandboxConfig(token=token, data_dir=tmp_path / name, seed=SEED))
            )
            for name, token in tokens.items()
        }
        root = tmp_path / "repo"
        root.mkdir()
        yield Fleet(root, servers, tokens)
