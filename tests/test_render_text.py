"""Warnings are counted in the plan's summary lines, not only listed between the changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.plan import Action, Change, Phase, Plan
from reconciler.render import render_text
from reconciler.sandbox import Sandbox, SandboxConfig

TOKEN = "render-text-token-5b2e"
UNREGISTERED = "machine 'SG_404' is not registered with the server"


def _create() -> Change:
    return Change(action=Action.CREATE, kind="groups", identity="Helpdesk", phase=Phase.GROUPS)


def test_no_changes_and_no_warnings_says_the_server_matches() -> None:
    lines = render_text(Plan()).plain.splitlines()
    assert lines[0] == "No changes. The server matches the manifests."
    assert lines[-1] == "Plan: 0 to create, 0 to update, 0 to delete."


def test_no_changes_with_a_warning_counts_and_lists_it() -> None:
    lines = render_text(Plan(warnings=[UNREGISTERED])).plain.splitlines()
    assert lines[0] == "No changes, 1 warning."
    assert f"Warning: {UNREGISTERED}" in lines
    assert lines[-1] == "Plan: 0 to create, 0 to update, 0 to delete; 1 warning."


def test_changes_with_warnings_count_them_in_the_closing_line() -> None:
    plan = Plan(changes=[_create()], warnings=["first", "second"])
    lines = render_text(plan).plain.splitlines()
    assert lines[-1] == "Plan: 1 to create, 0 to update, 0 to delete; 2 warnings."
    assert [x for x in lines if x.startswith("Warning")] == ["Warning: first", "Warning: second"]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    seed = {"machines": [{"machineID": "SG_1", "name": "Front desk", "groups": ["London"]}]}
    with Sandbox(SandboxConfig(token=TOKEN, data_dir=tmp_path / "server", seed=seed)) as server:
        yield server


def test_plan_of_an_unregistered_machine_says_no_changes_one_warning(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    manifest = tmp_path / "machines.yaml"
    manifest.write_text("version: 1\nmachines:\n  - machineID: SG_404\n    notes: hi\n")
    env = {"SIMPLEHELP_URL": sandbox.url, "SIMPLEHELP_API_TOKEN": TOKEN}
    text = CliRunner().invoke(cli, ["plan", str(manifest)], env=env)
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[0] == "No changes, 1 warning."
    assert f"Warning: {UNREGISTERED}" in text.stdout
    markdown = CliRunner().invoke(cli, ["plan", str(manifest), "--format", "markdown"], env=env)
    assert markdown.exit_code == 0, markdown.output
    assert "**No changes, 1 warning.**" in markdown.stdout
    assert "### Warnings\n\n- machine 'SG\\_404' is not registered" in markdown.stdout
