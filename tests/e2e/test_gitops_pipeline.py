"""Pipeline fit: the commands of the CI examples and the pre-commit hook, run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from ruamel.yaml import YAML

from reconciler.manifest.json_schema import SCHEMA_ID, render_schema
from tests.e2e.conftest import Shcfg

ROOT = Path(__file__).parents[2]
CI_FILES = [
    ROOT / "examples" / "ci" / "github-actions.yml",
    ROOT / "examples" / "ci" / "gitlab-ci.yml",
]
MANIFEST = """\
version: 1
server: {hostname: support.example.com}
groups:
  - name: Helpdesk
    password: ${env:HELPDESK_GROUP_PASSWORD}
"""
TECHS = "version: 1\ntechnicians: [{username: alice, groups: [Helpdesk]}]\n"
ENV = {"HELPDESK_GROUP_PASSWORD": "helpdesk-secret-4242"}


def _commands(path: Path) -> list[list[str]]:
    """Every `shcfg ...` invocation in a CI file, cut before redirections and pipes."""
    found = re.findall(r"shcfg (?:validate|plan|apply|export)[^\n;|>&]*", path.read_text())
    return [shlex.split(command)[1:] for command in found]


def _manifests(shcfg: Shcfg) -> None:
    shcfg.manifest(MANIFEST, name="manifests/groups.yaml")
    shcfg.manifest(TECHS, name="manifests/technicians.yaml")


def _run_pipeline(shcfg: Shcfg, path: Path) -> None:
    commands = _commands(path)
    kinds = [c[0] for c in commands]
    assert kinds.count("validate") >= 1 and "apply" in kinds and kinds.count("plan") == 3
    review, saved, drift = [c for c in commands if c[0] == "plan"]  # saved: the apply job's
    assert {"--format", "markdown", "--detailed-exitcode", "--out"} <= set(review)
    assert "--detailed-exitcode" in drift
    for command in (c for c in commands if c[0] == "validate"):
        assert shcfg(*command, env=ENV).exit_code == 0
    posted = shcfg(*review, env=ENV)
    assert posted.exit_code == 2, posted.output
    assert posted.stdout.startswith("## shcfg plan")
    assert (shcfg.workdir / "plan.json").exists()
    assert shcfg(*drift, env=ENV).exit_code == 2
    apply = next(c for c in commands if c[0] == "apply")
    assert shcfg(*saved, env=ENV).exit_code == 0
    applied = shcfg(*apply, env=ENV)
    assert applied.exit_code == 0, applied.output
    assert shcfg(*drift, env=ENV).exit_code == 0


def test_github_actions_commands_validate_plan_apply_and_detect_drift(shcfg: Shcfg) -> None:
    _manifests(shcfg)
    _run_pipeline(shcfg, CI_FILES[0])
    workflow = YAML(typ="safe").load(CI_FILES[0].read_text())
    assert set(workflow["jobs"]) == {"plan", "apply", "drift"}
    assert "createComment" in CI_FILES[0].read_text()


def test_gitlab_ci_commands_validate_plan_apply_and_detect_drift(shcfg: Shcfg) -> None:
    _manifests(shcfg)
    _run_pipeline(shcfg, CI_FILES[1])
    pipeline = YAML(typ="safe").load(CI_FILES[1].read_text())
    assert {"validate", "plan", "apply", "drift"} <= set(pipeline)


def test_pre_commit_hook_validates_without_secrets(shcfg: Shcfg) -> None:
    hooks = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "shcfg-validate")
    entry = shlex.split(hook["entry"])
    assert entry[:2] == ["shcfg", "validate"]
    _manifests(shcfg)
    ok = shcfg(*entry[1:], "manifests/", env={"HELPDESK_GROUP_PASSWORD": ""})
    assert ok.exit_code == 0, ok.output
    shcfg.manifest(
        "version: 1\ntechnicians: [{username: bob, groups: [Nope]}]\n", "manifests/x.yaml"
    )
    bad = shcfg(*entry[1:], "manifests/")
    assert bad.exit_code == 1
    assert "Nope" in bad.stderr


def test_manifest_schema_is_fresh_and_named_in_the_manifest_docs() -> None:
    committed = (ROOT / "schemas" / "shcfg-manifest.schema.json").read_text(encoding="utf-8")
    assert committed == render_schema()
    assert SCHEMA_ID.endswith("schemas/shcfg-manifest.schema.json")
    docs = (ROOT / "docs" / "manifest.md").read_text(encoding="utf-8")
    assert "# yaml-language-server: $schema=" in docs
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\nschemas:", 1)[1].split("\n\n", 1)[0]
    assert "reconciler.schemas schemas" in target
