"""HTTP front end: framing, fault injection, call log, admin routes.

One request goes: latency -> fault draw -> `Sandbox.process` (token, route, body,
handler, persistence) -> answer. Faults sit in front of everything, like a failing
proxy would. Log lines name the query, never the path: the path holds the token.
"""

from __future__ import annotations

import email.utils
import io
import json
import logging
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from reconciler.sandbox.config import Call
from reconciler.sandbox.faults import Fault
from reconciler.sandbox.readings import JSON, SUCCESS_BODY, Answer, failure
from reconciler.sandbox.routes import Route

if TYPE_CHECKING:
    from reconciler.sandbox.server import Sandbox

log = logging.getLogger("reconciler.sandbox")

API_PREFIX = "/api/v1/"
ADMIN_PREFIX = "/_sandbox/"
VERSION_PAGE = "/allversions"

_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header value for now, formatted again only when the second changes."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, email.utils.formatdate(now, usegmt=True))
    return _date_cache[1]


class SandboxHTTPServer(ThreadingHTTPServer):
    """A threaded server that knows its `Sandbox` and can reset connections."""

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
    server: SandboxHTTPServer

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

    def _send(self, answer: Answer, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(answer.status)
        if answer.content_type is not None:
            self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def _read_body(self) -> bytes | None:
        """The request body, or None (after answering 400) when it cannot be framed."""
        if self.headers.get("Transfer-Encoding", "").lower() not in ("", "identity"):
            self.close_connection = True
            self._send(failure(400, "chunked request bodies are not supported"))
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(failure(400, "invalid Content-Length"))
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
        elif path == VERSION_PAGE:
            self._version_page()
        else:
            self._send(failure(404, "not found"))

    def _version_page(self) -> None:
        """The public page a real server serves without a token (`shcfg doctor` reads it)."""
        version = self.server.sandbox.cfg.server_version
        body = f"SimpleHelp Server\nSH Version: {version}\n".encode()
        self._send(Answer(200, body, "text/plain; charset=utf-8"))

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
        bodyless_post = self.command == "POST" and not raw.strip()
        if fault is not None:
            status = self._inject(fault, token, route, raw, bodyless_post)
            sb.record(Call(query=query, write=write, status=status, fault=fault.kind))
        else:
            answer = sb.process(unquote(token), route, query, raw, bodyless_post=bodyless_post)
            # Recorded before answering, so a client that has its answer sees the call logged.
            sb.record(Call(query=query, write=write, status=answer.status))
            self._send(answer)
            status = answer.status
        if sb.cfg.verbose:
            suffix = f" (fault {fault.kind})" if fault else ""
            log.info("%s %s -> %s%s", self.command, query, status or "no response", suffix)

    def _inject(
        self, fault: Fault, token: str, route: Route | None, raw: bytes, bodyless_post: bool
    ) -> int:
        """Answer (or not) as the fault says; returns the status sent, 0 for none."""
        sb = self.server.sandbox
        if fault.kind in ("500", "503", "429"):
            status = int(fault.kind)
            retry = (("Retry-After", "0"),) if status in (503, 429) else ()
            self._send(failure(status, f"injected fault: {status}"), headers=retry)
            return status
        if fault.kind == "html":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self._send(Answer(502, page, "text/html; charset=utf-8"))
            return 502
        if fault.commit_first:
            sb.process(unquote(token), route, "", raw, bodyless_post=bodyless_post)
        if fault.kind == "timeout":
            sb.stopping.wait(sb.cfg.fault_timeout_s)
        self._abort()
        return 0

    # -- admin ---------------------------------------------------------------------

    def _admin(self, name: str) -> None:
        sb = self.server.sandbox
        if not sb.token_matches(self.headers.get("X-Sandbox-Token", "")):
            self._send(failure(401, "missing or wrong X-Sandbox-Token"))
            return
        if name == "calls" and self.command == "GET":
            payload = json.dumps([c.model_dump() for c in sb.calls]).encode()
        elif name == "state" and self.command == "GET":
            payload = json.dumps(sb.snapshot()).encode()
        elif name in ("reset-calls", "reset") and self.command == "POST":
            sb.reset_calls()
            payload = SUCCESS_BODY
        else:
            self._send(failure(404, f"no admin route {self.command} {name}"))
            return
        self._send(Answer(200, payload, JSON))
