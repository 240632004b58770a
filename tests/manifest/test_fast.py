"""The libyaml fast path: same result as the round-trip loader, or it steps aside."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from reconciler.manifest import (
    Issue,
    LoadedManifest,
    Location,
    ManifestError,
    check_references,
    fastyaml,
    load_manifests,
)
from reconciler.manifest.documents import Document
from reconciler.manifest.parse import parse_documents
from tests.manifest.conftest import WriteFn

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def same(a: Any, b: Any) -> bool:
    """Equal with identical types all the way down (``True == 1`` is not good enough)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return (
            list(a) == list(b)
            and all(same(k, j) for k, j in zip(a, b, strict=True))
            and all(same(a[k], b[k]) for k in a)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def parsed(text: str, *, fast: bool) -> list[Document] | None:
    """The documents of ``text``, or ``None`` when parsing reports any issue."""
    issues: list[Issue] = []
    docs = parse_documents(Path("x.yaml"), text, issues, fast=fast)
    return None if issues else docs


def agree(text: str) -> None:
    """fastyaml either declines ``text`` or reads exactly what the round-trip loader reads."""
    fast = parsed(text, fast=True)
    if fast is None or any(doc.positioned for doc in fast):
        return  # refused, or declined: the round-trip parser read it
    slow = parsed(text, fast=False)  # must not fail: libyaml accepted it
    assert slow is not None, text
    assert all(doc.positioned for doc in slow)
    fast_data = [doc.data for doc in fast]
    slow_data = [doc.data for doc in slow]
    assert same(fast_data, slow_data), (text, fast_data, slow_data)


# Fragments where libyaml and ruamel's scanner are known to part ways, among ordinary YAML.
PUNCTUATION = "ab:-[]{}&*!|>'\"#%@`,?.\n \t\\0x\x00\ufeff\x85\u2028"
LINES = [
    "a:", "b: 1", "- ", "- x", "c: |", "c: >-", "c: |+", "c: |2", "c: |#x", "  text", "# note",
    "d: 'q''s'", 'e: "x\\ty"', 'e: "\\u00e9\\x41\\/"', "f: &A [1, 2]", "g: *A", "h: &B",
    "  k: v", "i: {a: 1, b: [x, y]}", "j: x # c", "k: x#y", "? n", ": o", "p: x:y", "q: [a:b, c]",
    "r: {x:1}", 's: {"x":1}', "t: 'multi", "  line'", "u: plain", "  continued", "---", "...",
    "v: ~", "w: null", "x: true", "y: 012", "z: -0", "aa: +1", "bb: 1_0", "cc: .5", "dd: 'é'",
    "ee: \u2028", "ff: \x85x", "hh:  ", "ii: [", "]", "jj: *B", "kk: &C x", "ll: *C",
    "mm: !!str 3", "nn: &x: y", "oo: *x?", "pp: 2001-01-01", "qq: <<", "rr: \"a", "  b\"",
    "ss: x\r", "", "   ", "uu: >", "    more", "vv: -", "ww: - - x", "xx: [a, {b: c}]",
    "yy: '#'", "zz: a\tb", "ab: 0o17", "ac: 0x1F", "ad: True", "ae: NULL", "af: yes",
]  # fmt: skip


@SETTINGS
@given(text=st.text(alphabet=st.sampled_from(PUNCTUATION), max_size=60))
def test_random_punctuation_agrees(text: str) -> None:
    agree(text)


@SETTINGS
@given(
    lines=st.lists(
        st.tuples(st.sampled_from(["", " ", "  ", "    "]), st.sampled_from(LINES)), max_size=8
    )
)
def test_random_lines_agree(lines: list[tuple[str, str]]) -> None:
    agree("".join(indent + line + "\n" for indent, line in lines))


def test_plain_scalars_resolve_like_yaml_1_2() -> None:
    text = "a: ~\nb: null\nc:\nd: true\ne: False\nf: 0\ng: -12\nh: yes\ni: 'true'\nj: \"1\"\n"
    expected = {
        "a": None,
        "b": None,
        "c": None,
        "d": True,
        "e": False,
        "f": 0,
        "g": -12,
        "h": "yes",
        "i": "true",
        "j": "1",
    }
    assert same(fastyaml.load_all(text), [expected])
    agree(text)


def test_aliases_share_the_anchored_object() -> None:
    [root] = fastyaml.load_all("a: &x [1]\nb: *x\n")
    assert root == {"a": [1], "b": [1]}
    assert root["a"] is root["b"]


def test_documents_and_empty_documents() -> None:
    assert fastyaml.load_all("a: 1\n---\n---\n- b\n") == [{"a": 1}, None, ["b"]]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1.5",
        "a: !!str 1",
        "a: 0x1F",
        "a: 0o17",
        "a: 1_000",
        "a: +1",
        "a: 2020-01-01",
        "<<: {}",
        "a: 1\na: 2",
        "? [a]\n: 1",
        "%YAML 1.1\n---\na: yes",
        "a: [",
        "a: &x 1\nb: &x 2",
        "a: *y",
        "a: b\tc",
        "a: 1\n...\n",
        "a: |#\n  x\n",
        "a: |\n\n  x\n",
        "a: &x |\n  x\n",
        "a: &x: 1",
    ],
)
def test_what_it_declines(text: str) -> None:
    with pytest.raises(fastyaml.Unsupported):
        fastyaml.load_all(text)


