"""What every resource kind provides, and the contexts it works in."""

from __future__ import annotations

import atexit
import fnmatch
import functools
import heapq
import itertools
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from deepdiff import DeepDiff

from reconciler.client.api import SimpleHelpClient
from reconciler.manifest import LoadedManifest
from reconciler.plan import Change, FieldChange, Undeclared

T = TypeVar("T")
R = TypeVar("R")


_OPEN_POOLS: weakref.WeakSet[Pool] = weakref.WeakSet()


@atexit.register
def _close_open_pools() -> None:
    """A pool an error path left open neither hangs the exit nor cuts a request short:
    its queued jobs are cancelled and the running ones finish (as an executor does)."""
    for pool in list(_OPEN_POOLS):
        pool.close()


class Pool:
    """Runs independent requests in parallel; the client bounds requests in flight.

    Urgent jobs run before every ordinary job still queued: a big read that others wait
    for (machine batches after machines/list) must not queue behind hundreds of small
    independent ones, or it becomes the tail of the whole read. The workers take jobs
    from that queue themselves (no executor in between: one hand-off per job, not two).
    """

    def __init__(self, workers: int) -> None:
        self._size = max(1, workers)
        self._ready = threading.Condition(threading.Lock())
        self._jobs: list[tuple[int, int, Callable[[], Any], Future[Any]]] = []
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # workers waiting for a job and not yet woken for one
        self._closed = False
        _OPEN_POOLS.add(self)

    def submit(self, fn: Callable[[], R], *, urgent: bool = False) -> Future[R]:
        """Queue ``fn``; a free worker runs the most urgent job queued at that moment."""
        future: Future[R] = Future()
        with self._ready:
            if self._closed:
                raise RuntimeError("the pool is closed")
            heapq.heappush(self._jobs, (0 if urgent else 1, next(self._order), fn, future))
            if self._idle:
                self._idle -= 1
                self._ready.notify()
            elif len(self._threads) < self._size:
                # Daemon: an idle worker must not keep the process alive; the exit
                # hook above still lets running jobs finish.
                worker = threading.Thread(
                    target=self._work, name=f"shcfg-{len(self._threads)}", daemon=True
                )
                self._threads.append(worker)
                worker.start()
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._jobs and not self._closed:
                    self._idle += 1
                    self._ready.wait()
                if not self._jobs:
                    return
                _, _, fn, future = heapq.heappop(self._jobs)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn()
            except BaseException as exc:  # handed to the waiting caller, as an executor does
                future.set_exception(exc)
            else:
                future.set_result(result)

    def map(self, fn: Callable[[T], R], items: Iterable[T], *, urgent: bool = False) -> list[R]:
        futures = [self.submit(functools.partial(fn, item), urgent=urgent) for item in items]
        try:
            return [future.result() for future in futures]
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        """Cancel what is still queued and wait for the jobs already running."""
        _OPEN_POOLS.discard(self)
        with self._ready:
            self._closed = True
            for _, _, _, future in self._jobs:
                future.cancel()
            self._jobs.clear()
            self._ready.notify_all()
            threads = list(self._threads)
        for worker in threads:
            if worker is not threading.current_thread():
                worker.join()


def is_ignored(manifest: LoadedManifest, kind: str, identity: str) -> bool:
    """True when an `ignore` glob of this kind matches: never changed, never pruned."""
    patterns: Sequence[str] = getattr(manifest.model.ignore, kind, None) or ()
    return any(fnmatch.fnmatchcase(identity, p) for p in patterns)


@dataclass
class ReadContext:
    client: SimpleHelpClient
    manifest: LoadedManifest
    pool: Pool

    def ignored(self, kind: str, identity: str) -> bool:
        return is_ignored(self.manifest, kind, identity)


@dataclass
class KindPlan:
    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    undeclared: list[Undeclared] = field(default_factory=list)
    live_count: int = 0


@dataclass
class PlanContext:
    manifest: LoadedManifest
    live: dict[str, Any]
    rotate_secrets: bool = False

    def ignored(self, kind: str, identity: str) -> bool:
        return is_ignored(self.manifest, kind, identity)

    def sensitive(self, kind: str, identity: str, path: str) -> bool:
        return (kind, identity, path.split(".")[0]) in self.manifest.secret_refs


@dataclass
class ApplyContext:
    """What apply needs beyond the plan: the client, secret values, IDs learnt on the way."""

    client: SimpleHelpClient
    secrets: Callable[[str, str, str], Any]
    group_ids: dict[str, int]
    pool: Pool
    lock: threading.Lock = field(default_factory=threading.Lock)

    def value(self, change: Change, fc: FieldChange) -> Any:
        """The value to send for a field: from the manifests when it is sensitive."""
        if fc.sensitive:
            return self.secrets(change.kind, change.identity, fc.path)
        return fc.after

    def group_id(self, name: str) -> int:
        with self.lock:
            if name not in self.group_ids:
                raise KeyError(name)
            return self.group_ids[name]

    def learn_group(self, name: str, unique_id: int | None, old_name: str | None = None) -> None:
        with self.lock:
            if old_name is not None:
                self.group_ids.pop(old_name, None)
            if unique_id is None:
                self.group_ids.pop(name, None)
            else:
                self.group_ids[name] = unique_id


class Kind(Protocol):
    """A resource kind: one module in reconciler.kinds plus a line in REGISTRY."""

    name: str

    def read(self, ctx: ReadContext) -> Any:
        """Read the live state this kind needs, with as few requests as the API allows."""

    def plan(self, ctx: PlanContext) -> KindPlan:
        """Compare declared with live (ctx.live[self.name]) and list the changes."""

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> None:
        """Apply changes of this kind that share one action and phase."""

    def snapshot(self, identity: str, live: Any) -> Any:
        """The live object a change touches, normalised (None when absent): fingerprinted."""


def field_changes(
    ctx: PlanContext,
    kind: str,
    identity: str,
    pairs: Iterable[tuple[str, Any, Any]],
) -> list[FieldChange]:
    """FieldChanges for (path, before, after) triples, masking sensitive ones."""
    result = []
    for path, before, after in pairs:
        if ctx.sensitive(kind, identity, path):
            result.append(FieldChange(path=path, sensitive=True))
        else:
            result.append(FieldChange(path=path, before=before, after=after))
    return result


def same(have: Any, want: Any, *, unordered: bool = False) -> bool:
    """Equality as the API means it: booleans are not numbers; sets ignore order."""
    if unordered and isinstance(have, list) and isinstance(want, list):
        return sorted(have, key=repr) == sorted(want, key=repr)
    if isinstance(have, bool) or isinstance(want, bool):
        return have is want
    return bool(have == want)


def nested_changes(have: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Declared keys of a settings object whose live value differs (lists are sets).

    A cheap equality check first; deepdiff only for the objects that differ.
    """
    declared = {key: have.get(key) for key in want}
    if declared == want and all(same(declared[k], v) for k, v in want.items()):
        return []
    diff = DeepDiff(declared, want, ignore_order=True, ignore_type_in_groups=[(int, float)])
    return sorted(str(key) for key in diff.affected_root_keys)
