"""A group's permissions: which groups' permissions a plan reads, the names the server
knows, the comparison (only declared names enforced) and the values apply sends.

Permissions have queries of their own (``groups/permissions/get``/``set``), and the
server's answer for any group names every permission it knows: a manifest that names
another is refused before any write, with a did-you-mean.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from reconciler.errors import ShcfgError
from reconciler.kinds.base import ApplyContext, ReadContext
from reconciler.plan import Change

PREFIX = "permissions."


class Declared(Protocol):
    """What this module needs of a declared group."""

    name: str
    renamedFrom: str | None
    permissions: dict[str, bool] | None


def read(
    ctx: ReadContext, by_name: Mapping[str, Mapping[str, Any]], declared: Iterable[Declared]
) -> tuple[dict[int, dict[str, bool]], frozenset[str] | None]:
    """Permissions by group ID (every group for export, else the declared ones that
    exist) and every name the server knows (None when nothing was read)."""
    wanted = [int(g["uniqueID"]) for g in by_name.values()] if ctx.everything else []
    with_permissions = [g for g in declared if g.permissions is not None]
    for group in with_permissions:
        live = by_name.get(group.name) or by_name.get(group.renamedFrom or "")
        if live is not None:
            wanted.append(int(live["uniqueID"]))
    if with_permissions and not wanted and by_name:
        # Only new groups declare permissions: any group's answer names them all.
        wanted.append(min(int(g["uniqueID"]) for g in by_name.values()))
    answers = list(ctx.pool.map(ctx.client.groups_permissions_get, wanted))
    names = frozenset(k for answer in answers for k in answer) if answers else None
    return dict(zip(wanted, answers, strict=True)), names


def unknown(name: str, permissions: Iterable[str], known: frozenset[str]) -> list[str]:
    """One message per permission name of group ``name`` that the server does not know."""
    found = []
    for perm in sorted(set(permissions) - known):
        close = difflib.get_close_matches(perm, sorted(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        found.append(f"group {name!r}: unknown permission {perm!r}{hint}")
    return found


def check_created(ctx: ApplyContext, change: Change, unique_id: int, wanted: Iterable[str]) -> None:
    """A server with no group gave plan no names to check: the new group's own answer
    names them all; an unknown one removes the group again rather than leave it half made."""
    known = frozenset(ctx.client.groups_permissions_get(unique_id))
    problems = unknown(change.identity, wanted, known)
    if problems:
        ctx.client.groups_remove(unique_id)
        ctx.learn_group(change.identity, None)
        raise ShcfgError(f"{'; '.join(problems)}: the group was removed again")
    ctx.permissions_unchecked = False


def pairs(
    declared: Mapping[str, bool] | None, have: Mapping[str, bool]
) -> list[tuple[str, Any, Any]]:
    """(path, live, declared) for each declared permission that differs; others untouched."""
    return [
        (PREFIX + name, have.get(name), wanted)
        for name, wanted in sorted((declared or {}).items())
        if have.get(name) is not wanted
    ]


def to_send(change: Change, ctx: ApplyContext) -> dict[str, Any]:
    """The permissions a change sets, by name (for ``groups/permissions/set``)."""
    return {
        f.path.removeprefix(PREFIX): ctx.value(change, f)
        for f in change.fields
        if f.path.startswith(PREFIX)
    }
