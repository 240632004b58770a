"""The contexts a kind works in: reading live state, planning, applying; and the result
of a kind's plan. Built by `reconcile.py` and `apply.py`, passed to each kind."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reconciler.plan import Change, FieldChange, Undeclared

if TYPE_CHECKING:
    from reconciler.client.api import SimpleHelpClient
    from reconciler.manifest.loader import LoadedManifest
    from reconciler.manifest.models import Manifest


def is_ignored(model: Manifest, kind: str, identity: str) -> bool:
    """True when an `ignore` glob of this kind matches: never changed, never pruned."""
    patterns: Sequence[str] = getattr(model.ignore, kind, None) or ()
    return any(fnmatch.fnmatchcase(identity, p) for p in patterns)


@dataclass
class ReadContext:
    """What a kind's read needs. `everything`: read every object, not only declared ones
    (export); otherwise read only what the declared objects need (plan)."""

    client: SimpleHelpClient
    model: Manifest
    pool: ThreadPoolExecutor
    everything: bool = False
    _shared: dict[str, Future[Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ignored(self, kind: str, identity: str) -> bool:
        return not self.everything and is_ignored(self.model, kind, identity)

    def once(self, key: str, read: Callable[[], Any]) -> Any:
        """`read()` once per read phase, however many kinds ask (e.g. machines/list)."""
        with self._lock:
            future = self._shared.get(key)
            owner = future is None
            if future is None:
                future = self._shared[key] = Future()
        if owner:
            try:
                future.set_result(read())
            except BaseException as exc:  # handed to every kind that waits for it
                future.set_exception(exc)
        return future.result()


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
        return is_ignored(self.manifest.model, kind, identity)

    def sensitive(self, kind: str, identity: str, path: str) -> bool:
        return (kind, identity, path.split(".")[0]) in self.manifest.secret_refs


@dataclass
class ApplyContext:
    """What apply needs beyond the plan: the client, secret values, IDs learnt on the way."""

    client: SimpleHelpClient
    secrets: Callable[[str, str, str], Any]
    group_ids: dict[str, int]
    pool: ThreadPoolExecutor
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The server had no group to read permission names from, so plan could not check them.
    permissions_unchecked: bool = False

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
