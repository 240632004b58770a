"""The advisories table: which versions each advisory affects."""

from __future__ import annotations

import pytest

from reconciler.advisories import ADVISORIES, affected, parse_version


def ids(version: str) -> set[str]:
    return {a.id for a in affected(version)}


JAN_2025 = {"CVE-2024-57726", "CVE-2024-57727", "CVE-2024-57728"}


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("5.5.7", JAN_2025 | {"CVE-2026-48558"}),
        ("5.5.8", {"CVE-2026-48558"}),
        ("5.4.9", JAN_2025 | {"CVE-2026-48558"}),
        ("5.4.10", {"CVE-2026-48558"}),
        ("5.3.8", JAN_2025 | {"CVE-2026-48558"}),
        ("5.3.9", {"CVE-2026-48558"}),
        ("5.2.20", JAN_2025 | {"CVE-2026-48558"}),
        ("5.5.15", {"CVE-2026-48558"}),
        ("5.5.16", set()),
        ("5.6.0", set()),
        ("6.0", set()),
    ],
)
def test_affected_by_version(version: str, expected: set[str]) -> None:
    assert ids(version) == expected


def test_patch_branches_do_not_cover_later_advisories() -> None:
    # 5.4.10 carries the January 2025 fixes, not the 5.5.16 one.
    assert "CVE-2024-57726" not in ids("5.4.10")
    assert "CVE-2026-48558" in ids("5.4.10")


@pytest.mark.parametrize("garbage", ["", "unknown", "version", "5", "v.x.y", "\x00\x1b[31m"])
def test_garbage_is_unknown(garbage: str) -> None:
    assert parse_version(garbage) is None
    with pytest.raises(ValueError):
        affected(garbage)


def test_parse_version_finds_the_number_in_a_line() -> None:
    assert parse_version("SH Version: 5.5.7") == (5, 5, 7)
    assert parse_version("Version 5.5") == (5, 5, 0)
    assert parse_version("build 5.5.16.2 (2026)") == (5, 5, 16, 2)


def test_every_row_is_complete_data() -> None:
    assert len({a.id for a in ADVISORIES}) == len(ADVISORIES)
    for advisory in ADVISORIES:
        assert advisory.severity in ("low", "medium", "high")
        assert advisory.fixed
        assert all(parse_version(v) for v in advisory.fixed)
        assert advisory.sources
        assert all(s.startswith("https://") for s in advisory.sources)
