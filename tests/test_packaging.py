"""The wheel: licence, project URLs, and a demo that runs without the source tree."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("shcfg-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "-t", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    return target


def test_wheel_carries_the_licence_and_project_urls(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
        licence = next(n for n in names if n.endswith("/LICENSE"))
        licence_text = archive.read(licence).decode()
    assert licence_text == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence_text.startswith("MIT License\n\nCopyright (c) 2026 shcfg authors\n")
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert set(urls) >= {"Homepage", "Source", "Documentation"}
    assert all(u.startswith("https://github.com/OWNER/shcfg") for u in urls.values())
    assert "OWNER/shcfg" in (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")


def test_wheel_ships_the_demo_data_with_the_examples_content(wheel: Path) -> None:
    examples = ROOT / "examples"
    expected = {"seed.yaml": examples / "seed.yaml"}
    expected |= {f"org/{p.name}": p for p in (examples / "org").glob("*.yaml")}
    with zipfile.ZipFile(wheel) as archive:
        for name, source in expected.items():
            shipped = archive.read(f"reconciler/demo_data/{name}")
            assert shipped == source.read_bytes(), name


def test_demo_runs_from_the_installed_wheel_outside_the_source_tree(
    installed: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    where = subprocess.run(
        [sys.executable, "-c", "import reconciler.demo as d; print(d.DATA)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.resolve())
    done = subprocess.run(
        [sys.executable, "-m", "reconciler.demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Converged:" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def _completion(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    shcfg = Path(sys.executable).parent / "shcfg"
    return subprocess.run(
        [str(shcfg)], env={**os.environ, **env}, capture_output=True, text=True, check=False
    )


def test_every_documented_completion_script_is_produced() -> None:
    doc = (ROOT / "docs" / "completion.md").read_text(encoding="utf-8")
    shells = set(re.findall(r"_SHCFG_COMPLETE=(\w+_source) shcfg", doc))
    assert shells == {"bash_source", "zsh_source", "fish_source"}
    for shell in shells:
        done = _completion({"_SHCFG_COMPLETE": shell})
        assert done.returncode == 0, done.stderr
        assert "_SHCFG_COMPLETE" in done.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [("shcfg pl", {"plain,plan"}), ("shcfg plan --format ", {"plain,json", "plain,markdown"})],
)
def test_the_shell_gets_commands_and_option_values(words: str, expected: set[str]) -> None:
    cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    done = _completion(
        {"_SHCFG_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": cword}
    )
    assert done.returncode == 0, done.stderr
    assert expected <= set(done.stdout.splitlines())
