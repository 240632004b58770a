"""The request head and its JSON body leave in one write (reconciler/client/connection.py)."""

from __future__ import annotations

import pytest
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool

from reconciler.client.connection import (
    OneWriteHTTPConnection,
    OneWriteHTTPSConnection,
    send_in_one_write,
)


class _Socket:
    """Records what the connection writes; never touches the network."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def settimeout(self, timeout: float | None) -> None:
        pass


def _connection() -> tuple[OneWriteHTTPConnection, _Socket]:
    conn = OneWriteHTTPConnection("example.invalid", 80)
    sock = _Socket()
    conn.sock = sock
    return conn, sock


def test_head_and_body_go_out_in_one_write() -> None:
    conn, sock = _connection()
    conn.request("POST", "/api/v1/T/q", body=b'{"a":1}', headers={"Accept": "application/json"})
    assert len(sock.writes) == 1
    head, _, body = sock.writes[0].partition(b"\r\n\r\n")
    assert body == b'{"a":1}'
    assert head.startswith(b"POST /api/v1/T/q HTTP/1.1\r\n")
    assert head.count(b"Content-Length") == 1
    assert b"\r\nContent-Length: 7" in head
    assert b"\r\nAccept: application/json" in head
    assert b"Transfer-Encoding" not in head


def test_a_request_without_body_is_framed_as_before() -> None:
    conn, sock = _connection()
    conn.request("POST", "/api/v1/T/q", body=None, headers={})
    assert len(sock.writes) == 1
    head, sep, body = sock.writes[0].partition(b"\r\n\r\n")
    assert sep and body == b""
    assert b"\r\nContent-Length: 0" in head


def test_a_failed_write_propagates_and_holds_nothing_back() -> None:
    conn, sock = _connection()

    def broken(data: bytes) -> None:
        raise BrokenPipeError

    sock.sendall = broken  # type: ignore[method-assign]
    with pytest.raises(BrokenPipeError):
        conn.request("POST", "/q", body=b"{}", headers={})
    assert conn._head is None and conn._body is None


@pytest.mark.parametrize(
    ("pool", "expected"),
    [
        (HTTPConnectionPool("example.invalid"), OneWriteHTTPConnection),
        (HTTPSConnectionPool("example.invalid"), OneWriteHTTPSConnection),
    ],
)
def test_pools_open_one_write_connections(pool: HTTPConnectionPool, expected: type) -> None:
    send_in_one_write(pool)
    assert pool.ConnectionCls is expected
