"""Offline cross-checks of a loaded manifest: what a schema alone cannot express."""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence

from reconciler.manifest.issues import Issue, Location
from reconciler.manifest.loader import LoadedManifest
from reconciler.manifest.models import Manifest

_Where = Callable[[tuple[str, str]], Location | None]
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\Z")


def check_references(
    loaded: LoadedManifest, *, known_groups: set[str] | None = None
) -> list[Issue]:
    """Problems that need the whole manifest (or the live group names) to see.

    A technician's group is valid when declared in the manifests or named in ``known_groups``.
    Positions are looked up only for an issue: after a fast load they cost a slow parse.
    """

    def where(key: tuple[str, str]) -> Location | None:
        return loaded.locations.get(key)

    model = loaded.model
    issues: list[Issue] = []
    group_names = {group.name for group in model.groups} | (known_groups or set())

    for tech in model.technicians:
        for name in tech.groups or []:
            if name not in group_names:
                issues.append(
                    Issue(
                        where(("technicians", tech.username)),
                        f"technician {tech.username!r}: group {name!r} is not declared",
                    )
                )
        if tech.emailAddress and not _EMAIL.match(tech.emailAddress):
            issues.append(
                Issue(
                    where(("technicians", tech.username)),
                    f"technician {tech.username!r}: emailAddress does not look like an address",
                )
            )

    issues += _check_renames(
        "groups", "group", [(g.name, g.renamedFrom) for g in model.groups], where
    )
    issues += _check_renames(
        "technicians", "technician", [(t.username, t.renamedFrom) for t in model.technicians], where
    )

    for group in model.groups:
        if group.permissions and any(not name.strip() for name in group.permissions):
            issues.append(
                Issue(where(("groups", group.name)), f"group {group.name!r}: empty permission name")
            )

    for pattern in model.server.techRestrictions or []:
        try:
            re.compile(pattern)
        except re.error as exc:
            issues.append(
                Issue(
                    where(("techRestrictions", pattern)),
                    f"tech restriction is not a valid regex: {exc}",
                )
            )
    for address in model.server.keepAccessFrom or []:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            issues.append(
                Issue(
                    where(("server", "keepAccessFrom")),
                    f"keepAccessFrom: {address!r} is not an IP address",
                )
            )

    for machine_group in model.machineGroups:
        if not machine_group.path or not all(machine_group.path):
            key = ("machineGroups", "/".join(machine_group.path))
            issues.append(Issue(where(key), "machine group path must be non-empty names"))

    for kind, globs in model.ignore:
        if any(not glob for glob in globs):
            issues.append(Issue(where(("ignore", kind)), f"ignore.{kind}: empty glob pattern"))
    return issues + _check_ignored(model, where)


def _check_ignored(model: Manifest, where: _Where) -> list[Issue]:
    """A declared object may not match an ``ignore`` glob of its kind, by name or old name.

    ``ignore`` promises that nothing matching is ever written; declaring such an object (or
    renaming one from an ignored name) would break that promise, so it is refused.
    """
    declared: dict[str, list[tuple[str, str, Sequence[str | None]]]] = {
        "technicians": [
            ("technician", t.username, [t.username, t.renamedFrom]) for t in model.technicians
        ],
        "groups": [("group", g.name, [g.name, g.renamedFrom]) for g in model.groups],
        "machines": [("machine", m.machineID, [m.machineID]) for m in model.machines],
        "machineGroups": [
            ("machine group", "/".join(g.path), ["/".join(g.path)]) for g in model.machineGroups
        ],
    }
    issues = []
    for kind, globs in model.ignore:
        for noun, ident, names in declared.get(kind, []):
            hit = next(
                (
                    (name, glob)
                    for name in names
                    if name
                    for glob in globs
                    if glob and fnmatch.fnmatchcase(name, glob)
                ),
                None,
            )
            if hit is None:
                continue
            name, glob = hit
            what = "is" if name == ident else f"is renamed from {name!r}, which is"
            issues.append(
                Issue(
                    where((kind, ident)),
                    f"{noun} {ident!r} {what} matched by ignore.{kind} pattern {glob!r}: an "
                    "ignored object is never changed; remove it from the manifests or from ignore",
                )
            )
    return issues


def _check_renames(
    section: str,
    noun: str,
    pairs: Iterable[tuple[str, str | None]],
    where: _Where,
) -> list[Issue]:
    """``renamedFrom`` must name an old object, not one still declared, and only once."""
    pairs = list(pairs)
    declared = {name for name, _ in pairs}
    claimed: dict[str, str] = {}
    issues: list[Issue] = []
    for name, old in pairs:
        if old is None:
            continue
        if old in declared:
            issues.append(
                Issue(
                    where((section, name)),
                    f"{noun} {name!r}: renamedFrom {old!r} is itself declared in the manifests",
                )
            )
        elif old in claimed:
            issues.append(
                Issue(
                    where((section, name)),
                    f"{noun} {name!r}: renamedFrom {old!r} is already claimed by {claimed[old]!r}",
                )
            )
        claimed.setdefault(old, name)
    return issues
