"""The apply journal: append-only JSON lines an operator reads after a failed pipeline.

Every line passes the same redaction as the terminal, so a server reason echoing a
password that was sent is masked in the file as it is on the screen (docs/safety.md).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.errors import ShcfgError


def _unchanged(text: str) -> str:
    return text


class Journal:
    """JSON lines, one per event; `path` None writes nothing (`--journal ''`)."""

    def __init__(self, path: Path | None, redact: Callable[[str], str] = _unchanged) -> None:
        self.path = path
        self.redact = redact
        self._lock = threading.Lock()
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ShcfgError(f"--journal {path}: {exc.strerror or exc}") from None

    def write(self, event: str, **data: Any) -> None:
        if self.path is None:
            return
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "event": event,
            **data,
        }
        line = self.redact(json.dumps(record, sort_keys=True, default=str))
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def owed_secrets(path: Path | None) -> list[tuple[str, str]]:
    """Objects whose write-only password a journaled apply meant to set but never confirmed.

    A password cannot be read back, so after a failed or killed apply only the journal
    knows that an object was created without one.
    """
    if path is None or not path.is_file():
        return []
    owed: dict[tuple[str, str], None] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by a killed process
        if not isinstance(record, dict) or "password" not in (record.get("fields") or []):
            continue
        key = (str(record.get("kind")), str(record.get("identity")))
        if record.get("event") == "intent":
            owed[key] = None
        elif record.get("event") == "applied":
            owed.pop(key, None)
    return list(owed)
