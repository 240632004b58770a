"""Transport behaviour against a local scripted server: retries, errors, limits, TLS."""

from __future__ import annotations

import inspect
import json
import ssl
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import trustme

from reconciler.client.errors import (
    AuthenticationError,
    NotFoundError,
    RejectedError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
    error_class_for_status,
)
from reconciler.client.transport import (
    Transport,
    TransportOptions,
    validate_base_url,
    validate_token,
)
from reconciler.errors import ShcfgError
from tests.client.conftest import CANARY, Reply, ScriptedServer

OK = {"success": True}


def make(url: str, **kwargs: object) -> Transport:
    options: dict[str, object] = {"backoff_factor": 0.0, "backoff_jitter": 0.0}
    options.update(kwargs)
    return Transport(url, CANARY, **options)  # type: ignore[arg-type]


@pytest.fixture
def transport(server: ScriptedServer) -> Iterator[Transport]:
    t = make(server.url)
    yield t
    t.close()


# --- request shape ---------------------------------------------------------------


def test_post_with_body_sends_strict_json_to_the_api_path(
    server: ScriptedServer, transport: Transport
) -> None:
    server.queue(Reply(body=[{"uniqueID": 1}]))
    assert transport.post("groups/get", {"uniqueID": 1}, write=False) == [{"uniqueID": 1}]
    seen = server.seen[0]
    assert seen.method == "POST"
    assert seen.path == f"/api/v1/{CANARY}/groups/get"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "application/json, text/plain;q=0.9"
    assert seen.headers["Content-Length"] == str(len(seen.body))
    assert "Connection" not in seen.headers  # HTTP/1.1 keeps the connection open anyway
    assert json.loads(seen.body) == {"uniqueID": 1}


def test_query_without_data_is_a_get_without_body(
    server: ScriptedServer, transport: Transport
) -> None:
    server.queue(Reply(body=[]), Reply(body=[]))
    transport.post("groups/list", None, write=False)
    transport.post("server/backup", None, write=True)
    for seen in server.seen:
        assert seen.method == "GET"
        assert seen.body == b""
        assert "Content-Length" not in seen.headers
        assert "Content-Type" not in seen.headers


def test_query_with_data_is_never_a_post_without_body(
    server: ScriptedServer, transport: Transport
) -> None:
    server.queue(Reply(body=OK), Reply(body=OK))
    transport.post("groups/remove", {"uniqueID": 1}, write=True)
    transport.post("technicians/get", {"username": "a"}, write=False)
    for seen in server.seen:
        assert seen.method == "POST"
        assert seen.body
        assert seen.headers["Content-Type"] == "application/json"


def test_nan_is_never_sent(transport: Transport) -> None:
    with pytest.raises(ValueError):
        transport.post("groups/set", {"x": float("nan")}, write=True)


# --- status mapping ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, RejectedError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, RejectedError),
        (500, ServerError),
        (503, ServerError),
        (600, UnexpectedResponseError),
    ],
)
def test_status_table(status: int, cls: type) -> None:
    assert error_class_for_status(status) is cls


def test_error_message_is_one_line_with_the_server_reason(
    server: ScriptedServer, transport: Transport
) -> None:
    server.queue(Reply(400, {"success": False, "reason": "username already exists"}))
    with pytest.raises(RejectedError) as info:
        transport.post("technicians/new", {"technician": {"username": "a"}}, write=True)
    assert str(info.value) == "technicians/new: HTTP 400: username already exists"
    assert info.value.status == 400
    assert info.value.reason == "username already exists"
    assert info.value.outcome_unknown is False


def test_success_false_in_a_2xx_is_rejected(server: ScriptedServer, transport: Transport) -> None:
    server.queue(Reply(200, {"success": False, "reason": "no such group"}))
    with pytest.raises(RejectedError, match="groups/set: HTTP 200: no such group"):
        transport.post("groups/set", {"uniqueID": 9}, write=True)


def test_html_error_page_maps_status_with_non_json_reason(
    server: ScriptedServer, transport: Transport
) -> None:
    server.queue(Reply(404, "<html>Not here</html>", {"Content-Type": "text/html"}))
    with pytest.raises(NotFoundError) as info:
        transport.post("technicians/get", {"uniqueID": 1}, write=False)
    assert info.value.reason == "non-JSON body"


def test_html_with_200_is_unexpected(server: ScriptedServer, transport: Transport) -> None:
    server.queue(Reply(200, "<html>login</html>", {"Content-Type": "text/html"}))
    expected = "groups/list: HTTP 200: response is not JSON"
    with pytest.raises(UnexpectedResponseError, match=expected):
        transport.post("groups/list", None, write=False)


