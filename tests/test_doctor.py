"""Units of `shcfg doctor`: masking, the version page reading, the URL check, atomic writes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.doctor.checks import Check
from reconciler.doctor.network import Target, Tls, check_url
from reconciler.doctor.record import BODY_CAP, MASK, Recorder, mask
from reconciler.doctor.version import PAGE_CAP, fetch_page, page_version
from reconciler.errors import ShcfgError
from tests.reliability.test_interrupt_hangs import dripping_server  # noqa: F401 (fixture)


def test_mask_hides_secret_looking_values_and_keeps_the_rest() -> None:
    value = {
        "name": "Helpdesk",
        "videoPassword": "pw",
        "apiToken": "t",
        "clientSecret": 7,
        "passwordSet": True,
        "passwordSettings": {"minLength": 8, "recovery": "phrase", "nested": {"x": "y"}},
        "properties": [{"key": "licence", "value": "L-123"}],
        "notes": "call TOKEN-abc first",
    }
    assert mask(value, "TOKEN-abc") == {
        "name": "Helpdesk",
        "videoPassword": MASK,
        "apiToken": MASK,
        "clientSecret": MASK,
        "passwordSet": True,
        "passwordSettings": {"minLength": MASK, "recovery": MASK, "nested": {"x": MASK}},
        "properties": [{"key": MASK, "value": MASK}],
        "notes": f"call {MASK} first",
    }


def test_empty_secret_values_stay_visibly_empty() -> None:
    assert mask({"videoPassword": "", "password": None}) == {"videoPassword": "", "password": None}


def test_recorder_caps_big_answers() -> None:
    rec = Recorder("tok-1234")
    rec.call("technicians/list", None, lambda: ["x" * 100] * 100)
    body = rec.exchanges[0]["body"]
    assert isinstance(body, str) and len(body) < BODY_CAP + 50 and body.endswith("characters)")


def test_recorder_writes_atomically_and_scrubs(tmp_path: Path) -> None:
    rec = Recorder("tok-1234")
    rec.page("/allversions", 200, "text/plain", "SH Version: 5.5.7 tok-1234")
    target = tmp_path / "t.json"
    rec.write(target, "https://h", [Check("token", "ok", "tok-1234 accepted")])
    text = target.read_text(encoding="utf-8")
    assert "tok-1234" not in text
    assert json.loads(text)["exchanges"][0]["body"] == f"SH Version: 5.5.7 {MASK}"
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]
    rec.write(tmp_path / "new" / "t.json", None, [])  # like --out: the directory is made
    assert (tmp_path / "new" / "t.json").is_file()
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(ShcfgError, match=r"--record .*file/t\.json: cannot write"):
        rec.write(tmp_path / "file" / "t.json", None, [])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"SH Version: 5.5.7\n", "5.5.7"),
        (b"Technician Version 1.2.3\r\nSH Version: 5.5.16\r\n", "5.5.16"),
        (b"<p>Server <b>Version</b> 5.4.10</p>", "5.4.10"),
        (b"<p>Built 2024</p><BR/>SH Version:<i>5.3.9</i>", "5.3.9"),
        (b"version: unknown\n5.5.7", None),
        (b"Released 2.1.0 of the app; SERVER VERSION 5.5.9", "5.5.9"),
        (b"\xff\xfe garbage \x00", None),
        (b"x" * (PAGE_CAP + 10) + b"\nSH Version: 5.5.7", None),
    ],
)
def test_page_version(body: bytes, expected: str | None) -> None:
    assert page_version(body) == expected


@given(st.binary(max_size=2000))
def test_page_version_survives_any_bytes(body: bytes) -> None:
    found = page_version(body)
    assert found is None or all(part.isdigit() for part in found.split("."))


def test_url_without_scheme_suggests_https() -> None:
    check, target = check_url("support.example.com:8443/x")
    assert target is None
    assert (check.status, check.hint) == ("fail", "did you mean https://support.example.com:8443?")


def test_url_ports_default_by_scheme() -> None:
    assert check_url("https://h.example")[1] == Target(
        "https", "h.example", 443, "https://h.example"
    )
    assert check_url("http://h.example")[1] == Target("http", "h.example", 80, "http://h.example")
    target = check_url("http://[::1]:8080")[1]
    assert target is not None and (target.host, target.port) == ("::1", 8080)


def test_a_dripping_version_page_is_cut_at_the_timeout(
    dripping_server: tuple[str, threading.Event],  # noqa: F811
) -> None:
    """Issue 12.10: a socket timeout bounds one read only; the page as a whole is bounded."""
    url, _ = dripping_server
    port = int(url.rsplit(":", 1)[1])
    target = Target("http", "127.0.0.1", port, url)
    errors: list[Exception] = []

    def fetch() -> None:
        try:
            fetch_page(target, Tls(None, False), 0.5)
        except ShcfgError as exc:
            errors.append(exc)

    worker = threading.Thread(target=fetch, daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "the version page was read past its timeout"
    assert [str(e) for e in errors] == ["no whole answer within 0.5 s"]
