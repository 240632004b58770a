"""The emulator's lifecycle and request processing: token, route, body, handler
under the store lock, persistence, and the answer as the configured readings say.

The HTTP plumbing (framing, faults, admin routes) is in `handler.py`. The token is
compared, never logged.
"""

from __future__ import annotations

import gc
import hmac
import ipaddress
import json
import logging
import shutil
import signal
import ssl
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from reconciler.sandbox.config import Call, SandboxConfig
from reconciler.sandbox.errors import ApiFailure, SandboxError, invalid
from reconciler.sandbox.faults import FaultInjector
from reconciler.sandbox.handler import SandboxHTTPServer
from reconciler.sandbox.machines import warm_machine_answers
from reconciler.sandbox.readings import Answer, failure, log_line, string_answer, write_done
from reconciler.sandbox.routes import Route, build_routes
from reconciler.sandbox.seed import apply_seed, load_seed
from reconciler.sandbox.store import Encoded, Persister, Store, Text, encode_json

log = logging.getLogger("reconciler.sandbox")

BACKUP_SUBDIR = Path("configuration", "backups", "api")


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the sandbox reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(raw: bytes) -> dict[str, Any]:
    """Strict JSON object, or empty (= `{}`); anything else is a 400."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError):
        raise invalid("request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise invalid("request body must be a JSON object")
    return data


class Sandbox:
    """The emulator as a context manager: a threaded HTTP server in the background."""

    def __init__(self, cfg: SandboxConfig) -> None:
        self.cfg = cfg
        self.routes = build_routes(cfg.backup_query)
        self.faults = FaultInjector(cfg.fail_rate, cfg.fail_kinds, cfg.fail_seed)
        self.stopping = threading.Event()
        self.store = Store(cfg.data_dir)
        self._token = cfg.token.get_secret_value().encode()
        self._calls: list[Call] = []
        self._calls_lock = threading.Lock()
        self._request_count = 0
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._temp_dir: Path | None = None
        self._persister: Persister | None = None
        self._scheme = "http"

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Load state (or the seed), bind, and serve in a daemon thread."""
        cfg = self.cfg
        if not cfg.allow_remote and not is_loopback(cfg.host):
            raise SandboxError(
                f"refusing to bind non-loopback host {cfg.host}: the sandbox has no real "
                "security; pass allow_remote=True (--allow-remote) to do it anyway"
            )
        if (cfg.tls_cert is None) != (cfg.tls_key is None):
            raise SandboxError("TLS needs both tls_cert and tls_key")
        context = self._tls_context()
        if cfg.data_dir is not None:
            cfg.data_dir.mkdir(parents=True, exist_ok=True)
            self.store.backup_dir = cfg.data_dir / BACKUP_SUBDIR
        else:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="shcfg-sandbox-"))
            self.store.backup_dir = self._temp_dir / BACKUP_SUBDIR
        try:
            if not self.store.load_from_disk():
                apply_seed(self.store, load_seed(cfg.seed))
                self.store.persist()
            with self.store.lock:
                warm_machine_answers(self.store)
            self._server = SandboxHTTPServer((cfg.host, cfg.port), self)
        except OSError as exc:
            self._cleanup_temp()
            raise SandboxError(f"cannot start sandbox on {cfg.host}:{cfg.port}: {exc}") from None
        except BaseException:
            self._cleanup_temp()
            raise
        if context is not None:
            self._server.socket = context.wrap_socket(
                self._server.socket, server_side=True, do_handshake_on_connect=False
            )
            self._scheme = "https"
        if cfg.data_dir is not None:
            self._persister = Persister(self.store, durable=cfg.durable)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="shcfg-sandbox",
            daemon=True,
        )
        self._thread.start()
        self._log_knobs()
        return self

    def _tls_context(self) -> ssl.SSLContext | None:
        if self.cfg.tls_cert is None or self.cfg.tls_key is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(self.cfg.tls_cert, self.cfg.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise SandboxError(f"cannot load TLS certificate/key: {exc}") from None
        return context

    def _log_knobs(self) -> None:
        cfg = self.cfg
        log.info("sandbox serving %s (token not shown)", self.url)
        log.info(
            "sandbox knobs: latency_ms=%s fail_rate=%s fail_kinds=%s fail_seed=%s "
            "fault_timeout_s=%s data_dir=%s durable=%s seed=%s tls=%s",
            cfg.latency_ms,
            cfg.fail_rate,
            ",".join(cfg.fail_kinds),
            cfg.fail_seed,
            cfg.fault_timeout_s,
            cfg.data_dir or "(memory)",
            cfg.durable if cfg.data_dir is not None else "n/a",
            "(dict)" if isinstance(cfg.seed, dict) else cfg.seed or "(none)",
            "on" if self._scheme == "https" else "off",
        )
        log.info("%s", log_line(cfg.model_dump()))

    def close(self) -> None:
        """Stop serving; idempotent. Requests sleeping in a fault are cut short."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._persister is not None:
            self._persister.close()
            self._persister = None
        self._cleanup_temp()

    def flush(self) -> None:
        """Write pending state to DATA_DIR/state.json now (no-op without a data dir)."""
        if self._persister is not None:
            self._persister.flush()

    def _cleanup_temp(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- public view -------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL without the token, e.g. `http://127.0.0.1:PORT`."""
        if self._server is None:
            raise SandboxError("sandbox is not running")
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        shown = f"[{host}]" if ":" in host else host
        return f"{self._scheme}://{shown}:{port}"

    @property
    def backup_dir(self) -> Path | None:
        """Where `server/backup` writes (a temp dir removed on close without data_dir)."""
        return self.store.backup_dir

    @property
    def calls(self) -> list[Call]:
        """A copy of the API call log, oldest first."""
        with self._calls_lock:
            return list(self._calls)

    @property
    def request_count(self) -> int:
        """API requests received since start (not reset by `reset_calls`)."""
        with self._calls_lock:
            return self._request_count

    def reset_calls(self) -> None:
        """Empty the call log (benchmarks count one phase at a time)."""
        with self._calls_lock:
            self._calls.clear()

    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain data, with no password material."""
        with self.store.lock:
            return self.store.snapshot()

    # -- request processing (called by the handler threads) --------------------------

    def token_matches(self, given: str) -> bool:
        """Constant-time token comparison."""
        return hmac.compare_digest(given.encode(), self._token)

    def record(self, call: Call) -> None:
        """Append to the call log."""
        with self._calls_lock:
            self._calls.append(call)
            self._request_count += 1

    def process(
        self, token: str, route: Route | None, query: str, raw: bytes, *, bodyless_post: bool
    ) -> Answer:
        """Authenticate, route, parse and run one API request; commit and persist a
        write before acknowledging it. Answers follow the configured readings."""
        cfg = self.cfg
        if not self.token_matches(token):
            return failure(cfg.auth_status, "invalid API token")
        if route is None:
            return failure(404, f"unknown query: {query}")
        if bodyless_post and cfg.refuse_bodyless_post:
            return failure(400, "a POST needs a JSON body: send a query without data as GET")
        try:
            body = parse_body(raw)
        except ApiFailure as exc:
            return failure(exc.status, exc.reason)
        with self.store.lock:
            try:
                result = route.handler(self.store, body)
            except ApiFailure as exc:
                # Handlers raise 404 only for an absent object (`not_found`).
                status = cfg.absent_status if exc.status == 404 else exc.status
                return failure(status, exc.reason)
            except Exception as exc:
                log.error("sandbox: handler error in %s: %s", query, type(exc).__name__)
                return failure(500, f"internal error: {type(exc).__name__}")
            finally:
                if route.write:
                    self.store.changed()
            generation = self.store.generation
        if route.write:
            if self._persister is not None:
                try:
                    self._persister.committed(generation)
                except OSError as exc:
                    # Applied in memory but not on disk: not acknowledged as done.
                    log.error("sandbox: cannot persist state: %s", type(exc).__name__)
                    return failure(500, f"cannot persist state: {type(exc).__name__}")
            return write_done(cfg.write_answer)
        if isinstance(result, Text):
            return string_answer(result, cfg.text_strings)
        return Answer(200, result if isinstance(result, Encoded) else encode_json(result).encode())


def run_sandbox(cfg: SandboxConfig) -> None:
    """Serve until SIGINT/SIGTERM, logging the knobs (never the token) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    previous_level = log.level
    log.setLevel(logging.INFO)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with Sandbox(cfg):
            # The seeded state lives as long as the process: the collector need not walk
            # it on every collection (a pause of tens of ms across all requests).
            gc.collect()
            gc.freeze()
            while not stop.wait(0.2):
                pass
            log.info("sandbox stopping")
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        log.removeHandler(handler)
        log.setLevel(previous_level)
