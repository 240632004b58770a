"""Executing a plan through the client, in dependency order, with a journal.

The journal records each write's answer shape (``answer`` lines: ``empty``, ``true``,
``text``, ``object``, ``response`` or ``other``), so a server's reading of the reference
shows in the log of the first apply against it (docs/api-notes.md).

Changes of one (phase, kind, action) level are independent and run in parallel; a level
starts only when the one before it finished without failure. The first failure stops the
run: what was applied, what failed and what was not attempted are all reported.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reconciler.client.api import SimpleHelpClient
from reconciler.client.errors import ApiError
from reconciler.errors import ShcfgError
from reconciler.journal import Journal
from reconciler.kinds import REGISTRY
from reconciler.kinds.contexts import ApplyContext
from reconciler.plan import Change, Plan

Refresh = Callable[[Change], Change | None]
Notify = Callable[[str, Change, str], None]
# Read-back-and-retry rounds for a write of unknown outcome (a create is several writes).
MAX_RESOLVE = 5
# What a unit returns when an interruption came before it started (compared by identity).
NOT_STARTED = "not started"


class BackupError(ShcfgError):
    """The configuration backup failed: nothing was written."""


@dataclass
class ApplyResult:
    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    not_attempted: list[Change] = field(default_factory=list)
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted


def levels(changes: Sequence[Change]) -> Iterator[list[Change]]:
    """Consecutive runs of changes that share phase, kind and action (plan order kept)."""
    for _, group in itertools.groupby(changes, key=lambda c: (c.phase, c.kind, c.action)):
        yield list(group)


def run_backup(client: SimpleHelpClient, journal: Journal) -> None:
    """Trigger the backup; one of unknown outcome is simply asked for again (a second
    timestamped copy is harmless, a missing one is not)."""
    for attempt in range(1, MAX_RESOLVE + 1):
        try:
            shape = client.server_backup().shape
            break
        except ApiError as exc:
            if exc.outcome_unknown and attempt < MAX_RESOLVE:
                journal.write("backup", outcome="retry", reason=str(exc))
                continue
            journal.write("backup", outcome="failed", reason=str(exc))
            raise BackupError(f"configuration backup failed, nothing was changed: {exc}") from None
    journal.write("backup", outcome="ok", shape=shape)


def _describe(change: Change) -> dict[str, Any]:
    return {
        "action": change.action.value,
        "kind": change.kind,
        "identity": change.identity,
        "fields": [f.path for f in change.fields],
    }


def apply_plan(
    plan: Plan,
    ctx: ApplyContext,
    *,
    journal: Journal,
    refresh: Refresh | None = None,
    notify: Notify | None = None,
    stop: threading.Event | None = None,
) -> ApplyResult:
    """Apply every change of `plan`; stop at the first failure or when `stop` is set."""
    result = ApplyResult()
    pending = list(plan.changes)
    stop = stop or threading.Event()

    def tell(event: str, change: Change, message: str = "") -> None:
        if notify is not None:
            notify(event, change, message)

    def run_unit(unit: list[Change]) -> str | None:
        """Apply a unit (one change, or a batch of a batched kind); an error text or None."""
        if stop.is_set():
            return NOT_STARTED
        kind = REGISTRY[unit[0].kind]
        for change in unit:
            journal.write("intent", **_describe(change))
        try:
            kind.apply(unit, ctx)
        except ApiError as exc:
            if exc.outcome_unknown and refresh is not None:
                return _resolve(unit, exc)
            return str(exc)
        except ShcfgError as exc:
            return str(exc)
        except Exception as exc:  # an apply always ends its journal and its report
            return f"{unit[0].kind}: unexpected {exc.__class__.__name__}: {exc}"
        return None

    def _resolve(unit: list[Change], exc: ApiError) -> str | None:
        """A write's outcome is unknown: read back, then apply only what is still missing."""
        assert refresh is not None
        kind = REGISTRY[unit[0].kind]
        error = str(exc)
        for change in unit:
            for _attempt in range(MAX_RESOLVE):
                journal.write("resolve", **_describe(change), reason=error)
                try:
                    fresh = refresh(change)
                    if fresh is None:
                        break
                    kind.apply([fresh], ctx)
                    break
                except ApiError as again:
                    error = str(again)
                    if not again.outcome_unknown:
                        return error
            else:
                return error
        return None

    def record(change: Change, error: str | None) -> None:
        if error is None:
            result.applied.append(change)
            journal.write("applied", **_describe(change))
            tell("applied", change)
        elif error is not NOT_STARTED:
            result.failed.append((change, error))
            journal.write("failed", **_describe(change), reason=error)
            tell("failed", change, error)

    def answered(query: str, shape: str) -> None:
        journal.write("answer", query=query, shape=shape)

    with ctx.client.write_answers(answered):
        for level in levels(pending):
            if stop.is_set():
                break
            batched = REGISTRY[level[0].kind].batched
            units = [level] if batched else [[c] for c in level]
            # A batched kind fans out in the pool itself, so it runs here, not in the pool.
            outcomes = [run_unit(level)] if batched else list(ctx.pool.map(run_unit, units))
            for unit, error in zip(units, outcomes, strict=True):
                for change in unit:
                    record(change, error)
            if result.failed:
                break
    done = {id(c) for c in result.applied} | {id(c) for c, _ in result.failed}
    result.not_attempted = [c for c in pending if id(c) not in done]
    result.interrupted = stop.is_set() and bool(result.not_attempted)
    journal.write(
        "finished",
        applied=len(result.applied),
        failed=len(result.failed),
        not_attempted=len(result.not_attempted),
        interrupted=result.interrupted,
    )
    return result


def new_context(
    client: SimpleHelpClient,
    secrets: Callable[[str, str, str], Any],
    group_ids: dict[str, int],
    concurrency: int,
) -> ApplyContext:
    return ApplyContext(
        client=client,
        secrets=secrets,
        group_ids=group_ids,
        pool=ThreadPoolExecutor(concurrency),
        permissions_unchecked=not group_ids,
    )
