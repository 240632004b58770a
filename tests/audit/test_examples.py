"""The nightly audit jobs in examples/ci parse, and every `shcfg audit` they run is valid."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from reconciler.cli import cli

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"
JOBS = ("github-audit.yml", "gitlab-audit.yml")


def _audit_commands(text: str) -> list[list[str]]:
    commands = []
    for line in text.splitlines():
        words = line.strip().lstrip("- ").split(">")[0]
        if words.startswith("shcfg audit"):
            commands.append(shlex.split(words)[2:])
    return commands


@pytest.mark.parametrize("name", JOBS)
def test_audit_job_parses_and_uses_real_options(name: str) -> None:
    text = (CI / name).read_text(encoding="utf-8")
    assert isinstance(YAML(typ="safe").load(text), dict)
    commands = _audit_commands(text)
    assert commands and any("sarif" in c for c in commands)
    command = cli.commands["audit"]
    for args in commands:
        ctx = command.make_context("audit", list(args), resilient_parsing=False)
        assert ctx.params["manifests"] == ("manifests/",)


def test_github_job_uploads_sarif() -> None:
    job = YAML(typ="safe").load((CI / "github-audit.yml").read_text(encoding="utf-8"))
    steps = job["jobs"]["audit"]["steps"]
    upload = next(s for s in steps if "upload-sarif" in str(s.get("uses")))
    assert upload["with"]["sarif_file"] == "shcfg-audit.sarif"
    assert job["permissions"]["security-events"] == "write"
