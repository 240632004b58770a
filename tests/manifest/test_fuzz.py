"""Hostile input never escapes as anything but a one-issue-per-line ManifestError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reconciler.manifest import ManifestError, load_manifests

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Nesting and bomb inputs are a couple of small integers: fewer examples cover them.
FUZZ_SHAPES = settings(FUZZ, max_examples=50)

KEYS = st.sampled_from(
    [
        "version",
        "server",
        "groups",
        "technicians",
        "machines",
        "machineGroups",
        "prune",
        "ignore",
        "name",
        "username",
        "machineID",
        "path",
        "hostname",
        "techRestrictions",
        "password",
        "permissions",
        "groups",
        "enabled",
        "x",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(["${env:X}", "${file:nope}", "$${", "${", "1", "yes", "${env:CANARY}"])
)
TREES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=5),
    max_leaves=30,
)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "input.yaml"


def check(path: Path, *, resolve_secrets: bool = False) -> str:
    """Loading succeeds (warnings each naming the file) or raises ManifestError, one issue per
    line, each naming the file. Returns everything the load had to say."""
    try:
        loaded = load_manifests([path], resolve_secrets=resolve_secrets)
    except ManifestError as exc:
        lines = str(exc).split("\n")
        assert len(lines) == len(exc.issues) >= 1
        assert all(line.startswith(f"{path}") for line in lines)
        return str(exc)
    assert all(str(warning).startswith(f"{path}:") for warning in loaded.warnings)
    return "\n".join(str(warning) for warning in loaded.warnings)


def dump(data: Any, path: Path) -> None:
    yaml = YAML(typ="safe", pure=True)
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)


@FUZZ
@given(tree=TREES)
def test_random_trees(target: Path, tree: Any) -> None:
    dump(tree, target)
    check(target)


@FUZZ
@given(tree=st.dictionaries(KEYS, TREES, max_size=6))
def test_random_manifests_with_version(target: Path, tree: dict[str, Any]) -> None:
    dump({"version": 1, **tree}, target)
    check(target)


CANARY = "canary-secret-5e1f"


@FUZZ
@given(tree=st.dictionaries(KEYS, TREES, max_size=6))
def test_a_resolved_secret_never_shows(
    target: Path, monkeypatch: pytest.MonkeyPatch, tree: dict[str, Any]
) -> None:
    monkeypatch.setenv("CANARY", CANARY)
    dump({"version": 1, **tree}, target)
    assert CANARY not in check(target, resolve_secrets=True)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes(target: Path, data: bytes) -> None:
    target.write_bytes(data)
    check(target)


@FUZZ
@given(
    text=st.text(
        alphabet=st.sampled_from("ab:-[]{}&*!|>'\"#%@`,?\n \t\\0x\x00\ufeff"), max_size=200
    )
)
def test_random_yaml_punctuation(target: Path, text: str) -> None:
    target.write_text(text, encoding="utf-8")
    check(target)


@FUZZ_SHAPES
@given(depth=st.integers(1, 5000), opener=st.sampled_from(["[", "{a: "]))
def test_deep_flow_nesting(target: Path, depth: int, opener: str) -> None:
    closer = {"[": "]", "{a: ": "}"}[opener]
    text = "version: 1\nx: " + opener * depth + "1" + closer * depth + "\n"
    target.write_text(text, encoding="utf-8")
    check(target)


@FUZZ_SHAPES
@given(depth=st.integers(1, 1000), compact=st.booleans())
def test_deep_block_nesting(target: Path, depth: int, compact: bool) -> None:
    if compact:
        text = "- " * depth + "a\n"
    else:
        text = "".join("  " * i + "- a:\n" for i in range(min(depth, 150)))
    target.write_text(text, encoding="utf-8")
    check(target)


@FUZZ_SHAPES
@given(width=st.integers(2, 12), levels=st.integers(2, 12))
def test_alias_bombs(target: Path, width: int, levels: int) -> None:
    lines = ["version: 1", "a0: &a0 [lol]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if width ** (levels - 1) > 100_000:
        with pytest.raises(ManifestError, match="too large after alias expansion"):
            load_manifests([target])
    check(target)


@FUZZ
@given(keys=st.lists(KEYS, min_size=2, max_size=8), indent=st.integers(0, 4))
def test_duplicate_keys(target: Path, keys: list[str], indent: int) -> None:
    body = "".join(f"{' ' * indent}{key}: 1\n" for key in [*keys, keys[0]])
    text = f"version: 1\nserver:\n{body}" if indent else body
    target.write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match="duplicate key"):
        load_manifests([target])
