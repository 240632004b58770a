"""`shcfg doctor` over real HTTP: the sandbox, a TLS sandbox, and a small version server."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import trustme
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.redact import MASK
from reconciler.sandbox import Sandbox, SandboxConfig
from tests.e2e.conftest import SEED, TOKEN, Result, Shcfg

VIDEO_PW = "canary-video-pw-3f81c2"
PROPERTY_VALUE = "canary-property-9d04aa"
DOCTOR_SEED: dict[str, Any] = {
    **SEED,
    "groups": [{"name": "Helpdesk", "videoPassword": VIDEO_PW, "password": "canary-group-pw"}],
    "technicians": [{"username": "alice", "groups": ["Helpdesk"], "password": "canary-alice"}],
    # The first machine is the one doctor reads the properties of.
    "machines": [
        {**SEED["machines"][0], "properties": {"licence": PROPERTY_VALUE}},
        *SEED["machines"][1:],
    ],
}
REPORT_SCHEMA = {
    "type": "object",
    "required": ["ok", "checks"],
    "additionalProperties": False,
    "properties": {
        "ok": {"type": "boolean"},
        "checks": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "status", "detail", "hint"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "status": {"enum": ["ok", "warn", "fail", "skip"]},
                    "detail": {"type": "string"},
                    "hint": {"type": ["string", "null"]},
                },
            },
        },
    },
}


def checks(result: Result) -> dict[str, dict[str, Any]]:
    """The JSON report's checks by name (validated against the documented shape)."""
    report = json.loads(result.stdout)
    jsonschema.validate(report, REPORT_SCHEMA)
    assert report["ok"] is (result.exit_code == 0)
    return {c["name"]: c for c in report["checks"]}


@pytest.fixture
def doctor_shcfg(shcfg_seeded: Callable[[dict[str, Any]], Shcfg]) -> Shcfg:
    return shcfg_seeded(DOCTOR_SEED)


def test_healthy_sandbox_is_usable(doctor_shcfg: Shcfg) -> None:
    result = doctor_shcfg("doctor")
    assert result.exit_code == 0, result.output
    assert "The server is usable with shcfg." in result.stdout
    by_name = checks(doctor_shcfg("doctor", "--format", "json"))
    for name in ("url", "dns", "tcp", "tls", "token", "permissions"):
        assert by_name[name]["status"] == "ok"
    reads = [c for n, c in by_name.items() if n.startswith("read ")]
    assert len(reads) == 11 and all(c["status"] == "ok" for c in reads)
    assert "canRunTools" in by_name["permissions"]["detail"]
    # The sandbox's public version page names a release no published advisory affects.
    assert by_name["version"]["status"] == "ok"
    assert by_name["version"]["detail"].startswith("SimpleHelp 5.5.16")
    assert by_name["backup"]["status"] == "skip"
    # Read-only without --probe-backup.
    assert doctor_shcfg.writes() == []


def test_wrong_token_names_the_token_and_the_api_setting(doctor_shcfg: Shcfg) -> None:
    result = doctor_shcfg("doctor", env={"SIMPLEHELP_API_TOKEN": "wrong-token-canary"})
    assert result.exit_code == 1
    assert "check the token" in result.stdout
    assert "the API is enabled on the server" in result.stdout
    assert "wrong-token-canary" not in result.output
    by_name = checks(
        doctor_shcfg(
            "doctor", "--format", "json", env={"SIMPLEHELP_API_TOKEN": "wrong-token-canary"}
        )
    )
    assert by_name["token"]["status"] == "fail"
    assert by_name["read technicians/list"]["status"] == "skip"


@pytest.mark.parametrize(
    ("token", "detail"), [("", "no API token"), ("a/b-canary", "invalid API token")]
)
def test_missing_or_malformed_token_fails_the_token_check(
    doctor_shcfg: Shcfg, token: str, detail: str
) -> None:
    result = doctor_shcfg("doctor", "--format", "json", env={"SIMPLEHELP_API_TOKEN": token})
    assert result.exit_code == 1
    by_name = checks(result)
    assert by_name["token"]["status"] == "fail"
    assert detail in by_name["token"]["detail"]
    # The version page needs no token: it is still read.
    assert by_name["version"]["status"] == "ok"
    assert "a/b-canary" not in result.output


def test_https_against_the_plain_http_sandbox_is_named(doctor_shcfg: Shcfg) -> None:
    url = doctor_shcfg.sandbox.url.replace("http://", "https://")
    result = doctor_shcfg("doctor", "--url", url)
    assert result.exit_code == 1
    assert "https:// against a plain-HTTP port" in result.stdout
    assert "use http://127.0.0.1:" in result.stdout