@pytest.mark.parametrize("body", [b'{"a": 1', b"[1, 2,]", b"NaN", b'{"a": Infinity}', b"\xff\xfe"])
def test_invalid_json_is_unexpected(
    server: ScriptedServer, transport: Transport, body: bytes
) -> None:
    server.queue(Reply(200, body))
    with pytest.raises(UnexpectedResponseError):
        transport.post("groups/list", None, write=False)


def test_oversized_body_by_content_length(server: ScriptedServer) -> None:
    t = make(server.url, max_body_bytes=100)
    server.queue(Reply(200, b"[" + b"1," * 100 + b"1]"))
    with pytest.raises(UnexpectedResponseError, match="exceeds the 100-byte limit"):
        t.post("groups/list", None, write=False)
    t.close()


def test_oversized_body_without_content_length(server: ScriptedServer) -> None:
    t = make(server.url, max_body_bytes=100)
    body = b"[" + b"1," * 100 + b"1]"
    server.queue(Reply(200, body, {"Content-Length": "", "Connection": "close"}))
    with pytest.raises(UnexpectedResponseError, match="exceeds the 100-byte limit"):
        t.post("groups/list", None, write=False)
    t.close()


def test_redirect_is_not_followed(server: ScriptedServer, transport: Transport) -> None:
    target = ScriptedServer()
    target.start()
    try:
        location = f"{target.url}/api/v1/{CANARY}/groups/list"
        server.queue(Reply(302, b"", {"Location": location}))
        with pytest.raises(UnexpectedResponseError, match="HTTP 302: redirect refused"):
            transport.post("groups/list", None, write=False)
        assert target.seen == []
        assert len(server.seen) == 1
    finally:
        target.stop()


# --- retries -----------------------------------------------------------------------


def test_read_is_retried_after_500(server: ScriptedServer, transport: Transport) -> None:
    server.queue(Reply(500, {"success": False, "reason": "busy"}), Reply(200, ["ok"]))
    assert transport.post("groups/list", None, write=False) == ["ok"]
    assert len(server.seen) == 2
    assert transport.request_count == 2


def test_read_gives_up_after_all_retries(server: ScriptedServer) -> None:
    t = make(server.url, retries=2)
    server.default = Reply(503, {"success": False, "reason": "down"})
    with pytest.raises(ServerError) as info:
        t.post("groups/list", None, write=False)
    assert str(info.value) == "groups/list: HTTP 503: down (after 3 tries)"
    assert info.value.outcome_unknown is False
    assert t.request_count == 3
    t.close()


def test_write_is_not_retried_after_500(server: ScriptedServer, transport: Transport) -> None:
    server.queue(Reply(500, {"success": False, "reason": "boom"}))
    with pytest.raises(ServerError) as info:
        transport.post("groups/new", {"group": {"name": "x"}}, write=True)
    assert info.value.outcome_unknown is True
    assert "may or may not have been applied" in str(info.value)
    assert len(server.seen) == 1
    assert transport.request_count == 1


def test_write_is_retried_after_429_with_retry_after(
    server: ScriptedServer, transport: Transport
) -> None:
    server.queue(Reply(429, {"success": False, "reason": "slow down"}, {"Retry-After": "0"}))
    assert transport.post("groups/new", {"group": {"name": "x"}}, write=True) == {"success": True}
    assert len(server.seen) == 2
    assert transport.request_count == 2


def test_write_is_retried_on_connection_refused(closed_port: int) -> None:
    t = make(f"http://127.0.0.1:{closed_port}", retries=3)
    with pytest.raises(TransportError) as info:
        t.post("groups/new", {"group": {"name": "x"}}, write=True)
    assert str(info.value) == "groups/new: connection failed: connection refused (after 4 tries)"
    assert info.value.outcome_unknown is False
    assert info.value.status is None
    assert t.request_count == 4
    t.close()


def test_read_is_retried_after_reset(server: ScriptedServer, transport: Transport) -> None:
    server.queue(Reply(action="reset"), Reply(200, ["ok"]))
    assert transport.post("groups/list", None, write=False) == ["ok"]
    assert transport.request_count == 2


def test_write_reset_is_not_retried_and_outcome_unknown(
    server: ScriptedServer, transport: Transport
) -> None:
    server.queue(Reply(action="reset"))
    with pytest.raises(TransportError) as info:
        transport.post("groups/remove", {"uniqueID": 1}, write=True)
    assert info.value.outcome_unknown is True
    assert len(server.seen) == 1


