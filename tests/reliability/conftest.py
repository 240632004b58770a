"""Reliability fixtures: scripted faults and proxies; `make_shcfg` (sandboxes built per
test, the in-process CLI) comes from the e2e fixtures."""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from reconciler.sandbox.faults import Fault
from tests.e2e.conftest import MakeShcfg, make_shcfg


class ScriptedFaults:
    """Stands in for the sandbox's FaultInjector: the Nth write gets the Nth scripted fault."""

    def __init__(self, writes: list[Fault | None]) -> None:
        self.fail_rate = 1.0
        self._writes = list(writes)
        self._lock = threading.Lock()

    def draw(self, write: bool) -> Fault | None:
        with self._lock:
            if not write or not self._writes:
                return None
            return self._writes.pop(0)


# A scripted answer: the request body in; status, headers and body out.
Answer = Callable[[bytes], tuple[int, dict[str, str], bytes]]


class ScriptedProxy(ThreadingHTTPServer):
    """Forwards to a sandbox, but answers the queries in `answers` itself (a hostile or
    careless server); `seen` lists every query asked, in order."""

    daemon_threads = True

    def __init__(self, upstream: str, answers: dict[str, Answer]) -> None:
        super().__init__(("127.0.0.1", 0), _Scripted)
        self.upstream = urlsplit(upstream)
        self.answers = answers
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Scripted(BaseHTTPRequestHandler):
    server: ScriptedProxy

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the path holds the token."""

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = self.path.split("/", 4)[-1]
        self.server.seen.append(query)
        if query in self.server.answers:
            status, headers, data = self.server.answers[query](body)
            self.close_connection = True
        else:
            upstream = http.client.HTTPConnection(
                self.server.upstream.hostname or "", self.server.upstream.port
            )
            upstream.request(self.command, self.path, body, {"Content-Type": "application/json"})
            answer = upstream.getresponse()
            status, headers, data = answer.status, {}, answer.read()
            upstream.close()
        self.send_response(status)
        headers = {"Content-Type": "application/json", **headers}
        headers.setdefault("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@contextlib.contextmanager
def scripted(upstream: str, answers: dict[str, Answer]) -> Iterator[ScriptedProxy]:
    """A ScriptedProxy serving in a thread for the duration."""
    proxy = ScriptedProxy(upstream, answers)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()


__all__ = ["MakeShcfg", "ScriptedFaults", "ScriptedProxy", "make_shcfg", "scripted"]
