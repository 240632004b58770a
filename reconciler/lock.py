"""One apply at a time against one server, on this machine.

Two applies that interleave their writes can each leave the other's half-done work in
place. A lock file per server URL under the journal's directory is taken with
``fcntl.flock`` (released by the kernel when the process dies, even by ``kill -9``);
whoever holds it wrote their pid, host and start time into it for the refusal.
Pipelines on several machines must still serialise their applies (docs/safety.md).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import time
from pathlib import Path

from reconciler.errors import ShcfgError


class LockedError(ShcfgError):
    """Another apply against the same server holds the lock."""


def lock_path(directory: Path, url: str) -> Path:
    """The lock file of one server: named by a hash of its URL (no URL in a file name)."""
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return directory / f"apply-{digest}.lock"


class ServerLock:
    """Held for the whole apply (read, plan, write): a context manager."""

    def __init__(self, directory: Path, url: str) -> None:
        self.url = url
        self.path = lock_path(directory, url)
        self._fd: int | None = None

    def __enter__(self) -> ServerLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise ShcfgError(f"lock file {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise LockedError(
                f"another apply against {self.url} is running ({holder}; lock file "
                f"{self.path}): wait for it to finish"
            ) from None
        started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {started}".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None
