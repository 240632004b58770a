"""Files shcfg reads as secrets and writes as results: one place for the checks.

Every file the tool writes (saved plans, exports, the journal, the lock) is checked
before the first write to the server, and written atomically, so a bad path is one
clear line and never a half-written file or a half-run apply.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from reconciler.errors import ShcfgError

# A token or a secret is a line; a bigger "secret" is a mistake (/dev/zero, a log file).
SECRET_FILE_LIMIT = 64 * 1024


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def read_regular_file(path: Path, what: str, limit: int) -> tuple[bytes, int]:
    """Bytes and mode of a regular file of at most `limit` bytes; else refused, with why.

    Opened non-blocking and checked on the open descriptor: a FIFO cannot hang the run
    and a device cannot feed it gigabytes, and nothing can be swapped in between.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ShcfgError(f"{what} {path}: cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ShcfgError(f"{what} {path}: {_kind(mode)}: only a regular file is read")
        data = fh.read(limit + 1)
    if len(data) > limit:
        size = f"{limit // 1024} KiB" if limit < 1 << 20 else f"{limit >> 20} MiB"
        raise ShcfgError(f"{what} {path}: larger than {size}: refusing to read it")
    return data, mode


def read_secret_file(path: Path, what: str) -> tuple[str, int]:
    """Text and mode of a token or secret file (a regular file of at most 64 KiB)."""
    data, mode = read_regular_file(path, what, SECRET_FILE_LIMIT)
    try:
        return data.decode("utf-8"), mode
    except UnicodeDecodeError:
        raise ShcfgError(f"{what} {path}: not UTF-8 text") from None


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path("/")


def check_directory(directory: Path, what: str, *, shown: Path | None = None) -> None:
    """Fail now, with the reason, when files cannot be created in `directory`.

    Creates the directory (and its parents) and a probe file in it: only the kernel
    knows whether /proc/self or a read-only mount accepts a file. Errors name `shown`
    (the path the user gave), else the directory.
    """
    name = f"{what} {shown or directory}"
    existing = _nearest_existing(directory)
    if not existing.is_dir():
        raise ShcfgError(f"{name}: {existing} is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".shcfg-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ShcfgError(f"{name}: cannot write in {directory}: {exc.strerror or exc}") from None


def check_writable(path: Path, what: str) -> None:
    """Fail now when `path` cannot be written as a file (see check_directory)."""
    if path.is_dir():
        raise ShcfgError(f"{what} {path}: is a directory")
    check_directory(path.parent, what, shown=path)


def write_atomic(path: Path, text: str, what: str | None = None) -> None:
    """Write `text` to `path` all at once: a reader sees the old file or the new one.

    The one atomic write of shcfg (a temporary file in the same directory, fsync,
    rename). Lone surrogates (possible in strings from a server) are written
    backslash-escaped rather than failing half-way. Errors name `what` (the option the
    path came from) when given.
    """
    name = f"{what} {path}: cannot write" if what else f"cannot write {path}"
    existing = _nearest_existing(path.parent)
    if not existing.is_dir():
        raise ShcfgError(f"{name}: {existing} is not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ShcfgError(f"{name}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ShcfgError(f"{name}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
