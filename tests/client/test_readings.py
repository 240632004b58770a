"""Every reading of the reference a server may take is accepted (docs/api-notes.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.client import SimpleHelpClient
from reconciler.client.errors import (
    AuthenticationError,
    NotFoundError,
    RejectedError,
    UnexpectedResponseError,
    UnknownQueryError,
)
from tests.client.conftest import CANARY, Reply, ScriptedServer

TEXT = {"Content-Type": "text/plain; charset=utf-8"}


@pytest.fixture
def client(server: ScriptedServer) -> Iterator[SimpleHelpClient]:
    c = SimpleHelpClient(server.url, CANARY, retries=0, backoff_factor=0)
    yield c
    c.close()


# --- writes: every 2xx that does not say no is done -----------------------------------


@pytest.mark.parametrize(
    ("body", "headers", "shape"),
    [
        (b"", {"Content-Type": "text/plain"}, "empty"),
        (b"  \r\n", {}, "empty"),
        (b"null", {}, "empty"),
        (b"true", {}, "true"),
        (b'"OK"', {}, "text"),
        (b"OK", TEXT, "text"),
        (b"<html>done</html>", {"Content-Type": "text/html"}, "text"),
        (b'{"id": 7}', {}, "object"),
        (b'{"success": true}', {}, "response"),
        (b'["x"]', {}, "other"),
    ],
)
def test_write_success_shapes(
    server: ScriptedServer,
    client: SimpleHelpClient,
    body: bytes,
    headers: dict[str, str],
    shape: str,
) -> None:
    server.queue(Reply(200, body, headers))
    result = client.groups_remove(1)
    assert result.shape == shape
    assert result.success is not False


def test_write_object_keeps_its_fields_and_the_server_cannot_set_the_shape(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    server.queue(Reply(200, {"success": True, "shape": "empty", "id": 7}))
    result = client.groups_remove(1)
    assert result.shape == "response"
    assert result.model_extra == {"id": 7}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"success": False, "reason": "no such group"}, "no such group"),
        ({"success": False}, "request failed"),
        (False, "the server answered false"),
    ],
)
def test_write_that_says_no_is_rejected(
    server: ScriptedServer, client: SimpleHelpClient, body: Any, reason: str
) -> None:
    server.queue(Reply(200, body))
    with pytest.raises(RejectedError) as info:
        client.groups_remove(1)
    assert str(info.value) == f"groups/remove: HTTP 200: {reason}"


def test_write_with_a_wrong_success_type_names_the_field(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    server.queue(Reply(200, {"success": "perhaps"}))
    with pytest.raises(UnexpectedResponseError, match=r"groups/remove: .*success"):
        client.groups_remove(1)


# --- String answers: a JSON string or text/plain --------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b'"support.example.com"', {}),
        (b"support.example.com", TEXT),
        (b"support.example.com\n", TEXT),
        (b"support.example.com", {"Content-Type": ""}),
    ],
)
def test_hostname_as_json_or_plain_text(
    server: ScriptedServer, client: SimpleHelpClient, body: bytes, headers: dict[str, str]
) -> None:
    server.queue(Reply(200, body, headers))
    assert client.server_hostname_get() == "support.example.com"


def test_property_value_as_plain_text_is_kept_verbatim(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    server.queue(Reply(200, b'"quoted" value', TEXT))
    assert client.machinegroups_properties_get(["UK"], key="site") == '"quoted" value'


def test_plain_text_is_not_accepted_where_a_list_is_expected(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    server.queue(Reply(200, b"a,b", TEXT))
    with pytest.raises(UnexpectedResponseError, match="response is not JSON"):
        client.machinegroups_properties_get(["UK"])


def test_plain_text_that_is_not_utf8_is_refused(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    server.queue(Reply(200, b"\xff\xfe", TEXT))
    with pytest.raises(UnexpectedResponseError, match="not UTF-8 text"):
        client.server_hostname_get()


# --- an absent object: 404 or 400 with a reason ---------------------------------------


@pytest.mark.parametrize("status", [400, 404])
@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.technicians_get(username="ghost"),
        lambda c: c.groups_get(name="ghost"),
        lambda c: c.groups_permissions_get(9),
        lambda c: c.machinegroups_properties_get(["Nowhere"]),
        lambda c: c.machinegroups_properties_get(["UK"], key="nope"),
    ],
)
def test_absent_object_is_not_found_as_404_or_400(
    server: ScriptedServer, client: SimpleHelpClient, status: int, call: Any
) -> None:
    server.queue(Reply(status, {"success": False, "reason": "no such object"}))
    with pytest.raises(NotFoundError, match=f"HTTP {status}: no such object"):
        call(client)


def test_a_400_to_a_list_or_a_write_stays_a_rejection(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    server.queue(Reply(400, {"success": False, "reason": "bad"}))
    server.queue(Reply(400, {"success": False, "reason": "bad"}))
    with pytest.raises(RejectedError) as info:
        client.technicians_list()
    assert type(info.value) is RejectedError
    with pytest.raises(RejectedError) as info:
        client.groups_remove(1)
    assert type(info.value) is RejectedError


# --- a refused token: 401, 403, or 400 speaking of the token --------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (400, "Invalid API token"),
        (400, "Not authenticated"),
        (400, "The API is not enabled on this server"),
        (400, "API access disabled"),
    ],
)
def test_refused_token_says_what_to_check(
    server: ScriptedServer, client: SimpleHelpClient, status: int, reason: str
) -> None:
    server.queue(Reply(status, {"success": False, "reason": reason}))
    with pytest.raises(AuthenticationError) as info:
        client.groups_get(unique_id=1)
    message = str(info.value)
    assert "check the token" in message
    assert "API is enabled on the server (Administration tab)" in message
    assert "\n" not in message


def test_refused_token_as_plain_text_400(server: ScriptedServer, client: SimpleHelpClient) -> None:
    server.queue(Reply(400, b"Invalid token", TEXT))
    with pytest.raises(AuthenticationError, match="HTTP 400: Invalid token"):
        client.technicians_list()


@pytest.mark.parametrize("reason", ["ldap authentication failed: bad filter", "token too long"])
def test_a_400_after_the_token_worked_is_not_an_auth_failure(
    server: ScriptedServer, client: SimpleHelpClient, reason: str
) -> None:
    server.queue(Reply(200, []), Reply(400, {"success": False, "reason": reason}))
    client.technicians_list()
    with pytest.raises(RejectedError) as info:
        client.groups_set(1, {"name": "x"})
    assert not isinstance(info.value, AuthenticationError)


def test_camel_case_field_names_do_not_read_as_authentication(
    server: ScriptedServer, client: SimpleHelpClient
) -> None:
    server.queue(Reply(400, {"success": False, "reason": "allowLocallyAuthenticatedLogins bad"}))
    with pytest.raises(RejectedError) as info:
        client.technicians_new({"username": "a"})
    assert not isinstance(info.value, AuthenticationError)


# --- the backup query -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "reason"),
    [(404, "not found"), (400, "Unknown query: server/backup"), (400, "no such command")],
)
def test_unknown_backup_query_names_both_ways_to_set_it(
    server: ScriptedServer, status: int, reason: str
) -> None:
    server.queue(Reply(status, {"success": False, "reason": reason}))
    client = SimpleHelpClient(server.url, CANARY, backup_query="admin/backup")
    with client as c, pytest.raises(UnknownQueryError) as info:
        c.server_backup()
    message = str(info.value)
    assert message.startswith(f"admin/backup: HTTP {status}: {reason}")
    assert "--backup-query PATH" in message
    assert "SIMPLEHELP_BACKUP_QUERY" in message
    assert server.seen[0].path.endswith("/admin/backup")
    assert server.seen[0].method == "GET"


def test_other_backup_refusals_are_not_called_unknown(server: ScriptedServer) -> None:
    server.queue(Reply(400, {"success": False, "reason": "disk full"}))
    with SimpleHelpClient(server.url, CANARY) as c, pytest.raises(RejectedError) as info:
        c.server_backup()
    assert type(info.value) is RejectedError
