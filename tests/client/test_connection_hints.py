"""Connection failures name what to change: scheme mismatch, missing scheme, private CA."""

from __future__ import annotations

import pytest

from reconciler.client.errors import TransportError
from reconciler.client.transport import Transport
from reconciler.client.urls import validate_base_url
from reconciler.errors import ShcfgError
from tests.client.conftest import CANARY, Reply, ScriptedServer


def make(url: str, **kwargs: object) -> Transport:
    options: dict[str, object] = {"backoff_factor": 0.0, "backoff_jitter": 0.0, "retries": 1}
    options.update(kwargs)
    return Transport(url, CANARY, **options)  # type: ignore[arg-type]


def test_http_against_a_tls_port_says_did_you_mean_https(tls_server: ScriptedServer) -> None:
    http_url = tls_server.url.replace("https://", "http://")
    t = make(http_url)
    with pytest.raises(TransportError) as info:
        t.post("groups/new", {"group": {"name": "x"}}, write=True)
    message = str(info.value)
    host_port = http_url.split("://")[1]
    assert f"the server answered with TLS: did you mean https://{host_port}?" in message
    assert info.value.outcome_unknown is False  # a TLS port cannot have read the request
    assert CANARY not in message
    t.close()


def test_https_against_a_plain_port_says_did_you_mean_http(plain_http_port: int) -> None:
    t = make(f"https://127.0.0.1:{plain_http_port}")
    with pytest.raises(TransportError) as info:
        t.post("groups/list", None, write=False)
    message = str(info.value)
    assert (
        f"the server answered without TLS: did you mean http://127.0.0.1:{plain_http_port}?"
        in message
    )
    assert CANARY not in message
    t.close()


def test_a_plain_http_failure_gets_no_scheme_hint(server: ScriptedServer) -> None:
    t = make(server.url)
    server.default = Reply(action="reset")
    with pytest.raises(TransportError) as info:
        t.post("groups/list", None, write=False)
    assert "did you mean" not in str(info.value)
    t.close()


def test_self_signed_certificate_gets_the_ca_bundle_hint(tls_server: ScriptedServer) -> None:
    t = make(tls_server.url, retries=0)
    with pytest.raises(TransportError) as info:
        t.post("groups/list", None, write=False)
    assert "TLS certificate verification failed" in str(info.value)
    assert "pass --ca-bundle FILE" in str(info.value)
    t.close()


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("sh.example.com", "did you mean https://sh.example.com?"),
        ("sh.example.com:8443", "did you mean https://sh.example.com:8443?"),
        ("127.0.0.1:80/api", "did you mean https://127.0.0.1:80?"),
    ],
)
def test_url_without_scheme_suggests_https(url: str, hint: str) -> None:
    with pytest.raises(ShcfgError) as info:
        validate_base_url(url)
    assert str(info.value) == f"invalid server URL: it has no scheme (http:// or https://): {hint}"


@pytest.mark.parametrize("url", [CANARY, f"{CANARY}.example.com", f"host/api/v1/{CANARY}"])
def test_url_without_scheme_never_repeats_the_token(url: str) -> None:
    with pytest.raises(ShcfgError) as info:
        Transport(url, CANARY)
    assert CANARY not in str(info.value)
    assert "no scheme" in str(info.value)


def test_the_environment_proxy_is_used(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", server.url)
    t = make("http://sh.example.test:8080")
    server.queue(Reply(200, ["via proxy"]))
    assert t.post("groups/list", None, write=False) == ["via proxy"]
    assert server.seen[0].path == f"http://sh.example.test:8080/api/v1/{CANARY}/groups/list"
    t.close()
