"""HTTP front end: token check, fault injection, call log, admin routes.

One request goes: latency -> fault draw -> token -> route -> body -> handler under
the store lock -> persist (writes) -> response. Faults sit in front of everything,
like a failing proxy would. The token is compared, never logged: log lines name
the query, not the path.
"""

from __future__ import annotations

import email.utils
import gc
import hmac
import io
import ipaddress
import json
import logging
import shutil
import signal
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from reconciler.sandbox.config import Call, SandboxConfig
from reconciler.sandbox.errors import ApiFailure, SandboxError, invalid
from reconciler.sandbox.faults import Fault, FaultInjector
from reconciler.sandbox.routes import Route, build_routes, warm_machine_answers
from reconciler.sandbox.seed import apply_seed, load_seed
from reconciler.sandbox.store import Encoded, Persister, Store, encode_json

log = logging.getLogger("reconciler.sandbox")

API_PREFIX = "/api/v1/"
ADMIN_PREFIX = "/_sandbox/"
JSON = "application/json"
BACKUP_SUBDIR = Path("configuration", "backups", "api")


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header value for now, formatted again only when the second changes."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


def is_loopback(host: str) -> bool:
    """Whether binding `host` keeps the sandbox reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _response(success: bool, reason: str | None = None) -> bytes:
    body: dict[str, Any] = {"success": success}
    if reason is not None:
        body["reason"] = reason
    return json.dumps(body).encode()


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


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections when a client opens its pool
    # at once; each dropped SYN costs the client a one-second retransmit.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.aborted: set[int] = set()
        self.aborted_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def shutdown_request(self, request: Any) -> None:
        """Close aborted connections without a FIN first, so the client sees a reset."""
        with self.aborted_lock:
            aborted = id(request) in self.aborted
            self.aborted.discard(id(request))
        if aborted:
            request.close()
        else:
            super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log the exception type only: a traceback could quote the request path."""
        log.warning("sandbox: connection error: %s", type(sys.exc_info()[1]).__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    # Buffered: the status line, headers and body leave in one write (flushed at the end
    # of each request), so the client wakes once per answer, not once per part.
    wbufsize = io.DEFAULT_BUFFER_SIZE
    server: _HTTPServer

    def setup(self) -> None:
        """Disable Nagle: headers and body go out in two writes, and waiting for the
        delayed ACK between them would add ~40 ms to every request."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send_response(self, code: int, message: str | None = None) -> None:
        """The status line and a Date (formatted once a second), no Server header: the
        client parses each header line, on every answer."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", _http_date())

    def handle_expect_100(self) -> bool:
        """The interim answer must leave now: the client waits for it to send the body."""
        proceed = super().handle_expect_100()
        self.wfile.flush()
        return proceed

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the default line contains the path, and the path holds the token."""

    # -- plumbing ------------------------------------------------------------------

    def _send(
        self,
        status: int,
        payload: bytes,
        content_type: str = JSON,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _read_body(self) -> bytes | None:
        """The request body, or None (after answering 400) when it cannot be framed."""
        if self.headers.get("Transfer-Encoding", "").lower() not in ("", "identity"):
            self.close_connection = True
            self._send(400, _response(False, "chunked request bodies are not supported"))
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(400, _response(False, "invalid Content-Length"))
            return None
        return self.rfile.read(length) if length else b""

    def _abort(self) -> None:
        """Drop the connection with a TCP reset and no response."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self.server.aborted_lock:
            self.server.aborted.add(id(self.request))
        self.close_connection = True

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        raw = self._read_body()
        if raw is None:
            return
        if path.startswith(API_PREFIX):
            self._api(path[len(API_PREFIX) :], raw)
        elif path.startswith(ADMIN_PREFIX):
            self._admin(path[len(ADMIN_PREFIX) :].strip("/"))
        else:
            self._send(404, _response(False, "not found"))

    # -- the API ------------------------------------------------------------------

    def _api(self, rest: str, raw: bytes) -> None:
        sb = self.server.sandbox
        token, _, query = rest.partition("/")
        query = unquote(query).strip("/")
        route = sb.routes.get(query)
        write = route.write if route is not None else False
        if sb.cfg.latency_ms:
            sb.stopping.wait(sb.cfg.latency_ms / 1000)
        fault = sb.faults.draw(write)
        if fault is not None:
            status = self._inject(fault, token, route, raw)
            sb.record(Call(query=query, write=write, status=status, fault=fault.kind))
        else:
            status, payload = sb.process(unquote(token), route, query, raw)
            # Recorded before answering, so a client that has its answer sees the call logged.
            sb.record(Call(query=query, write=write, status=status))
            self._send(status, payload)
        if sb.cfg.verbose:
            suffix = f" (fault {fault.kind})" if fault else ""
            log.info("%s %s -> %s%s", self.command, query, status or "no response", suffix)

    def _inject(self, fault: Fault, token: str, route: Route | None, raw: bytes) -> int:
        """Answer (or not) as the fault says; returns the status sent, 0 for none."""
        sb = self.server.sandbox
        if fault.kind in ("500", "503", "429"):
            status = int(fault.kind)
            retry = (("Retry-After", "0"),) if status in (503, 429) else ()
            self._send(status, _response(False, f"injected fault: {status}"), headers=retry)
            return status
        if fault.kind == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self._send(502, page, content_type="text/html; charset=utf-8")
            return 502
        if fault.commit_first:
            sb.process(unquote(token), route, "", raw)
        if fault.kind == "timeout":
            sb.stopping.wait(sb.cfg.fault_timeout_s)
        self._abort()
        return 0

    # -- admin ---------------------------------------------------------------------

    def _admin(self, name: str) -> None:
        sb = self.server.sandbox
        if not sb.token_matches(self.headers.get("X-Sandbox-Token", "")):
            self._send(401, _response(False, "missing or wrong X-Sandbox-Token"))
            return
        if name == "calls" and self.command == "GET":
            payload = json.dumps([c.model_dump() for c in sb.calls]).encode()
        elif name == "state" and self.command == "GET":
            payload = json.dumps(sb.snapshot()).encode()
        elif name in ("reset-calls", "reset") and self.command == "POST":
            sb.reset_calls()
            payload = _response(True)
        else:
            self._send(404, _response(False, f"no admin route {self.command} {name}"))
            return
        self._send(200, payload)


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
        self._server: _HTTPServer | None = None
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
            self._server = _HTTPServer((cfg.host, cfg.port), self)
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
            self._persister = Persister(self.store)
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
            "fault_timeout_s=%s backup_query=%s data_dir=%s seed=%s tls=%s",
            cfg.latency_ms,
            cfg.fail_rate,
            ",".join(cfg.fail_kinds),
            cfg.fail_seed,
            cfg.fault_timeout_s,
            cfg.backup_query,
            cfg.data_dir or "(memory)",
            "(dict)" if isinstance(cfg.seed, dict) else cfg.seed or "(none)",
            "on" if self._scheme == "https" else "off",
        )

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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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

    def process(self, token: str, route: Route | None, query: str, raw: bytes) -> tuple[int, bytes]:
        """Authenticate, route, parse and run one API request; commit + persist writes."""
        if not self.token_matches(token):
            return 401, _response(False, "invalid API token")
        if route is None:
            return 404, _response(False, f"unknown query: {query}")
        try:
            body = parse_body(raw)
        except ApiFailure as exc:
            return exc.status, _response(False, exc.reason)
        with self.store.lock:
            try:
                result = route.handler(self.store, body)
            except ApiFailure as exc:
                return exc.status, _response(False, exc.reason)
            except Exception as exc:
                log.error("sandbox: handler error in %s: %s", query, type(exc).__name__)
                return 500, _response(False, f"internal error: {type(exc).__name__}")
            finally:
                if route.write:
                    self.store.changed()
            if route.write and self._persister is not None:
                self._persister.mark_dirty()
            return 200, result if isinstance(result, Encoded) else encode_json(result).encode()


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