@pytest.fixture
def tls_sandbox(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path, ca_path = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    config = SandboxConfig(token=TOKEN, seed=SEED, tls_cert=cert_path, tls_key=key_path)
    with Sandbox(config) as server:
        yield server, ca_path


def test_http_against_a_tls_sandbox_is_named(
    tls_sandbox: tuple[Sandbox, Path], tmp_path: Path
) -> None:
    server, _ = tls_sandbox
    url = server.url.replace("https://", "http://")
    result = Shcfg(server, tmp_path)("doctor", "--url", url)
    assert result.exit_code == 1
    assert "http:// against an HTTPS port" in result.stdout
    assert "use https://127.0.0.1:" in result.stdout


def test_unknown_ca_gets_the_ca_bundle_hint(
    tls_sandbox: tuple[Sandbox, Path], tmp_path: Path
) -> None:
    server, ca_path = tls_sandbox
    shcfg = Shcfg(server, tmp_path)
    untrusted = shcfg("doctor")
    assert untrusted.exit_code == 1
    assert "certificate not trusted" in untrusted.stdout
    assert "--ca-bundle PATH" in untrusted.stdout
    trusted = shcfg("doctor", "--ca-bundle", str(ca_path), "--format", "json")
    assert trusted.exit_code == 0, trusted.output
    assert "certificate verified" in checks(trusted)["tls"]["detail"]
    insecure = shcfg("doctor", "--insecure", "--format", "json")
    assert insecure.exit_code == 0, insecure.output
    assert checks(insecure)["tls"]["status"] == "warn"
    # Said once, by doctor; not once per request by the libraries.
    assert insecure.stderr.count("NOT verified") == 1
    assert "insecure mode" not in insecure.stderr


def test_tls_port_answering_plain_http_with_400_is_named(tmp_path: Path) -> None:
    """Like nginx: a plain request to its HTTPS port gets "400 Bad Request"."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with conn:
                    if conn.recv(1, socket.MSG_PEEK) == b"\x16":
                        with (
                            contextlib.suppress(OSError),
                            context.wrap_socket(conn, server_side=True),
                        ):
                            pass
                    else:
                        conn.recv(4096)
                        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    try:
        result = run_cli(["doctor", "--url", f"http://127.0.0.1:{port}"], tmp_path)
    finally:
        listener.close()
    assert result.exit_code == 1
    assert "http:// against an HTTPS port" in result.stdout


def test_probe_backup_with_an_unknown_query(tmp_path: Path) -> None:
    config = SandboxConfig(token=TOKEN, seed=SEED, backup_query="admin/save-config")
    with Sandbox(config) as server:
        shcfg = Shcfg(server, tmp_path)
        assert shcfg("doctor").exit_code == 0
        result = shcfg("doctor", "--probe-backup")
        assert result.exit_code == 1
        assert "--backup-query PATH or SIMPLEHELP_BACKUP_QUERY" in result.stdout
        fixed = shcfg(
            "doctor",
            "--probe-backup",
            "--format",
            "json",
            env={"SIMPLEHELP_BACKUP_QUERY": "admin/save-config"},
        )
        assert fixed.exit_code == 0, fixed.output
        assert checks(fixed)["backup"]["status"] == "ok"
        # The one write the sandbox saw: the working probe.
        assert shcfg.writes() == ["admin/save-config"]


def test_record_masks_the_token_and_secrets(doctor_shcfg: Shcfg) -> None:
    result = doctor_shcfg("doctor", "--probe-backup", "--record", "transcript.json")
    assert result.exit_code == 0, result.output
    text = (doctor_shcfg.workdir / "transcript.json").read_text(encoding="utf-8")
    for canary in (TOKEN, VIDEO_PW, PROPERTY_VALUE):
        assert canary not in text
        assert canary not in result.output
    transcript = json.loads(text)
    queries = [e["query"] for e in transcript["exchanges"]]
    assert queries[0] == "/allversions"
    assert {"groups/list", "machinegroups/properties/get", "server/backup"} <= set(queries)
    groups = next(e for e in transcript["exchanges"] if e["query"] == "groups/list")
    assert groups["method"] == "GET" and groups["body"][0]["videoPassword"] == MASK
    assert groups["body"][0]["name"] == "Helpdesk"
    properties = next(e for e in transcript["exchanges"] if e["query"] == "machines/properties/get")
    assert properties["request"] == {"machineID": "SG_1"}
    assert properties["body"][0]["properties"] == [{"key": MASK, "value": MASK}]
    assert [p.name for p in doctor_shcfg.workdir.iterdir()] == ["transcript.json"]
    doctor_shcfg.sandbox.reset_calls()
    unwritable = doctor_shcfg("doctor", "--record", "/proc/self/t.json")
    assert unwritable.exit_code == 1
    assert "Error: --record /proc/self/t.json: cannot write" in unwritable.stderr
    # Refused before any check: no request, and no "usable" verdict before the exit 1.
    assert doctor_shcfg.sandbox.calls == [] and unwritable.stdout == ""


def test_record_of_a_refused_token(doctor_shcfg: Shcfg) -> None:
    wrong = "wrong-token-canary-41c9"
    env = {"SIMPLEHELP_API_TOKEN": wrong}
    result = doctor_shcfg("doctor", "--record", "t.json", env=env)
    assert result.exit_code == 1
    text = (doctor_shcfg.workdir / "t.json").read_text(encoding="utf-8")
    assert wrong not in text
    exchange = next(e for e in json.loads(text)["exchanges"] if e["query"] != "/allversions")
    assert exchange["status"] == 401 and exchange["outcome"] == "error"


def test_url_problems_are_named_without_echoing_the_url(doctor_shcfg: Shcfg) -> None:
    no_scheme = doctor_shcfg("doctor", "--url", f"support.example.com/api/v1/{TOKEN}/")
    assert no_scheme.exit_code == 1
    assert "did you mean https://support.example.com?" in no_scheme.stdout
    pasted = doctor_shcfg("doctor", "--url", f"{doctor_shcfg.sandbox.url}/api/v1/{TOKEN}/")
    assert pasted.exit_code == 1 and "must not contain a path" in pasted.stdout
    for result in (no_scheme, pasted):
        assert TOKEN not in result.output


def test_unresolvable_host_and_closed_port(doctor_shcfg: Shcfg) -> None:
    dns = checks(doctor_shcfg("doctor", "--format", "json", "--url", "https://no-such.invalid"))
    assert dns["dns"]["status"] == "fail" and dns["tcp"]["status"] == "skip"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = checks(doctor_shcfg("doctor", "--format", "json", "--url", f"http://127.0.0.1:{port}"))
    assert closed["tcp"]["status"] == "fail"
    assert "refused" in closed["tcp"]["detail"]
    assert closed["token"]["status"] == "skip"


class FakeServer:
    """A tiny server with a public /allversions page and canned API answers."""

    def __init__(self, page: bytes, answers: dict[str, Any]) -> None:
        self.page = page
        self.answers = answers
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._answer()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer()

            def _answer(self) -> None:
                prefix = f"/api/v1/{TOKEN}/"
                if self.path == "/allversions":
                    self._send(200, "text/plain", outer.page)
                elif self.path.startswith(prefix) and self.path[len(prefix) :] in outer.answers:
                    body = json.dumps(outer.answers[self.path[len(prefix) :]]).encode()
                    self._send(200, "application/json", body)
                else:
                    self._send(404, "application/json", b'{"success": false}')

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeServer:
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


GOOD_ANSWERS: dict[str, Any] = {
    "technicians/list": [{"uniqueID": 1, "username": "alice"}],
    "groups/list": [{"uniqueID": 1, "name": "Helpdesk"}],
    "groups/permissions/get": {"canRunTools": True, "canUseChat": False},
    "server/tech-restrictions/get": [],
    "server/hostname/get": "support.example.com",
    "machines/list": [],
    "support/sessions/list": [],
    "access/sessions/list": [],
}


def run_cli(args: list[str], workdir: Path) -> Result:
    """The CLI against a server that is not a sandbox."""
    runner = CliRunner()
    with contextlib.chdir(workdir):
        result = runner.invoke(
            cli, args, env={"SIMPLEHELP_API_TOKEN": TOKEN}, catch_exceptions=False
        )
    return Result(result.exit_code, result.stdout, result.stderr)


def run_fake(page: bytes, answers: dict[str, Any], tmp_path: Path) -> Result:
    with FakeServer(page, answers) as fake:
        return run_cli(["doctor", "--format", "json", "--url", fake.url], tmp_path)


def test_old_version_is_a_warning_naming_the_advisories(tmp_path: Path) -> None:
    page = b"<html><body>\x1b[31mSH Version: 5.5.7\x07<br>Build: 2024</body></html>"
    result = run_fake(page, GOOD_ANSWERS, tmp_path)
    assert result.exit_code == 0, result.output
    version = checks(result)["version"]
    assert version["status"] == "warn"
    assert version["detail"] == (
        "SimpleHelp 5.5.7 is affected by CVE-2024-57726, CVE-2024-57727, CVE-2024-57728, "
        "CVE-2026-48558"
    )
    assert "upgrade to 5.5.16 or later" in version["hint"]
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize(
    ("page", "status", "detail"),
    [
        (b"SH Version: 5.5.16\n", "ok", "SimpleHelp 5.5.16: no published advisory affects it"),
        (b"Version 5.4.10", "warn", "SimpleHelp 5.4.10 is affected by CVE-2026-48558"),
        (b"nothing to see" * 10_000, "warn", "version unknown: /allversions names none"),
    ],
)
def test_version_page_readings(page: bytes, status: str, detail: str, tmp_path: Path) -> None:
    version = checks(run_fake(page, GOOD_ANSWERS, tmp_path))["version"]
    assert (version["status"], version["detail"]) == (status, detail)


def test_a_read_in_another_shape_names_the_query_and_field(tmp_path: Path) -> None:
    answers = {**GOOD_ANSWERS, "technicians/list": [{"uniqueID": "one", "username": "alice"}]}
    result = run_fake(b"SH Version: 5.5.16", answers, tmp_path)
    assert result.exit_code == 1
    read = checks(result)["read technicians/list"]
    assert read["status"] == "fail"
    assert "technicians/list: unexpected response: [0].uniqueID" in read["detail"]
    assert "--record" in read["hint"]
