"""A server that answers a read badly: one-line error naming the query, and no write at all."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import TOKEN, Shcfg
from tests.reliability.conftest import MakeShcfg, ScriptedProxy, scripted
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


@pytest.fixture(params=sorted(BAD))
def hostile(
    request: pytest.FixtureRequest, make_shcfg: MakeShcfg
) -> Iterator[tuple[Shcfg, ScriptedProxy]]:
    """The sandbox behind a proxy that answers `TARGET` with one scripted bad response."""
    shcfg = make_shcfg()
    bad = BAD[request.param]
    with scripted(shcfg.sandbox.url, {TARGET: lambda body: bad}) as proxy:
        yield shcfg, proxy


def test_bad_read_gives_one_line_error_and_no_write(
    hostile: tuple[Shcfg, ScriptedProxy],
) -> None:
    shcfg, proxy = hostile
    url = proxy.url
    path = shcfg.manifest(MANIFEST)
    with fast_backoff():  # a retried 502 would otherwise wait 7.5 s of real backoff
        result = shcfg("apply", str(path), "--auto-approve", env={"SIMPLEHELP_URL": url})
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {TARGET}: "), lines[0]
    assert "Traceback" not in result.stderr and TOKEN not in result.output
    assert proxy.seen.count(TARGET) >= 1
    assert shcfg.writes() == []
    assert "server/backup" not in proxy.seen
