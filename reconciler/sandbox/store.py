"""The emulated server's state: indexed dicts behind one lock, persisted atomically.

Handlers run with `lock` held and validate a whole request before mutating
anything, so a rejected request commits nothing. Every index is a dict, so each
handler costs the size of its result, not the size of the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
STATE_VERSION = 1
FIRST_ID = 1
#: Minimum seconds between two background writes of state.json.
PERSIST_INTERVAL_S = 0.5

Path_ = tuple[str, ...]
#: The one JSON encoding of every answer: compact (10% fewer bytes for the 10,000-machine
#: lists), one encoder for all requests.
encode_json = json.JSONEncoder(separators=(",", ":")).encode


class Encoded(bytes):
    """An answer a handler has already encoded as JSON: sent as is."""


class Text(str):
    """A String answer (hostname, a machine-group property value): a JSON string by
    default, raw `text/plain` under the `text_strings` reading."""


def hash_secret(secret: str) -> str:
    """Salted SHA-256: enough for an emulator, and cheap for bulk benchmarks."""
    salt = os.urandom(16).hex()
    digest = hashlib.sha256((salt + secret).encode()).hexdigest()
    return f"sha256${salt}${digest}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """Whether `secret` matches a value made by `hash_secret` (used by tests)."""
    if not stored:
        return False
    _, salt, digest = stored.split("$")
    return hmac.compare_digest(hashlib.sha256((salt + secret).encode()).hexdigest(), digest)


class Store:
    """All server state. Callers hold `lock` around every read or write."""

    def __init__(self, data_dir: Path | None = None, backup_dir: Path | None = None) -> None:
        self.lock = threading.Lock()
        self.data_dir = data_dir
        self.backup_dir = backup_dir
        self.next_id = FIRST_ID
        self.hostname = ""
        self.restrictions: list[str] = []
        # technician uniqueID -> {"obj": Technician Object, "passwordHash", "totpRemoved"}
        self.techs: dict[int, dict[str, Any]] = {}
        self.tech_by_username: dict[str, int] = {}
        # group uniqueID -> {"obj": Group Object, "permissions", "passwordHash"}
        self.groups: dict[int, dict[str, Any]] = {}
        self.group_by_name: dict[str, int] = {}
        # machineID -> {"obj": Machine Object, "notes", "warnings", "properties",
        #               "hardware", "monitoring"}
        self.machines: dict[str, dict[str, Any]] = {}
        # every machine group path (with all prefixes) -> its properties
        self.machine_groups: dict[Path_, dict[str, str]] = {}
        self.history: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        self.support_queue: list[dict[str, Any]] = []
        self.support_sessions: list[dict[str, Any]] = []
        self.access_sessions: list[dict[str, Any]] = []
        # part -> machineID -> that machine's JSON, until the next write (`changed`)
        self._fragments: dict[str, dict[str, bytes]] = {}
        # bumped by every write request: tells the persister how new a snapshot is
        self.generation = 0

    # -- identity -------------------------------------------------------------

    def new_id(self) -> int:
        """One increasing sequence shared by technicians and groups: IDs never repeat
        and never collide across kinds, so mixing them up in a client gives a 404."""
        value = self.next_id
        self.next_id += 1
        return value

    def add_machine_group(self, path: Path_) -> None:
        """Register a machine group path and all its ancestors."""
        for end in range(1, len(path) + 1):
            self.machine_groups.setdefault(path[:end], {})

    # -- encoded answers -------------------------------------------------------

    def json_array(self, part: str, ids: Iterable[str], build: Callable[[str], Any]) -> Encoded:
        """A JSON array of one item per machine, each item encoded once and reused until
        the next write: a 10,000-machine answer is then a join, not a 35 ms encode that
        holds the interpreter while every other request waits."""
        cache = self._fragments.setdefault(part, {})
        items = []
        for key in ids:
            item = cache.get(key)
            if item is None:
                item = cache[key] = encode_json(build(key)).encode()
            items.append(item)
        return Encoded(b"[" + b",".join(items) + b"]")

    def changed(self) -> None:
        """Forget every encoded item and count a generation: called after each write
        request, whatever it did."""
        self._fragments.clear()
        self.generation += 1

    # -- persistence ------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        """Everything, password hashes included: the content of state.json and backups."""
        return {
            "version": STATE_VERSION,
            "nextID": self.next_id,
            "hostname": self.hostname,
            "techRestrictions": self.restrictions,
            "technicians": list(self.techs.values()),
            "groups": list(self.groups.values()),
            "machines": list(self.machines.values()),
            "machineGroups": [
                {"path": list(path), "properties": props}
                for path, props in self.machine_groups.items()
            ],
            "history": self.history,
            "alerts": self.alerts,
            "supportQueue": self.support_queue,
            "supportSessions": self.support_sessions,
            "accessSessions": self.access_sessions,
        }

    def load(self, data: dict[str, Any]) -> None:
        """Restore what `dump` wrote, rebuilding the indexes."""
        self.next_id = int(data["nextID"])
        self.hostname = data["hostname"]
        self.restrictions = list(data["techRestrictions"])
        self.techs = {t["obj"]["uniqueID"]: t for t in data["technicians"]}
        self.tech_by_username = {t["obj"]["username"]: uid for uid, t in self.techs.items()}
        self.groups = {g["obj"]["uniqueID"]: g for g in data["groups"]}
        self.group_by_name = {g["obj"]["name"]: gid for gid, g in self.groups.items()}
        self.machines = {m["obj"]["machineID"]: m for m in data["machines"]}
        self.machine_groups = {tuple(g["path"]): g["properties"] for g in data["machineGroups"]}
        self.history = data["history"]
        self.alerts = data["alerts"]
        self.support_queue = data["supportQueue"]
        self.support_sessions = data["supportSessions"]
        self.access_sessions = data["accessSessions"]
        self.changed()

    def snapshot(self) -> dict[str, Any]:
        """The whole state for tests and the admin route, with no password material."""
        data = json.loads(json.dumps(self.dump()))
        for tech in data["technicians"]:
            tech["passwordSet"] = tech.pop("passwordHash") is not None
        for group in data["groups"]:
            group["passwordSet"] = group.pop("passwordHash") is not None
        return data

    def state_path(self) -> Path | None:
        """Where state persists, or None when the sandbox is in-memory only."""
        return None if self.data_dir is None else self.data_dir / STATE_FILE

    def load_from_disk(self) -> bool:
        """Load state.json if present; False when there is none (then the seed applies)."""
        path = self.state_path()
        if path is None or not path.exists():
            return False
        self.load(json.loads(path.read_text(encoding="utf-8")))
        return True

    def serialise(self) -> bytes:
        """The state.json payload (compact: it is rewritten often)."""
        return json.dumps(self.dump(), separators=(",", ":")).encode()

    def persist(self) -> None:
        """Write state.json now, atomically: temp file in the same dir, fsync, os.replace."""
        path = self.state_path()
        if path is not None:
            write_atomic(path, self.serialise())


class Persister:
    """Writes state.json (atomically, see `write_atomic`) after writes.

    Durable (the default): `committed` returns only once a state at least as new as the
    write is on disk, so an acknowledged write survives `kill -9`, as on a real server.
    Writers that arrive while a file is being written share the next one (group
    commit): the file is written outside the store lock, so reads never wait for it.

    Write-behind (`durable=False`, for benchmarks): `committed` returns at once; a
    background thread writes at most once per `interval` seconds, so a burst of writes
    costs one serialisation (~0.1 s for 10,000 machines), and a `kill -9` may lose the
    last `interval` seconds. `close` writes whatever is still pending.
    """

    def __init__(
        self, store: Store, *, durable: bool = True, interval: float = PERSIST_INTERVAL_S
    ) -> None:
        self._store = store
        self._durable = durable
        self._interval = interval
        self._io_lock = threading.Lock()
        with store.lock:
            self._written = store.generation
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        if not durable:
            self._thread = threading.Thread(target=self._run, name="sandbox-persist", daemon=True)
            self._thread.start()

    def committed(self, generation: int) -> None:
        """Called (store lock released) after a successful write of `generation`."""
        if self._durable:
            self._write(generation)
        else:
            self._wake.set()

    def flush(self) -> None:
        """Write the state now if anything changed since the last write."""
        with self._store.lock:
            generation = self._store.generation
        self._write(generation)

    def _write(self, at_least: int) -> None:
        """Write the current state unless a file as new as `at_least` is already written.
        Snapshots are taken under `_io_lock`, so the files written only get newer."""
        with self._io_lock:
            if self._written >= at_least:
                return
            with self._store.lock:
                generation = self._store.generation
                payload = self._store.serialise()
            path = self._store.state_path()
            if path is not None:
                write_atomic(path, payload)
            self._written = generation

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stopping.is_set():
                return
            self._wake.clear()
            self.flush()
            self._stopping.wait(self._interval)

    def close(self) -> None:
        """Stop the write-behind thread (if any) and write any pending change."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        self.flush()


def write_atomic(path: Path, payload: bytes) -> None:
    """Replace `path` with `payload` so a reader sees the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
