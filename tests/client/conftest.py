"""A tiny scripted HTTP(S) server for transport tests: each request takes the next reply."""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

CANARY = "CANARY-TOKEN-1f2e3d"


@dataclass
class Reply:
    """One scripted answer; ``action`` "reset" drops the connection, "hang" never answers.

    With ``drip`` (seconds), the body leaves one byte at a time, that far apart.
    """

    status: int = 200
    body: Any = field(default_factory=lambda: {"success": True})
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None
    drip: float | None = None


@dataclass
class Seen:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


class ScriptedServer:
    """Answers with the queued replies in order, then with ``default``."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self.seen: list[Seen] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        scheme = "https" if isinstance(self._server.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def _next(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            return self.replies.popleft() if self.replies else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no 40 ms delayed-ACK stall per reply

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                reply = outer._next(Seen(self.command, self.path, body, dict(self.headers)))
                if reply.action == "reset":
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    self.connection.close()
                    self.close_connection = True
                    return
                if reply.action == "hang":
                    outer.release.wait(10)
                    self.close_connection = True
                    return
                payload = reply.body
                if isinstance(payload, str):
                    payload = payload.encode()
                elif not isinstance(payload, bytes):
                    payload = json.dumps(payload).encode()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                headers.setdefault("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if reply.drip is None:
                    self.wfile.write(payload)
                    return
                self.wfile.flush()
                for i in range(len(payload)):
                    if outer.release.wait(reply.drip):
                        break
                    self.wfile.write(payload[i : i + 1])
                    self.wfile.flush()

            do_POST = _serve
            do_GET = _serve

        return Handler

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def tls_server() -> Iterator[ScriptedServer]:
    """A ScriptedServer behind TLS with a certificate from a throwaway CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    srv = ScriptedServer(tls=context)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def plain_http_port() -> Iterator[int]:
    """A port that answers anything, TLS handshakes included, with a plain HTTP 400."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    listener.close()


@pytest.fixture
def closed_port() -> int:
    """A port on loopback that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
