"""A server that answers a read badly: one-line error naming the query, and no write at all."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from reconciler.sandbox import Sandbox
from tests.e2e.conftest import TOKEN
from tests.reliability.conftest import MakeShcfg
from tools.soak import fast_backoff

TARGET = "technicians/list"
MANIFEST = """\
version: 1
server:
  hostname: support.example.com
groups:
  - name: Helpdesk
technicians:
  - username: alice
    groups: [Helpdesk]
"""
BAD: dict[str, tuple[int, dict[str, str], bytes]] = {
    "malformed-json": (200, {}, b'[{"uniqueID": 1, "username": '),
    "html-page": (200, {"Content-Type": "text/html"}, b"<html><h1>Login</h1></html>"),
    "html-error": (502, {"Content-Type": "text/html"}, b"<html><h1>Bad Gateway</h1></html>"),
    "wrong-types": (200, {}, b'[{"uniqueID": "one", "username": 5, "enabled": "yes"}]'),
    "wrong-shape": (200, {}, b'{"technicians": []}'),
    "missing-fields": (200, {}, b'[{"displayName": "Nobody"}]'),
    "nan": (200, {}, b'[{"uniqueID": NaN, "username": "x"}]'),
    "truncated": (200, {"Content-Length": "5000"}, b'[{"uniqueID": 1, "userna'),
    "oversized": (200, {"Content-Length": str(10**12)}, b"[]"),
    "redirect": (302, {"Location": "http://attacker.invalid/steal"}, b""),
}


class HostileProxy(ThreadingHTTPServer):
    """Forwards to a sandbox, but answers `TARGET` with a scripted bad response."""

    daemon_threads = True

    def __init__(self, upstream: Sandbox, mode: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = urlsplit(upstream.url)
        self.mode = mode
        self.seen: list[str] = []


class _Handler(BaseHTTPRequestHandler):
    server: HostileProxy

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the path holds the token."""

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        query = self.path.split("/", 4)[-1]
        self.server.seen.append(query)
        if query == TARGET:
            status, headers, payload = BAD[self.server.mode]
            self.send_response(status)
            headers = {"Content-Type": "application/json", **headers}
            headers.setdefault("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.close_connection = True
            return
        upstream = http.client.HTTPConnection(
            self.server.upstream.hostname or "", self.server.upstream.port
        )
        upstream.request(self.command, self.path, body, {"Content-Type": "application/json"})
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()


@pytest.fixture(params=sorted(BAD))
def hostile(request: pytest.FixtureRequest, make_shcfg: MakeShcfg) -> Iterator[HostileProxy]:
    shcfg = make_shcfg()
    proxy = HostileProxy(shcfg.sandbox, request.param)
    proxy.shcfg = shcfg  # type: ignore[attr-defined]
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_bad_read_gives_one_line_error_and_no_write(hostile: HostileProxy) -> None:
    shcfg = hostile.shcfg  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{hostile.server_address[1]}"
    path = shcfg.manifest(MANIFEST)
    with fast_backoff():  # a retried 502 would otherwise wait 7.5 s of real backoff
        result = shcfg("apply", str(path), "--auto-approve", env={"SIMPLEHELP_URL": url})
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {TARGET}: "), lines[0]
    assert "Traceback" not in result.stderr and TOKEN not in result.output
    assert hostile.seen.count(TARGET) >= 1
    assert shcfg.writes() == []
    assert "server/backup" not in hostile.seen
