"""The API token (a URL path segment) never shows in errors, reprs, tracebacks or logs."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Callable

import pytest

from reconciler.client import SimpleHelpClient
from reconciler.client.errors import (
    ApiError,
    AuthenticationError,
    NotFoundError,
    RejectedError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from reconciler.redact import MASK
from tests.client.conftest import CANARY, Reply, ScriptedServer


def client(url: str, **kwargs: object) -> SimpleHelpClient:
    options: dict[str, object] = {"retries": 1, "backoff_factor": 0.0}
    options.update(kwargs)
    return SimpleHelpClient(url, CANARY, **options)  # type: ignore[arg-type]


def echo(status: int) -> Reply:
    """A reply whose reason repeats the token, as a careless server might."""
    return Reply(status, {"success": False, "reason": f"bad token {CANARY} for /api/v1/{CANARY}"})


SCENARIOS: dict[str, tuple[type[ApiError], Callable[[ScriptedServer], None]]] = {
    "auth": (AuthenticationError, lambda s: s.queue(echo(401))),
    "forbidden": (AuthenticationError, lambda s: s.queue(echo(403))),
    "auth-400": (AuthenticationError, lambda s: s.queue(echo(400))),
    "rejected": (
        RejectedError,
        lambda s: s.queue(Reply(400, {"success": False, "reason": f"bad name {CANARY}"})),
    ),
    "not-found": (NotFoundError, lambda s: s.queue(echo(404))),
    "server": (ServerError, lambda s: setattr(s, "default", echo(500))),
    "reset": (TransportError, lambda s: setattr(s, "default", Reply(action="reset"))),
    "timeout": (TransportError, lambda s: setattr(s, "default", Reply(action="hang"))),
    "html": (UnexpectedResponseError, lambda s: s.queue(Reply(200, f"<p>{CANARY}</p>"))),
    "redirect": (
        UnexpectedResponseError,
        lambda s: s.queue(Reply(301, b"", {"Location": f"http://x/api/v1/{CANARY}/"})),
    ),
    "wrong-shape": (UnexpectedResponseError, lambda s: s.queue(Reply(200, [{"name": CANARY}]))),
}


def assert_clean(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    assert CANARY not in str(error)
    assert CANARY not in repr(error)
    assert CANARY not in "".join(traceback.format_exception(error))
    assert error.__cause__ is None
    assert error.__context__ is None
    assert CANARY not in caplog.text
    for record in caplog.records:
        assert CANARY not in record.getMessage()
    assert "\n" not in str(error)


def capture(action: Callable[[], object]) -> ApiError:
    with pytest.raises(ApiError) as info:
        action()
    return info.value


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_canary_absent_for_every_error_class(
    name: str, server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cls, arrange = SCENARIOS[name]
    arrange(server)
    c = client(server.url, timeout=(2.0, 0.2))
    error = capture(c.groups_list)
    assert type(error) is cls
    assert_clean(error, caplog)
    assert any(CANARY in seen.path for seen in server.seen)  # the token did travel
    c.close()


def test_canary_absent_when_connection_refused(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = client(f"http://127.0.0.1:{closed_port}")
    error = capture(c.technicians_list)
    assert isinstance(error, TransportError)
    assert_clean(error, caplog)
    c.close()


def test_canary_absent_on_tls_failure(
    tls_server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    c = client(tls_server.url)
    error = capture(c.groups_list)
    assert isinstance(error, TransportError)
    assert "TLS" in str(error)
    assert_clean(error, caplog)
    c.close()


def test_canary_absent_from_debug_logs_of_successful_calls(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.queue(Reply(500, {}), Reply(200, []))
    c = client(server.url)
    assert c.groups_list() == []
    assert caplog.records  # urllib3 did log the requests at DEBUG
    assert CANARY not in caplog.text
    assert CANARY not in repr(c)
    c.close()


def test_errors_survive_pickling_without_the_token(server: ScriptedServer) -> None:
    server.queue(echo(404))
    c = client(server.url)
    error = capture(lambda: c.groups_get(unique_id=1))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NotFoundError
    assert (copy.query, copy.status, str(copy)) == ("groups/get", 404, str(error))
    c.close()


def test_an_echoed_token_and_the_client_show_the_one_mask(server: ScriptedServer) -> None:
    """The token's place shows the project's one mask, as a plan's secrets do."""
    server.queue(echo(404))
    c = client(server.url)
    error = capture(lambda: c.groups_get(unique_id=1))
    assert str(error).count(MASK) == 2
    assert f"token={MASK!r}" in repr(c)
    c.close()
