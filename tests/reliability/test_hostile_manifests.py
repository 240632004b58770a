"""Hostile manifests through `shcfg validate`: exit 0 or 1, one `file:line` error a line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import cli
from tests.e2e.conftest import Result

CASES: dict[str, bytes] = {
    "huge-string": b"version: 1\nserver:\n  hostname: " + b"a" * 5_000_000 + b"\n  x: 1\n",
    "huge-key": b"version: 1\n" + b"k" * 1_000_000 + b": 1\n",
    "many-objects": b"version: 1\ntechnicians:\n" + b"  - username: x\n" * 5_000,
    "deep-nesting": b"version: 1\nx: " + b"[" * 50_000 + b"]" * 50_000 + b"\n",
    "non-utf8": b"version: 1\nserver:\n  hostname: caf\xe9\n",
    "utf16-bom": "version: 1\n".encode("utf-16"),
    "binary": bytes(range(256)) * 40,
    "nul-bytes": b"version: 1\x00\n",
    "alias-bomb": b"version: 1\na: &a [x, x, x, x, x, x, x, x, x]\n"
    + b"".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n".encode()
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    ),
    "recursive-alias": b"version: 1\na: &a [*a]\n",
    "duplicate-keys": b"version: 1\ngroups: []\ngroups: []\n",
    "wrong-types": b"version: '1'\ngroups: {name: x}\ntechnicians: [1, true, null]\n",
    "wrong-root": b"- version: 1\n",
    "empty": b"",
    "tags": b"version: 1\nx: !!python/object:os.system [echo pwned]\n",
}
LINE = re.compile(r"^Error: (?P<file>.+?):\d+(:\d+)?: \S")


def validate(path: Path) -> Result:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["validate", str(path)], catch_exceptions=False)
    return Result(result.exit_code, result.stdout, result.stderr)


def check(path: Path) -> Result:
    result = validate(path)
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        lines = result.stderr.splitlines()
        assert lines, result.output
        for line in lines:
            match = LINE.match(line)
            assert match, line[:300]
            assert match["file"] == str(path)
            assert len(line) < 2000
    return result


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file_gives_exit_1_with_file_line_errors(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_bytes(CASES[name])
    assert check(path).exit_code == 1


def test_a_clean_manifest_validates(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("version: 1\ngroups:\n  - name: Helpdesk\n", encoding="utf-8")
    assert check(path).exit_code == 0


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(max_size=400) | st.text(max_size=200).map(str.encode))
def test_random_bytes_through_the_cli(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(b"version: 1\n" + data)
    check(path)


def test_validate_prints_warnings_and_passes(tmp_path: Path) -> None:
    path = tmp_path / "literal.yaml"
    path.write_text(
        "version: 1\ntechnicians:\n  - username: alice\n    password: hunter2\n", encoding="utf-8"
    )
    result = check(path)
    assert result.exit_code == 0
    assert f"Warning: {path}:4:15: technicians[0].password: a secret written in the manifest" in (
        result.stderr
    )
    assert "${env:NAME}" in result.stderr and "${file:PATH}" in result.stderr
    assert "hunter2" not in result.output


def test_validate_of_a_repository_root_skips_dot_directories(tmp_path: Path) -> None:
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text("on: [push]\n", encoding="utf-8")
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n", encoding="utf-8")
    (tmp_path / "groups.yaml").write_text("version: 1\ngroups: [{name: G}]\n", encoding="utf-8")
    result = check(tmp_path)
    assert result.exit_code == 0, result.output
    assert "Valid: 1 file(s), 1 group(s)" in result.stdout
