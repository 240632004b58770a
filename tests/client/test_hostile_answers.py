"""Hostile answers end in one clear error, within bounds (issue 12, points 8 to 10)."""

from __future__ import annotations

import threading
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.client import SimpleHelpClient
from reconciler.client.answers import MAX_DEPTH, too_deep
from reconciler.client.errors import (
    NotFoundError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from reconciler.client.transport import Transport
from tests.client.conftest import CANARY, Reply, ScriptedServer


def make(url: str, **kwargs: Any) -> Transport:
    options: dict[str, Any] = {"backoff_factor": 0.0, "backoff_jitter": 0.0}
    options.update(kwargs)
    return Transport(url, CANARY, **options)


@pytest.fixture
def client(server: ScriptedServer) -> Iterator[SimpleHelpClient]:
    c = SimpleHelpClient(server.url, CANARY, retries=0, backoff_factor=0)
    yield c
    c.close()


def finishes(action: Callable[[], object], within: float = 20.0) -> BaseException | None:
    """Run ``action`` on a thread; fail the test if it is still running after ``within``."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            action()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within)
    assert not thread.is_alive(), f"still running after {within} s"
    return outcome[0]


# --- deep JSON ---------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_depth_limit_is_exact() -> None:
    assert not too_deep(nested(MAX_DEPTH))
    assert too_deep(nested(MAX_DEPTH + 1))
    assert not too_deep(b'["' + b"[" * 500 + b'"]')  # brackets inside strings do not count
    assert not too_deep(b'[{"a": "\\"[[[["}]' * 100)
    assert not too_deep(b"[" * 500)  # unbalanced: left for the JSON decoder to refuse
    # Adjacent strings whose brackets would pair up across the gap between them.
    assert not too_deep(b'["' + b"[" * 70 + b'", "' + b"]" * 70 + b'"]')
    assert not too_deep(b'[""' + b'"[""]"' * 70 + b"]")
    assert too_deep(b'[""' * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))


def scanned_depth(raw: bytes) -> int:
    """The deepest nesting of brackets outside strings, one byte at a time (reference)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        char = chr(byte)
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}" and depth:
            depth -= 1
    return deepest


_STRINGS = st.lists(st.sampled_from(["[", "]", "{", "}", "a", '\\"', "\\\\"])).map(
    lambda parts: '"' + "".join(parts) + '"'
)
_VALUES = st.recursive(
    _STRINGS,
    lambda inner: (
        st.lists(inner, max_size=4).map(lambda items: "[" + "".join(items) + "]")
        | st.lists(inner, max_size=4).map(lambda items: "{" + "".join(items) + "}")
    ),
    max_leaves=30,
)


@given(_VALUES, st.integers(0, MAX_DEPTH + 4))
def test_depth_check_agrees_with_a_byte_scanner(value: str, wrap: int) -> None:
    """Strings full of brackets, escaped quotes and adjacent strings (no separators):
    the fast check (adjacent quotes dropped first, the rest in regex passes) gives the
    same verdict as a scanner that reads every byte."""
    body = ("[" * wrap + value + "]" * wrap).encode()
    assert too_deep(body) == (scanned_depth(body) > MAX_DEPTH)


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.technicians_list(),
        lambda c: c.groups_get(unique_id=1),
        lambda c: c.server_hostname_get(),
        lambda c: c.groups_remove(1),
    ],
)
@pytest.mark.parametrize(
    "body",
    [
        nested(3000),
        b'{"a":' * 3000 + b"1" + b"}" * 3000,
        # Deep enough to hurt later, shallow enough for the JSON decoder to accept.
        nested(MAX_DEPTH + 36),
        b'{"success": true, "x": ' + nested(MAX_DEPTH + 1) + b"}",
    ],
)
def test_deep_json_is_one_clear_error(
    server: ScriptedServer, client: SimpleHelpClient, call: Any, body: bytes
) -> None:
    server.queue(Reply(200, body))
    with pytest.raises(UnexpectedResponseError) as info:
        call(client)
    assert f"nested deeper than {MAX_DEPTH} levels" in str(info.value)


