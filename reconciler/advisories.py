"""Published security advisories of SimpleHelp, as data, and which versions they affect.

`shcfg doctor` warns about them and `shcfg audit` reports them. To add or amend one,
edit ``ADVISORIES`` only (docs/doctor.md, "Updating the advisories table"): each row
names the releases that fix it, and a version is affected unless it is at or above the
newest fixed release, or at or above the fixed release of its own patch branch.

Public interface (stable, other commands import it): ``Advisory``, ``ADVISORIES``,
``parse_version``, ``affected``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Version = tuple[int, ...]

_VERSION = re.compile(r"(?<![\d.])(\d{1,4}(?:\.\d{1,6}){1,3})(?![\d])")


@dataclass(frozen=True)
class Advisory:
    """One advisory: ``fixed`` lists every release that carries the fix (main line and
    patch branches); ``severity`` is ``low``, ``medium`` or ``high``."""

    id: str
    title: str
    severity: str
    fixed: tuple[str, ...]
    sources: tuple[str, ...]


_KB_2025_01 = "https://simple-help.com/kb---security-vulnerabilities-01-2025"
_PATCHED_2025_01 = ("5.5.8", "5.4.10", "5.3.9")

ADVISORIES: tuple[Advisory, ...] = (
    Advisory(
        id="CVE-2024-57726",
        title="a technician can create API keys with more rights than their own "
        "(privilege escalation to server administrator)",
        severity="high",
        fixed=_PATCHED_2025_01,
        sources=(_KB_2025_01, "https://nvd.nist.gov/vuln/detail/CVE-2024-57726"),
    ),
    Advisory(
        id="CVE-2024-57727",
        title="unauthenticated path traversal: anyone can download files from the server, "
        "including its configuration with secrets",
        severity="high",
        fixed=_PATCHED_2025_01,
        sources=(_KB_2025_01, "https://nvd.nist.gov/vuln/detail/CVE-2024-57727"),
    ),
    Advisory(
        id="CVE-2024-57728",
        title="an administrator can upload files to any place on the server (zip slip), "
        "leading to code execution",
        severity="high",
        fixed=_PATCHED_2025_01,
        sources=(_KB_2025_01, "https://nvd.nist.gov/vuln/detail/CVE-2024-57728"),
    ),
    Advisory(
        id="CVE-2026-48558",
        title="login with a forged OIDC token where a technician group allows "
        "group-authenticated logins",
        severity="high",
        fixed=("5.5.16",),
        sources=("https://nvd.nist.gov/vuln/detail/CVE-2026-48558",),
    ),
)


def parse_version(text: str) -> Version | None:
    """The first dotted version number in ``text`` (``5.5.7`` -> ``(5, 5, 7)``), or None.

    Missing components count as 0, so ``5.5`` compares as ``5.5.0``.
    """
    match = _VERSION.search(text)
    if match is None:
        return None
    parts = tuple(int(p) for p in match.group(1).split("."))
    return parts + (0,) * (3 - len(parts))


def _is_fixed(version: Version, advisory: Advisory) -> bool:
    fixes = sorted(v for v in (parse_version(f) for f in advisory.fixed) if v is not None)
    if not fixes or version >= fixes[-1]:
        return True
    # A patch branch: the same major.minor line, at or above its fixed release.
    return any(version[:2] == fix[:2] and version >= fix for fix in fixes)


def affected(version: str) -> list[Advisory]:
    """The advisories that ``version`` (e.g. ``"5.5.7"``) is affected by, in table order.

    Raises ``ValueError`` when ``version`` holds no version number: an unknown version
    is neither affected nor safe, and callers word that themselves.
    """
    parsed = parse_version(version)
    if parsed is None:
        raise ValueError("no version number")
    return [a for a in ADVISORIES if not _is_fixed(parsed, a)]
