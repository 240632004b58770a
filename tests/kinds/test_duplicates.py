"""A server answer that repeats an ID or a name stops the run before any plan (issue 12.12).

A proxy in front of a sandbox duplicates one entry of one list answer; the CLI must fail
with one line naming the query, and write nothing.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from reconciler.sandbox import Sandbox, SandboxConfig
from tests.e2e.conftest import TOKEN, Shcfg

Entry = dict[str, Any]
SEED = {
    "groups": [{"name": "Helpdesk"}, {"name": "Tier 2"}],
    "technicians": [{"username": "alice"}, {"username": "bob"}],
    "machines": [{"machineID": "SG_1"}, {"machineID": "SG_2"}],
}
MANIFEST = """\
version: 1
groups:
  - name: Helpdesk
technicians:
  - username: alice
machines:
  - machineID: SG_1
    notes: hello
"""


def _same_id(entry: Entry) -> Entry:
    name = "username" if "username" in entry else "name"
    return {**entry, name: entry[name] + "-twin"}


def _same_name(entry: Entry) -> Entry:
    return {**entry, "uniqueID": int(entry["uniqueID"]) + 1000}


CASES: dict[str, tuple[str, Callable[[Entry], Entry], str]] = {
    "technician-id": ("technicians/list", _same_id, "two technicians with uniqueID"),
    "technician-name": ("technicians/list", _same_name, "two technicians named 'alice'"),
    "group-id": ("groups/list", _same_id, "two groups with uniqueID"),
    "group-name": ("groups/list", _same_name, "two groups named 'Helpdesk'"),
    "machine-id": ("machines/list", dict, "two machines with machineID 'SG_1'"),
}


class TwinProxy(ThreadingHTTPServer):
    """Forwards to a sandbox; in the answer to `query`, the first entry appears twice
    (the copy changed by `twin`)."""

    daemon_threads = True

    def __init__(self, upstream: Sandbox, query: str, twin: Callable[[Entry], Entry]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = urlsplit(upstream.url)
        self.query = query
        self.twin = twin


class _Handler(BaseHTTPRequestHandler):
    server: TwinProxy

    def log_message(self, format: str, *args: object) -> None:
        """Silent: the path holds the token."""

    def do_GET(self) -> None:
        self.do_POST()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        upstream = http.client.HTTPConnection(
            self.server.upstream.hostname or "", self.server.upstream.port
        )
        upstream.request(
            self.command, self.path, body or None, {"Content-Type": "application/json"}
        )
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        if self.path.endswith("/" + self.server.query) and answer.status == 200:
            entries = json.loads(data)
            sorted_entries = sorted(
                entries, key=lambda e: str(e.get("username") or e.get("name") or e.get("machineID"))
            )
            entries.append(self.server.twin(sorted_entries[0]))
            data = json.dumps(entries).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[tuple[Shcfg, str, str]]:
    query, twin, message = CASES[request.param]
    with Sandbox(SandboxConfig(token=TOKEN, seed=SEED)) as sandbox:
        proxy = TwinProxy(sandbox, query, twin)
        thread = threading.Thread(target=proxy.serve_forever, daemon=True)
        thread.start()
        try:
            yield (
                Shcfg(sandbox, tmp_path),
                f"http://127.0.0.1:{proxy.server_address[1]}",
                (f"Error: {query}: the server returned {message}"),
            )
        finally:
            proxy.shutdown()
            proxy.server_close()


def test_duplicate_in_a_server_answer_stops_before_any_plan(
    case: tuple[Shcfg, str, str],
) -> None:
    shcfg, url, expected = case
    path = shcfg.manifest(MANIFEST)
    result = shcfg("apply", str(path), "--auto-approve", env={"SIMPLEHELP_URL": url})
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), result.stderr
    assert shcfg.writes() == []
    assert TOKEN not in result.output
