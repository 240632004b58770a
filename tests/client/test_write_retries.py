"""A write is resent only when the server provably did not process it (api-notes.md).

urllib3's ``Retry`` also retries any status in ``RETRY_AFTER_STATUS_CODES`` (413, 429,
503) that carries a ``Retry-After`` header, whatever the status list says; for a write
answered 503 that would resend a request the server may have processed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reconciler.client.errors import RejectedError, ServerError
from reconciler.client.transport import Transport
from tests.client.conftest import CANARY, Reply, ScriptedServer

WRITE = ("groups/new", {"group": {"name": "x"}})


@pytest.fixture
def transport(server: ScriptedServer) -> Iterator[Transport]:
    t = Transport(server.url, CANARY, backoff_factor=0.0, backoff_jitter=0.0)
    yield t
    t.close()


def test_write_answered_503_with_retry_after_is_not_resent(
    server: ScriptedServer, transport: Transport
) -> None:
    server.queue(Reply(503, {"success": False, "reason": "busy"}, {"Retry-After": "0"}))
    with pytest.raises(ServerError) as info:
        transport.post(*WRITE, write=True)
    assert str(info.value).startswith("groups/new: HTTP 503: busy")
    assert info.value.outcome_unknown is True
    assert len(server.seen) == 1
    assert transport.request_count == 1


def test_write_answered_413_with_retry_after_is_not_resent(
    server: ScriptedServer, transport: Transport
) -> None:
    server.queue(Reply(413, {"success": False, "reason": "too large"}, {"Retry-After": "0"}))
    with pytest.raises(RejectedError, match="HTTP 413: too large"):
        transport.post(*WRITE, write=True)
    assert len(server.seen) == 1


@pytest.mark.parametrize("headers", [{}, {"Retry-After": "0"}])
def test_write_answered_429_is_resent(
    server: ScriptedServer, transport: Transport, headers: dict[str, str]
) -> None:
    server.queue(Reply(429, {"success": False, "reason": "slow down"}, headers))
    assert transport.post(*WRITE, write=True) == {"success": True}
    assert [s.path.rsplit("/", 2)[-2:] for s in server.seen] == [["groups", "new"]] * 2


def test_read_answered_503_with_retry_after_is_retried(
    server: ScriptedServer, transport: Transport
) -> None:
    server.queue(Reply(503, {"success": False, "reason": "busy"}, {"Retry-After": "0"}))
    server.queue(Reply(200, ["ok"]))
    assert transport.post("groups/list", None, write=False) == ["ok"]
    assert transport.request_count == 2


def test_read_answered_413_with_retry_after_is_not_retried(
    server: ScriptedServer, transport: Transport
) -> None:
    """Reads are retried on the documented statuses only (429, 500, 502, 503, 504)."""
    server.queue(Reply(413, {"success": False, "reason": "too large"}, {"Retry-After": "0"}))
    with pytest.raises(RejectedError, match="HTTP 413"):
        transport.post("groups/list", None, write=False)
    assert len(server.seen) == 1
