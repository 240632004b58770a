"""The CI examples and the GitHub Action: installable, serialised, and runnable as written."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from ruamel.yaml import YAML

from reconciler.cli import cli
from reconciler.sandbox import Sandbox, SandboxConfig

ROOT = Path(__file__).parents[1]
GITHUB = ROOT / "examples" / "ci" / "github-actions.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-ci.yml"
ACTION = ROOT / "action.yml"
MARKER = "<!-- shcfg-plan -->"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
TOKEN = "examples-ci-token-93f1"


def _yaml(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _github_runs(job: str) -> list[str]:
    return [step["run"] for step in _yaml(GITHUB)["jobs"][job]["steps"] if "run" in step]


def _shcfg_commands(script: str) -> list[list[str]]:
    """Every `shcfg ...` invocation in a shell script, without redirections."""
    commands = []
    for line in script.splitlines():
        for part in line.split(";"):
            words = shlex.split(part.strip(), comments=True) if "shcfg " in part else []
            if words and words[0] == "shcfg":
                end = next((i for i, w in enumerate(words) if w.startswith((">", "|"))), None)
                commands.append(words[1:end])
    return commands


def _all_scripts() -> list[str]:
    github = [run for job in _yaml(GITHUB)["jobs"] for run in _github_runs(job)]
    gitlab = _yaml(GITLAB)
    scripts = [
        line for job in gitlab.values() if isinstance(job, dict) for line in job.get("script", [])
    ]
    return github + scripts + gitlab["default"]["before_script"]


def test_nothing_installs_shcfg_from_pypi() -> None:
    bare = re.compile(r"pip install(\s+-\S+)*\s+['\"]?shcfg\b")
    for path in (*sorted((ROOT / "examples" / "ci").glob("*.yml")), ACTION):
        assert not bare.search(path.read_text(encoding="utf-8")), path
    audit = _yaml(ROOT / "examples" / "ci" / "github-audit.yml")["jobs"]["audit"]["steps"]
    assert any(step.get("uses") == f"OWNER/shcfg@v{VERSION}" for step in audit)
    gitlab_audit = _yaml(ROOT / "examples" / "ci" / "gitlab-audit.yml")["shcfg-audit"]
    assert "before_script" not in gitlab_audit  # the default one installs shcfg from git
    action_steps = _yaml(ACTION)["runs"]["steps"]
    install = next(s for s in action_steps if "pip install" in s.get("run", ""))
    assert install["env"]["SHCFG_SOURCE"] == "${{ github.action_path }}"
    assert '"$SHCFG_SOURCE"' in install["run"]


def test_every_shcfg_command_in_the_examples_parses() -> None:
    commands = [c for script in _all_scripts() for c in _shcfg_commands(script)]
    assert len(commands) >= 10
    for words in commands:
        command = cli.commands[words[0]]
        with command.make_context(words[0], words[1:]) as ctx:
            assert isinstance(ctx, click.Context)


def test_github_plans_per_ref_and_applies_one_at_a_time_uncancelled() -> None:
    workflow = _yaml(GITHUB)
    assert "concurrency" not in workflow  # a workflow-wide group lets a plan cancel an apply
    jobs = workflow["jobs"]
    groups = {name: job["concurrency"]["group"] for name, job in jobs.items()}
    assert len(set(groups.values())) == len(groups)
    assert "${{ github.ref }}" in groups["plan"]
    assert jobs["plan"]["concurrency"]["cancel-in-progress"] is True
    assert "${{" not in groups["apply"]  # one group for every apply to the server
    assert jobs["apply"]["concurrency"]["cancel-in-progress"] is False


def test_github_keeps_one_plan_comment_per_pull_request() -> None:
    steps = _yaml(GITHUB)["jobs"]["plan"]["steps"]
    script = next(s for s in steps if s.get("uses", "").startswith("actions/github-script"))
    code = script["with"]["script"]
    assert f"const marker = '{MARKER}';" in code
    assert "c.body.startsWith(marker)" in code
    assert "github.paginate(github.rest.issues.listComments" in code
    assert code.index("updateComment") < code.index("createComment")


def _apply_commands(scripts: list[str]) -> list[list[str]]:
    return [c for script in scripts for c in _shcfg_commands(script) if c[0] in {"plan", "apply"}]


@pytest.mark.parametrize(
    "commands",
    [
        pytest.param(_apply_commands(_github_runs("apply")), id="github"),
        pytest.param(_apply_commands(_yaml(GITLAB)["apply"]["script"]), id="gitlab"),
    ],
)
def test_apply_jobs_apply_the_plan_they_saved_and_showed(commands: list[list[str]]) -> None:
    plan, apply = commands
    saved = plan[plan.index("--out") + 1]
    assert plan[0] == "plan" and "--format" not in plan
    assert apply[:3] == ["apply", "--plan", saved]


def test_action_inputs_are_declared_used_and_pinned_consistently() -> None:
    action = _yaml(ACTION)
    declared = set(action["inputs"])
    assert declared == {"python-version", "version"}
    text = ACTION.read_text(encoding="utf-8")
    assert set(re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", text)) == declared
    uses = [
        step
        for job in _yaml(GITHUB)["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("OWNER/shcfg@")
    ]
    assert len(uses) == 3
    for step in uses:
        assert step["uses"] == f"OWNER/shcfg@v{VERSION}"
        assert set(step["with"]) <= declared
        assert step["with"]["version"] == VERSION
    assert _yaml(GITLAB)["variables"]["SHCFG_VERSION"] == f"v{VERSION}"


def _check_step() -> str:
    return next(s["run"] for s in _yaml(ACTION)["runs"]["steps"] if s.get("id") == "check")


@pytest.mark.parametrize(("expected", "code"), [("", 0), (VERSION, 0), ("9.9.9", 1)])
def test_action_version_check_runs(tmp_path: Path, expected: str, code: int) -> None:
    output = tmp_path / "github-output"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "SHCFG_EXPECTED": expected,
        "GITHUB_OUTPUT": str(output),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", _check_step()], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == code, done.stdout + done.stderr
    if code == 0:
        assert output.read_text() == f"version={VERSION}\n"
    else:
        assert f"::error::shcfg {VERSION} installed, but the workflow expects 9.9.9" in done.stdout


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A manifests repository holding the example organisation, and a sandbox it points at."""
    shutil.copytree(ROOT / "examples" / "org", tmp_path / "repo" / "manifests")
    config = SandboxConfig(
        token=TOKEN, data_dir=tmp_path / "server", seed=ROOT / "examples" / "seed.yaml"
    )
    with Sandbox(config) as server:
        yield (
            tmp_path / "repo",
            {
                **os.environ,
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                "SIMPLEHELP_URL": server.url,
                "SIMPLEHELP_API_TOKEN": TOKEN,
                "HELPDESK_GROUP_PASSWORD": "canary-group-pw-0417",
                "ALICE_PASSWORD": "canary-alice-pw-5521",
            },
        )


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """As GitHub runs a `run:` step: bash -eo pipefail."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_github_jobs_run_as_written_against_the_sandbox(
    workdir: tuple[Path, dict[str, str]],
) -> None:
    repo, env = workdir
    for script in _github_runs("plan"):
        done = _bash(script, repo, env)
        assert done.returncode == 0, done.stderr
    markdown = (repo / "plan.md").read_text(encoding="utf-8")
    assert markdown.startswith("## shcfg plan") and "to create" in markdown
    for script in _github_runs("apply"):
        done = _bash(script, repo, env)
        assert done.returncode == 0, done.stderr
    assert (repo / "shcfg-journal.jsonl").is_file()
    drift = _github_runs("drift")
    assert _bash(drift[0], repo, env).returncode == 0  # converged: no drift
    for canary in ("canary-group-pw-0417", "canary-alice-pw-5521", TOKEN):
        assert canary not in (repo / "plan.json").read_text(encoding="utf-8")
        assert canary not in markdown


def _hook() -> dict[str, Any]:
    hooks = _yaml(ROOT / ".pre-commit-hooks.yaml")
    assert [h["id"] for h in hooks] == ["shcfg-validate"]
    return dict(hooks[0])


def test_pre_commit_hook_declares_a_whole_set_validation() -> None:
    hook = _hook()
    assert hook["language"] == "python"
    assert hook["entry"] == "shcfg validate --skip-secrets"
    assert hook["pass_filenames"] is False
    assert hook["args"] == ["manifests/"]
    assert re.search(hook["files"], "manifests/groups.yaml")
    assert re.search(hook["files"], "manifests/server.yml")


@pytest.mark.parametrize("args", [None, ["org/"]], ids=["default-args", "user-args"])
def test_pre_commit_hook_runs_as_pre_commit_runs_it(tmp_path: Path, args: list[str] | None) -> None:
    """pre-commit runs `entry + args` in the repository root, secrets unset."""
    hook = _hook()
    target = tmp_path / ("manifests" if args is None else "org")
    shutil.copytree(ROOT / "examples" / "org", target)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"HELPDESK_GROUP_PASSWORD", "ALICE_PASSWORD"}
    }
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    command = [*shlex.split(hook["entry"]), *(hook["args"] if args is None else args)]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Valid" in done.stdout


def test_gitlab_apply_job_runs_as_written_against_the_sandbox(
    workdir: tuple[Path, dict[str, str]],
) -> None:
    repo, env = workdir
    pipeline = _yaml(GITLAB)
    for job in ("validate", "apply", "drift"):
        done = _bash("\n".join(pipeline[job]["script"]), repo, env)
        assert done.returncode == 0, f"{job}: {done.stderr}"
    assert set(pipeline["apply"]["artifacts"]["paths"]) == {"plan.json", "shcfg-journal.jsonl"}
    assert all((repo / name).is_file() for name in pipeline["apply"]["artifacts"]["paths"])