def test_without_libyaml_the_round_trip_loader_does_it_all(
    write: WriteFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fastyaml, "CParser", None)
    path = write("m.yaml", "version: 1\ngroups:\n  - name: G\n")
    with pytest.raises(fastyaml.Unsupported):
        fastyaml.load_all("a: 1")
    loaded = load_manifests([path])
    assert loaded.locations[("groups", "G")] == Location(str(path), 3, 5)


CLEAN = """\
version: 1
groups:
  - name: Helpdesk
    maxFileSize: 0x10
technicians:
  - username: alice
    groups: [Helpdesk]
  - username: bob
    groups: [Helpdesk]
"""


def test_locations_are_worked_out_on_first_use(write: WriteFn) -> None:
    path = write("m.yaml", CLEAN.replace("0x10", "16"))
    loaded = load_manifests([path])
    assert "locations" not in vars(loaded)
    assert check_references(loaded) == []
    assert "locations" not in vars(loaded)
    assert loaded.locations[("technicians", "bob")] == Location(str(path), 8, 5)


def test_reference_issue_after_a_fast_load_is_positioned(write: WriteFn) -> None:
    path = write("m.yaml", CLEAN.replace("0x10", "16").replace("[Helpdesk]\n", "[Nope]\n", 2))
    [issue, *_] = check_references(load_manifests([path]))
    assert str(issue) == f"{path}:6:5: technician 'alice': group 'Nope' is not declared"


def test_a_file_it_declines_is_read_the_slow_way(write: WriteFn) -> None:
    slow = write("a.yaml", CLEAN)  # 0x10: fastyaml declines, the round-trip loader reads 16
    fast = write("b.yaml", "version: 1\nmachines:\n  - machineID: SG_1\n")
    loaded = load_manifests([slow, fast])
    assert loaded.model.groups[0].maxFileSize == 16
    assert loaded.locations[("machines", "SG_1")] == Location(str(fast), 3, 5)
    assert loaded.locations[("groups", "Helpdesk")] == Location(str(slow), 3, 5)