def test_write_timeout_is_not_retried(server: ScriptedServer) -> None:
    t = make(server.url, timeout=(2.0, 0.2))
    server.queue(Reply(action="hang"))
    with pytest.raises(TransportError, match="timed out \\(after 1 try\\)") as info:
        t.post("groups/remove", {"uniqueID": 1}, write=True)
    assert info.value.outcome_unknown is True
    assert len(server.seen) == 1
    t.close()


def test_read_timeout_is_retried(server: ScriptedServer) -> None:
    t = make(server.url, timeout=(2.0, 0.2), retries=1)
    server.queue(Reply(action="hang"), Reply(200, ["ok"]))
    assert t.post("groups/list", None, write=False) == ["ok"]
    assert t.request_count == 2
    t.close()


def test_closed_transport_refuses(transport: Transport) -> None:
    transport.close()
    with pytest.raises(ShcfgError, match="closed"):
        transport.post("groups/list", None, write=False)


# --- validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://sh.example.com", "https://sh.example.com"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        (" https://[::1]:443 ", "https://[::1]:443"),
    ],
)
def test_valid_base_urls(url: str, expected: str) -> None:
    assert validate_base_url(url) == expected


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://host", "scheme"),
        ("host:8080", "scheme"),
        ("https://", "no host"),
        (f"https://host/api/v1/{CANARY}/", "path"),
        ("https://host/?a=1", "query"),
        ("https://host/#x", "fragment"),
        (f"https://user:{CANARY}@host", "user information"),
        ("https://host:99999", "parsed"),
    ],
)
def test_invalid_base_urls_never_echo_the_url(url: str, problem: str) -> None:
    with pytest.raises(ShcfgError, match=problem) as info:
        validate_base_url(url)
    assert CANARY not in str(info.value)


@pytest.mark.parametrize("token", ["", "a/b", "a b", "a\n", "a?b", "a#b"])
def test_invalid_tokens(token: str) -> None:
    with pytest.raises(ShcfgError, match="invalid API token"):
        validate_token(token)


def test_ca_bundle_must_exist(server: ScriptedServer) -> None:
    with pytest.raises(ShcfgError, match="CA bundle not found"):
        make(server.url, ca_bundle="/nonexistent/ca.pem")


def test_repr_hides_the_token(transport: Transport) -> None:
    assert CANARY not in repr(transport)


# --- TLS ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(ca: trustme.CA) -> Iterator[ScriptedServer]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    srv = ScriptedServer(tls=context)
    srv.start()
    yield srv
    srv.stop()


def test_self_signed_server_is_refused_by_default(tls_server: ScriptedServer) -> None:
    t = make(tls_server.url, retries=0)
    with pytest.raises(TransportError, match="TLS certificate verification failed") as info:
        t.post("groups/list", None, write=False)
    assert info.value.outcome_unknown is False
    t.close()


def test_self_signed_server_accepted_with_ca_bundle(
    tls_server: ScriptedServer, ca: trustme.CA, tmp_path: object
) -> None:
    with ca.cert_pem.tempfile() as path:
        t = make(tls_server.url, ca_bundle=path)
        tls_server.queue(Reply(200, ["ok"]))
        assert t.post("groups/list", None, write=False) == ["ok"]
        t.close()


def test_self_signed_server_accepted_insecure_with_a_warning(tls_server: ScriptedServer) -> None:
    with pytest.warns(UserWarning, match="verification is disabled"):
        t = make(tls_server.url, insecure=True)
    tls_server.queue(Reply(200, ["ok"]))
    with pytest.warns(Warning):
        assert t.post("groups/list", None, write=False) == ["ok"]
    t.close()


def test_insecure_and_ca_bundle_conflict(tls_server: ScriptedServer, ca: trustme.CA) -> None:
    with ca.cert_pem.tempfile() as path, pytest.raises(ShcfgError, match="cannot be combined"):
        make(tls_server.url, ca_bundle=path, insecure=True)


def test_concurrent_calls_share_one_transport(server: ScriptedServer) -> None:
    t = make(server.url, pool_size=4)
    server.default = Reply(200, ["ok"])
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: t.post("groups/list", None, write=False), range(40)))
    assert results == [["ok"]] * 40
    assert t.request_count == 40
    assert len(server.seen) == 40
    t.close()


def test_the_client_passes_on_exactly_the_transports_options() -> None:
    """``TransportOptions`` is the client's view of ``Transport``'s keywords: one list."""
    keywords = {
        name
        for name, p in inspect.signature(Transport.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    assert keywords == set(TransportOptions.__annotations__)