def test_deep_json_in_an_error_body_is_not_read(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    server.queue(Reply(404, b'{"reason":' * 3000 + b'"x"' + b"}" * 3000))
    with pytest.raises(NotFoundError, match="HTTP 404: non-JSON body"):
        client.groups_get(unique_id=1)


# --- lone surrogates ---------------------------------------------------------------------


SURROGATE_CASES = [
    (lambda c: c.technicians_list(), b'[{"uniqueID": 1, "username": %s}]'),
    (lambda c: c.server_hostname_get(), b"%s"),
    (lambda c: c.groups_get(unique_id=1), b'{"uniqueID": 1, "name": %s}'),
    (lambda c: c.groups_remove(1), b'{"success": true, "reason": %s}'),
]


@pytest.mark.parametrize(("call", "template"), SURROGATE_CASES)
@pytest.mark.parametrize("escape", [b"\\ud800", b"\\uDFFF", b"\\ud83d x", b"x\\udc00"])
def test_lone_surrogate_is_refused_at_decode(
    server: ScriptedServer, client: SimpleHelpClient, call: Any, template: bytes, escape: bytes
) -> None:
    server.queue(Reply(200, template % (b'"a' + escape + b'"')))
    with pytest.raises(UnexpectedResponseError, match="lone UTF-16 surrogate"):
        call(client)


def test_a_surrogate_pair_is_text(server: ScriptedServer, client: SimpleHelpClient) -> None:
    server.queue(Reply(200, b'[{"uniqueID": 1, "username": "a\\ud83d\\ude00"}]'))
    assert client.technicians_list()[0].username == "a\U0001f600"


# --- gzip bomb -----------------------------------------------------------------------------


def gzip_bomb(decoded_mib: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"[" + b" " * (1024 * 1024 - 1)
    parts = [packer.compress(block) for _ in range(decoded_mib)]
    return b"".join(parts) + packer.flush()


def test_gzip_bomb_stops_at_the_limit_while_inflating(server: ScriptedServer) -> None:
    bomb = gzip_bomb(200)
    assert len(bomb) < 1024 * 1024
    t = make(server.url, max_body_bytes=1024 * 1024)
    server.queue(Reply(200, bomb, {"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(UnexpectedResponseError, match="exceeds the 1048576-byte limit"):
            t.post("groups/list", None, write=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        t.close()
    assert peak < 32 * 1024 * 1024  # inflating it whole would take 200 MiB


def test_gzip_answer_within_the_limit_is_read(server: ScriptedServer) -> None:
    t = make(server.url)
    server.queue(Reply(200, zlib.compress(b'["ok"]', wbits=31), {"Content-Encoding": "gzip"}))
    assert t.post("groups/list", None, write=False) == ["ok"]
    t.close()


# --- hangs ---------------------------------------------------------------------------------


def test_dripping_answer_ends_at_the_timeout(server: ScriptedServer) -> None:
    t = make(server.url, timeout=(1.0, 0.5), retries=3)
    server.queue(Reply(200, b'["' + b"a" * 200 + b'"]', drip=0.05))
    error = finishes(lambda: t.post("groups/list", None, write=False))
    assert isinstance(error, TransportError)
    assert "did not arrive whole within 0.5 s" in str(error)
    t.close()


def test_retry_after_beyond_the_cap_is_an_error_naming_it(server: ScriptedServer) -> None:
    t = make(server.url)
    server.queue(Reply(503, {"success": False, "reason": "busy"}, {"Retry-After": "100000"}))
    error = finishes(lambda: t.post("groups/list", None, write=False))
    assert isinstance(error, ServerError)
    # The server's own figure, not urllib3's six-hour clamp of it.
    assert "retry after 100000 s (Retry-After), longer than the 60 s" in str(error)
    assert len(server.seen) == 1
    t.close()


def test_unreadable_retry_after_falls_back_to_back_off(server: ScriptedServer) -> None:
    t = make(server.url)
    server.queue(Reply(503, {"success": False}, {"Retry-After": "soon"}), Reply(200, ["ok"]))
    assert t.post("groups/list", None, write=False) == ["ok"]
    t.close()


def test_each_retry_is_announced(server: ScriptedServer) -> None:
    notices: list[str] = []
    t = make(server.url, on_retry=notices.append)
    busy = Reply(503, {"success": False, "reason": "busy"})
    server.queue(busy, Reply(action="reset"), Reply(200, ["ok"]))
    assert t.post("groups/list", None, write=False) == ["ok"]
    assert notices == [
        "groups/list: HTTP 503; retrying (2/5)…",
        "groups/list: connection reset by peer; retrying (3/5)…",
    ]
    assert all(CANARY not in notice for notice in notices)
    t.close()


def test_a_name_that_does_not_resolve_is_not_retried() -> None:
    notices: list[str] = []
    t = make("http://shcfg-test.invalid", retries=4, on_retry=notices.append)
    with pytest.raises(TransportError) as info:
        t.post("groups/list", None, write=False)
    assert str(info.value) == (
        "groups/list: connection failed: host name could not be resolved (after 1 try)"
    )
    assert t.request_count == 1
    assert notices == []
    t.close()


def test_retries_stop_within_the_request_budget(server: ScriptedServer) -> None:
    t = make(server.url, timeout=(1.0, 0.3), retries=10)
    server.default = Reply(action="hang")
    error = finishes(lambda: t.post("groups/list", None, write=False))
    assert isinstance(error, TransportError)
    assert "timed out" in str(error)
    # Three answer timeouts of budget: at most three tries of 0.3 s, not eleven.
    assert 1 <= t.request_count <= 3
    t.close()
