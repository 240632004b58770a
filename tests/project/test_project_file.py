"""The project file: discovery like git's, positions in every error, no inline tokens."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.manifest import ManifestError
from reconciler.project import find_project, load_project


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_found_in_the_directory_or_above(tmp_path: Path) -> None:
    project = write(tmp_path / "shcfg.yaml", "manifests: [manifests/]\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project(deep) == project
    assert find_project(tmp_path) == project


def test_not_found_returns_none(tmp_path: Path) -> None:
    assert find_project(tmp_path) is None


def test_paths_resolve_against_the_project_directory(tmp_path: Path) -> None:
    path = write(
        tmp_path / "shcfg.yaml",
        "manifests: [manifests/, extra.yaml]\n"
        "servers:\n"
        "  prod: {url: 'https://a.example', tokenEnv: T, manifests: [overlays/prod/]}\n",
    )
    project = load_project(path)
    assert project.manifests == [tmp_path / "manifests", tmp_path / "extra.yaml"]
    assert project.server_manifests("prod")[-1] == tmp_path / "overlays" / "prod"


def test_covers_only_the_whole_set(tmp_path: Path) -> None:
    path = write(tmp_path / "shcfg.yaml", "manifests: [m/a.yaml, m/b.yaml]\n")
    project = load_project(path)
    assert project.covers([tmp_path / "m" / "b.yaml", tmp_path / "m" / "a.yaml"])
    assert not project.covers([tmp_path / "m" / "a.yaml"])


def test_unknown_key_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "shcfg.yaml", "manifests: [m/]\n\nconcurency: 4\n")
    with pytest.raises(ManifestError) as err:
        load_project(path)
    assert str(err.value).startswith(f"{path}:3:1: project file: concurency")


def test_inline_token_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = write(
        tmp_path / "shcfg.yaml",
        "manifests: [m/]\nservers:\n  prod:\n    url: https://a.example\n"
        "    token: CANARY-TOKEN-123456\n",
    )
    with pytest.raises(ManifestError) as err:
        load_project(path)
    message = str(err.value)
    assert f"{path}:5:5: project file: a token is never written inline" in message
    assert "CANARY-TOKEN-123456" not in message


def test_server_needs_a_url_and_a_token_source(tmp_path: Path) -> None:
    path = write(tmp_path / "shcfg.yaml", "manifests: [m/]\nservers:\n  dr: {url: https://b}\n")
    with pytest.raises(ManifestError, match=r"shcfg.yaml:3:3: server dr: give tokenEnv"):
        load_project(path)


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "shcfg.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ManifestError, match="not a regular file"):
        load_project(fifo)


def test_yaml_syntax_error_has_a_position(tmp_path: Path) -> None:
    path = write(tmp_path / "shcfg.yaml", "manifests: [m/\n")
    with pytest.raises(ManifestError, match=r"shcfg.yaml:\d+:\d+: project file"):
        load_project(path)