def test_any_issue_is_reported_with_positions(write: WriteFn) -> None:
    first = write("a.yaml", "version: 1\nmachines:\n  - machineID: SG_1\n")
    second = write("b.yaml", "version: 1\n\nmachines:\n  - machineID: SG_1\n    notes: 3\n")
    with pytest.raises(ManifestError) as caught:
        load_manifests([first, second])
    assert [str(issue) for issue in caught.value.issues] == [
        f"{second}:5:12: machines[0].notes: Input should be a valid string"
    ]
    second.write_text("version: 1\n\nmachines:\n  - machineID: SG_1\n", encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        load_manifests([first, second])
    assert [str(issue) for issue in caught.value.issues] == [
        f"{second}:4:5: machine 'SG_1' already declared at {first}:3:5"
    ]


# Generated manifests: identities from small pools (so duplicates happen), awkward strings.
AWKWARD = st.text(alphabet=st.sampled_from("ab :#&*!|>'\"-?{}[],%@`\n\\$é0"), max_size=10)
STRINGS = AWKWARD | st.sampled_from(["${env:SHCFG_FAST}", "${file:secret.txt}", "$${x}", "yes"])
NAMES = st.sampled_from(["G1", "G2", "G3", "a b", "x:y", "#1", "- z", "é", "${env:SHCFG_FAST}"])
INTS = st.integers(-5, 2**40)
GROUP = st.fixed_dictionaries(
    {"name": NAMES},
    optional={
        "maxFileSize": INTS,
        "permissions": st.dictionaries(AWKWARD, st.booleans(), max_size=3),
        "password": STRINGS,
        "allowAnonymousLogins": st.booleans() | st.none(),
        "lifecycle": st.fixed_dictionaries({"preventDestroy": st.booleans()}),
    },
)
TECHNICIAN = st.fixed_dictionaries(
    {"username": NAMES},
    optional={
        "displayName": STRINGS,
        "groups": st.lists(NAMES, max_size=3),
        "enabled": st.booleans(),
        "password": STRINGS,
    },
)
MACHINE = st.fixed_dictionaries(
    {"machineID": NAMES},
    optional={
        "notes": STRINGS,
        "properties": st.dictionaries(AWKWARD, STRINGS, max_size=3),
    },
)
DOCUMENT = st.fixed_dictionaries(
    {"version": st.sampled_from([1, 1, 1, 1, 1, 2])},
    optional={
        "server": st.fixed_dictionaries(
            {},
            optional={
                "hostname": STRINGS,
                "techRestrictions": st.lists(AWKWARD, max_size=2),
                "keepAccessFrom": st.lists(
                    st.sampled_from(["10.0.0.1", "::1"]), max_size=2, unique=True
                ),
            },
        ),
        "groups": st.lists(GROUP, max_size=3),
        "technicians": st.lists(TECHNICIAN, max_size=3),
        "machines": st.lists(MACHINE, max_size=3),
        "machineGroups": st.lists(
            st.fixed_dictionaries({"path": st.lists(NAMES, min_size=1, max_size=2)}), max_size=2
        ),
        "prune": st.fixed_dictionaries({}, optional={"groups": st.booleans()}),
        "ignore": st.fixed_dictionaries({}, optional={"machines": st.lists(AWKWARD, max_size=2)}),
    },
)
STYLES = st.sampled_from(["block", "flow", "default", "json", "narrow", "anchors"])


def render(document: dict[str, Any], style: str) -> str:
    """One of several ways a person or a tool might write the same document."""
    if style == "json":
        return json.dumps(document, indent=1, ensure_ascii=False)
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = {"block": False, "flow": True}.get(style)
    if style == "narrow":
        yaml.width = 12  # long strings folded over several lines
    if style == "anchors":  # every group shares the first one's permissions: an anchor, aliases
        groups = [dict(group) for group in document.get("groups", [])]
        for group in groups:
            group["permissions"] = groups[0].setdefault("permissions", {"p": True})
        document = {**document, "groups": groups}
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def outcome(files: list[Path], *, fast: bool) -> LoadedManifest | str:
    """What ``load_manifests`` makes of ``files``, with libyaml or with the round-trip parser."""
    with pytest.MonkeyPatch.context() as patch:
        if not fast:
            patch.setattr(fastyaml, "CParser", None)  # fastyaml declines every text
        try:
            loaded = load_manifests(files)
            loaded.locations  # noqa: B018 (worked out while the parser is still patched)
        except ManifestError as exc:
            return str(exc)
    return loaded


@SETTINGS
@given(
    documents=st.lists(st.tuples(DOCUMENT, STYLES), min_size=1, max_size=3),
    env=st.sampled_from([{"SHCFG_FAST": "s3cret-value"}, {"SHCFG_FAST": "a: b, c: d"}, {}]),
)
def test_fast_and_round_trip_loads_agree(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    documents: list[tuple[dict[str, Any], str]],
    env: dict[str, str],
) -> None:
    monkeypatch.delenv("SHCFG_FAST", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "secret.txt").write_text("from-file\n", encoding="utf-8")
    files = []
    for index, (document, style) in enumerate(documents):
        files.append(tmp_path / f"m{index}.yaml")
        files[-1].write_text(render(document, style), encoding="utf-8")
    fast = outcome(files, fast=True)
    slow = outcome(files, fast=False)
    if not isinstance(fast, LoadedManifest):
        assert fast == slow
        return
    assert isinstance(slow, LoadedManifest), slow
    assert fast.model == slow.model
    assert fast.secret_refs == slow.secret_refs
    assert fast.secret_values == slow.secret_values
    assert fast.files == slow.files
    assert fast.locations == slow.locations
    assert fast.warnings == slow.warnings
