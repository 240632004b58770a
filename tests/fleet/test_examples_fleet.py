"""examples/fleet validates for every server, applies to three sandboxes, and its CI
workflow runs commands that parse, one server per job."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import click
from ruamel.yaml import YAML

from reconciler.cli import cli
from tests.fleet.conftest import Fleet
from tests.test_examples_ci import _shcfg_commands

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "fleet"
WORKFLOW = ROOT / "examples" / "ci" / "github-fleet.yml"
SECRETS = {"HELPDESK_GROUP_PASSWORD": "example-pass-1234"}


def _example_on(fleet: Fleet) -> None:
    """The example, pointed at the sandboxes (its url lines and token variable names)."""
    shutil.copytree(EXAMPLE, fleet.root, dirs_exist_ok=True)
    text = (fleet.root / "shcfg.yaml").read_text(encoding="utf-8")
    for name, server in fleet.servers.items():
        text = re.sub(rf"(\n  {name}:\n)(    (url|urlEnv): \S+)", rf"\1    url: {server.url}", text)
    for name in fleet.servers:
        text = text.replace(f"{name.upper()}_SIMPLEHELP_TOKEN", f"{name.upper()}_TOKEN")
    (fleet.root / "shcfg.yaml").write_text(text, encoding="utf-8")


def test_the_example_applies_overlays_and_variables_per_server(fleet: Fleet) -> None:
    _example_on(fleet)
    assert fleet("validate", env=SECRETS).exit_code == 0
    applied = fleet("apply", "--all-servers", "--auto-approve", env=SECRETS)
    assert applied.exit_code == 0, applied.output
    groups = {
        name: {g["obj"]["name"]: g for g in server.snapshot()["groups"]}
        for name, server in fleet.servers.items()
    }
    assert groups["prod"]["Helpdesk"]["obj"]["max_groupShSessions"] == 40
    assert groups["dr"]["Helpdesk"]["obj"]["max_groupShSessions"] == 40  # the twin
    assert groups["staging"]["Helpdesk"]["obj"]["max_groupShSessions"] == 20
    assert groups["staging"]["Helpdesk"]["permissions"]["canRunTools"] is True
    assert groups["prod"]["Helpdesk"]["permissions"]["canRunTools"] is False
    assert fleet.hostname("dr") == "dr.example.com"
    assert groups["dr"]["Administrators"]["obj"]["groupSpecificHostname"] == "admin.dr.example.com"
    assert "oncall" in fleet.technicians("dr") and "oncall" not in fleet.technicians("staging")
    again = fleet("plan", "--detailed-exitcode", env=SECRETS)
    assert again.exit_code == 0, again.output
    # The nightly job's check (examples/ci/github-fleet.yml) passes on the example as shipped.
    twin = fleet("compare", "--server", "prod", "--server", "dr", env=SECRETS)
    assert twin.exit_code == 0, twin.output
    other = fleet("compare", "--server", "prod", "--server", "staging", env=SECRETS)
    assert other.exit_code == 2 and "technicians 'oncall': only on prod" in other.stdout
    assert "groups 'Helpdesk': max_groupShSessions: 40 (prod) != 20 (staging)" in other.stdout


def test_the_workflow_gives_every_server_of_the_example_its_token_and_url() -> None:
    """Each job that reads servers sets the tokenEnv names the example's shcfg.yaml uses;
    no server needs a url variable or a token file the workflow cannot provide."""
    servers = YAML(typ="safe").load((EXAMPLE / "shcfg.yaml").read_text(encoding="utf-8"))
    jobs = _workflow()["jobs"]
    for name, entry in servers["servers"].items():
        assert entry.get("url") and entry.get("tokenEnv"), name
        for job in ("plan", "apply", "drift"):
            assert entry["tokenEnv"] in jobs[job]["env"], (job, name)


def _workflow() -> Any:
    return YAML(typ="safe").load(WORKFLOW.read_text(encoding="utf-8"))


def test_the_fleet_workflow_runs_commands_that_parse_one_server_per_job() -> None:
    jobs = _workflow()["jobs"]
    commands = [
        words
        for job in jobs.values()
        for step in job["steps"]
        if "run" in step
        for words in _shcfg_commands(step["run"])
    ]
    assert {c[0] for c in commands} == {"validate", "plan", "apply", "compare"}
    for words in commands:
        command = cli.commands[words[0]]
        with command.make_context(words[0], words[1:]) as ctx:
            assert isinstance(ctx, click.Context)
    for name in ("plan", "apply"):
        assert sorted(jobs[name]["strategy"]["matrix"]["server"]) == ["dr", "prod", "staging"]
        assert "${{ matrix.server }}" in jobs[name]["concurrency"]["group"]
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False
    assert jobs["apply"]["strategy"]["fail-fast"] is False
