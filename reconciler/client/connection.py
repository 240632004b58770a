"""urllib3 connections that send a request's head and its JSON body in one write.

urllib3 (through http.client) writes the request line and headers, then the body: two
system calls per request, each one a point where another thread takes the interpreter,
and two segments for the server to wait on. A SimpleHelp query is a small JSON body, so
the head is held back and leaves with it. Measured in `make bench` (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from urllib3 import HTTPConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection


class OneWriteHTTPConnection(HTTPConnection):
    """``request`` with a bytes body: the head is collected and sent with the body."""

    _body: bytes | None = None
    _head: list[bytes] | None = None

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(body, bytes) or not body:
            super().request(method, url, body, headers, **kwargs)
            return
        # The caller's framing header is kept as given; urllib3 adds none when it is set.
        framed = {**(headers or {}), "Content-Length": str(len(body))}
        self._body = body
        try:
            super().request(method, url, None, framed, **kwargs)
        finally:
            self._body = None
            self._head = None

    def endheaders(self, message_body: Any = None, *, encode_chunked: bool = False) -> None:
        body = self._body
        if body is None:
            super().endheaders(message_body, encode_chunked=encode_chunked)
            return
        self._head = []
        try:
            super().endheaders(message_body, encode_chunked=encode_chunked)
            head = b"".join(self._head)
        finally:
            self._head = None
        super().send(head + body)

    def send(self, data: Any) -> None:
        if self._head is not None and isinstance(data, bytes):
            self._head.append(data)
            return
        super().send(data)


class OneWriteHTTPSConnection(OneWriteHTTPConnection, HTTPSConnection):
    pass


def send_in_one_write(pool: HTTPConnectionPool) -> None:
    """Make ``pool`` open its connections with the one-write classes (before it opens any)."""
    https = pool.scheme == "https"
    pool.ConnectionCls = OneWriteHTTPSConnection if https else OneWriteHTTPConnection
