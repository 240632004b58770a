"""Each reading of the reference, over raw HTTP: status, Content-Type and body."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.sandbox import ALL_READINGS, READINGS, Sandbox, SandboxConfig
from reconciler.sandbox.readings import ALTERNATE_BACKUP_QUERY
from reconciler.sandbox.routes import build_routes
from tests.sandbox.conftest import TOKEN, Api, make_config

TEXT = "text/plain; charset=utf-8"
BACKUPS = Path("configuration", "backups", "api")


@contextmanager
def serve(tmp_path: Path, **readings: Any) -> Iterator[Api]:
    """A seeded sandbox with the given readings and a raw-HTTP helper on it."""
    with Sandbox(make_config(data_dir=tmp_path / "data", **readings)) as sb:
        api = Api(sb)
        try:
            yield api
        finally:
            api.session.close()


def _failure(resp: requests.Response, status: int) -> str:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    body = resp.json()
    assert body["success"] is False
    return str(body["reason"])


# -- GET and bodyless POST ----------------------------------------------------------------


#: The queries that need no data: a GET of each is answered 200.
NO_DATA = {
    "technicians/list",
    "groups/list",
    "machines/list",
    "server/tech-restrictions/get",
    "server/hostname/get",
    "server/backup",
    "history/list",
    "alerts/list",
    "support/queue/list",
    "support/sessions/list",
    "access/sessions/list",
}


@pytest.mark.parametrize("refuse", [False, True])
def test_get_without_body_is_accepted_for_every_query(tmp_path: Path, refuse: bool) -> None:
    """A GET is a query without data under every reading: it gets exactly the answer a
    POST with no body gets by default (200 for a query that needs no data, the query's
    own 400 for one that does)."""
    answered: set[str] = set()
    with (
        serve(tmp_path / "get", refuse_bodyless_post=refuse) as get_api,
        serve(tmp_path / "post") as post_api,
    ):
        for query in build_routes():
            got = get_api.call(query, method="GET")
            posted = post_api.call(query)
            assert (got.status_code, got.json()) == (posted.status_code, posted.json()), query
            assert "GET" not in got.text, query
            if got.status_code == 200:
                answered.add(query)
    assert answered == NO_DATA


def test_bodyless_post_is_accepted_by_default(api: Api) -> None:
    assert api.ok("server/hostname/get") == "support.example.com"


def test_refused_bodyless_post_is_a_400_naming_get_and_commits_nothing(tmp_path: Path) -> None:
    with serve(tmp_path, refuse_bodyless_post=True) as api:
        reason = _failure(api.call("technicians/list"), 400)
        assert "GET" in reason
        _failure(api.call("server/backup"), 400)
        assert not (tmp_path / "data" / BACKUPS).exists()
        # Data makes a POST acceptable again, even `{}`, and GET needs none.
        assert len(api.ok("technicians/list", {})) == 2
        assert api.call("server/backup", method="GET").status_code == 200
        assert len(list((tmp_path / "data" / BACKUPS).iterdir())) == 1


def test_bodyless_post_refusal_comes_after_the_token_and_the_route(tmp_path: Path) -> None:
    with serve(tmp_path, refuse_bodyless_post=True) as api:
        _failure(Api(api.sb, token="wrong").call("technicians/list"), 401)
        _failure(api.call("no/such/query"), 404)


# -- the answer to a write ------------------------------------------------------------------


WRITE_ANSWERS: list[tuple[str, str | None, bytes]] = [
    ("response", "application/json", b'{"success":true}'),
    ("empty", None, b""),
    ("true", "application/json", b"true"),
    ("ok", TEXT, b"OK"),
]


@pytest.mark.parametrize(("reading", "content_type", "body"), WRITE_ANSWERS)
def test_write_answer(tmp_path: Path, reading: str, content_type: str | None, body: bytes) -> None:
    with serve(tmp_path, write_answer=reading) as api:
        for query, data in [
            ("server/hostname/set", {"hostname": "new.example.com"}),
            ("groups/new", {"group": {"name": "Fresh"}}),
            ("server/backup", None),
        ]:
            resp = api.call(query, data)
            assert resp.status_code == 200, query
            assert resp.headers.get("Content-Type") == content_type, query
            assert resp.headers["Content-Length"] == str(len(body))
            assert resp.content == body, query
        assert api.ok("server/hostname/get") == "new.example.com"
        assert api.ok("groups/get", {"name": "Fresh"})["name"] == "Fresh"
        # A refused write is still an API Response Object, and reads are unchanged.
        assert "already exists" in _failure(
            api.call("groups/new", {"group": {"name": "Fresh"}}), 400
        )
        assert len(api.ok("groups/list")) == 3


# -- String answers ---------------------------------------------------------------------------


def test_strings_are_json_strings_by_default(api: Api) -> None:
    resp = api.call("server/hostname/get")
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.content == b'"support.example.com"'
    got = api.call("machinegroups/properties/get", {"groups": ["UK", "London"], "key": "site"})
    assert got.content == b'"LON"'


def test_text_strings_are_raw_text_plain(tmp_path: Path) -> None:
    with serve(tmp_path, text_strings=True) as api:
        api.ok("server/hostname/set", {"hostname": 'a "quoted" h\u00f6st'})
        resp = api.call("server/hostname/get")
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == TEXT
        assert resp.content == 'a "quoted" h\u00f6st'.encode()
        body = {"groups": ["UK", "London"], "key": "country", "includeInherited": True}
        resp = api.call("machinegroups/properties/get", body)
        assert (resp.headers["Content-Type"], resp.text) == (TEXT, "GB")
        # Only String answers change: the list of keys stays a JSON array.
        keys = api.ok("machinegroups/properties/get", {"groups": ["UK", "London"]})
        assert keys == ["site"]


# -- absent objects and wrong tokens ---------------------------------------------------------

ABSENT: list[tuple[str, dict[str, Any]]] = [
    ("technicians/get", {"username": "zed"}),
    ("technicians/remove", {"uniqueID": 999}),
    ("groups/get", {"name": "Nobody"}),
    ("groups/permissions/get", {"uniqueID": 999}),
    ("machines/get", {"machineID": "SG_999"}),
    ("machinegroups/properties/get", {"groups": ["Mars"]}),
    ("machinegroups/properties/get", {"groups": ["UK"], "key": "missing"}),
]


@pytest.mark.parametrize("status", [404, 400])
def test_absent_object_status(tmp_path: Path, status: int) -> None:
    with serve(tmp_path, absent_status=status) as api:
        for query, body in ABSENT:
            reason = _failure(api.call(query, body), status)
            assert "unknown" in reason or "no property" in reason, (query, reason)
        # An unknown query is not an absent object: always 404.
        _failure(api.call("technicians/fetch", {}), 404)
        # Invalid data stays a 400 under both readings.
        _failure(api.call("technicians/get", {"uniqueID": "x"}), 400)


@pytest.mark.parametrize("status", [401, 403, 400])
def test_wrong_token_status(tmp_path: Path, status: int) -> None:
    with serve(tmp_path, auth_status=status) as api:
        wrong = Api(api.sb, token="not-the-token")
        for method in ("GET", "POST"):
            resp = wrong.call("technicians/list", method=method)
            assert _failure(resp, status) == "invalid API token"
            assert "not-the-token" not in resp.text and TOKEN not in resp.text
        assert len(api.ok("technicians/list")) == 2


# -- backup query --------------------------------------------------------------------------


def test_backup_under_another_path_and_the_default_path_is_an_unknown_query(
    tmp_path: Path,
) -> None:
    with serve(tmp_path, backup_query=ALTERNATE_BACKUP_QUERY) as api:
        assert _failure(api.call("server/backup"), 404) == "unknown query: server/backup"
        assert not (tmp_path / "data" / BACKUPS).exists()
        assert api.ok(ALTERNATE_BACKUP_QUERY) == {"success": True}
        assert len(list((tmp_path / "data" / BACKUPS).iterdir())) == 1
        assert [c.write for c in api.sb.calls] == [False, True]


# -- the preset, the table and the log ------------------------------------------------------


def test_every_reading_defaults_to_the_historical_answer() -> None:
    config = SandboxConfig(token=TOKEN)
    assert {name: getattr(config, name) for name in READINGS} == {
        name: values[0] for name, values in READINGS.items()
    }


def test_preset_all_turns_on_every_other_reading_and_explicit_values_win() -> None:
    config = SandboxConfig(token=TOKEN, readings="all")
    assert {name: getattr(config, name) for name in READINGS} == ALL_READINGS
    assert all(ALL_READINGS[name] != values[0] for name, values in READINGS.items())
    mixed = SandboxConfig(token=TOKEN, readings="all", write_answer="true", auth_status=401)
    assert (mixed.write_answer, mixed.auth_status, mixed.text_strings) == ("true", 401, True)
    with pytest.raises(ValueError, match="readings"):
        SandboxConfig(token=TOKEN, readings="some")
    with pytest.raises(ValueError, match="write_answer"):
        SandboxConfig(token=TOKEN, write_answer="maybe")


def test_all_readings_at_once_over_http(tmp_path: Path) -> None:
    with serve(tmp_path, readings="all") as api:
        _failure(api.call("server/hostname/get"), 400)
        resp = api.call("server/hostname/get", method="GET")
        assert (resp.headers["Content-Type"], resp.text) == (TEXT, "support.example.com")
        resp = api.call("server/hostname/set", {"hostname": "h2"})
        assert (resp.status_code, resp.content) == (200, b"")
        _failure(api.call("groups/get", {"name": "Nobody"}), 400)
        _failure(Api(api.sb, token="wrong").call("alerts/list", method="GET"), 403)
        _failure(api.call("server/backup", {}), 404)
        assert api.call(ALTERNATE_BACKUP_QUERY, {}).status_code == 200


def test_readings_are_logged_at_start(caplog: pytest.LogCaptureFixture) -> None:
    config = make_config(write_answer="ok", auth_status=403, text_strings=True)
    with caplog.at_level(logging.INFO, logger="reconciler.sandbox"), Sandbox(config):
        pass
    line = next(r.getMessage() for r in caplog.records if "readings" in r.getMessage())
    assert line == (
        "sandbox readings: refuse_bodyless_post=False write_answer=ok text_strings=True "
        "absent_status=404 auth_status=403 backup_query=server/backup"
    )
    assert TOKEN not in caplog.text
    assert json.dumps(TOKEN) not in caplog.text


def test_public_version_page_needs_no_token_and_names_the_configured_release() -> None:
    with Sandbox(SandboxConfig(token="version-token-123", server_version="5.4.9")) as sb:
        answer = requests.get(f"{sb.url}/allversions", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert "SH Version: 5.4.9" in answer.text
