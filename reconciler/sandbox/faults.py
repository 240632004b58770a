"""Named fault knobs: latency and seeded random failures of API requests.

Every draw comes from one `random.Random(fail_seed)`, so a run with the same seed
and the same request order fails the same requests the same way.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

#: Every fault the sandbox can inject, by the name used in `fail_kinds`.
FAULT_KINDS: tuple[str, ...] = ("500", "503", "429", "reset", "timeout", "html")
#: Faults that drop the connection: a write may or may not have been committed first.
UNKNOWN_OUTCOME = frozenset({"reset", "timeout"})


@dataclass(frozen=True)
class Fault:
    """One injected fault; `commit_first` tells whether a write is applied before the
    connection drops (the client cannot know: outcome unknown)."""

    kind: str
    commit_first: bool = False


class FaultInjector:
    """Decides, per API request, whether and how it fails."""

    def __init__(self, fail_rate: float, fail_kinds: tuple[str, ...], fail_seed: int) -> None:
        self.fail_rate = fail_rate
        self.fail_kinds = fail_kinds
        self._rng = random.Random(fail_seed)
        self._lock = threading.Lock()

    def draw(self, write: bool) -> Fault | None:
        """The fault for the next request, or None. Draws nothing when faults are off,
        so enabling them never changes anything else."""
        if self.fail_rate <= 0 or not self.fail_kinds:
            return None
        with self._lock:
            if self._rng.random() >= self.fail_rate:
                return None
            kind = self._rng.choice(self.fail_kinds)
            commit_first = write and kind in UNKNOWN_OUTCOME and self._rng.random() < 0.5
        return Fault(kind, commit_first)
