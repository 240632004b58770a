"""Canary secrets through every new error path: none reaches any output, log or file.

The token is long and random (so no message could hold it by chance), passwords come
from `${env:}` references and the server's seed, and hostile servers echo the token
back in their answers. Every path runs through the real CLI (`doctor --record` included),
with the client's debug logging captured too.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.redact import MASK
from reconciler.sandbox import READINGS, Sandbox, SandboxConfig
from tests.client.conftest import Reply, ScriptedServer
from tests.e2e.conftest import SECRET_MANIFEST, Result

TOKEN = "canary-token-" + secrets.token_hex(32)
WRONG_TOKEN = "canary-wrong-" + secrets.token_hex(32)
SECRETS = {
    "GROUP_PW": "canary-group-pw-" + secrets.token_hex(8),
    "ALICE_PW": "canary-alice-pw-" + secrets.token_hex(8),
}
VIDEO_PW = "canary-video-pw-" + secrets.token_hex(8)
CANARIES = (TOKEN, WRONG_TOKEN, *SECRETS.values(), VIDEO_PW)
SEED = {
    "groups": [{"name": "Helpdesk", "videoPassword": VIDEO_PW, "password": VIDEO_PW}],
    "technicians": [{"username": "alice", "groups": ["Helpdesk"], "password": VIDEO_PW}],
    "machines": [
        {"machineID": "SG_1", "name": "Desk", "groups": ["UK"], "properties": {"k": VIDEO_PW}}
    ],
}
#: What a careless server might say: the token, bare and in the API path it came in.
ECHO = f"bad request /api/v1/{TOKEN}/x from {TOKEN}"


class Run:
    """The CLI against one server, every result and file kept for the canary check."""

    def __init__(self, url: str, workdir: Path, token: str = TOKEN) -> None:
        self.url = url
        self.workdir = workdir
        self.token = token
        self.results: list[Result] = []

    def __call__(self, *args: str, url: str | None = None) -> Result:
        env = {"SIMPLEHELP_URL": url or self.url, "SIMPLEHELP_API_TOKEN": self.token, **SECRETS}
        with contextlib.chdir(self.workdir):
            outcome = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        result = Result(outcome.exit_code, outcome.stdout, outcome.stderr)
        self.results.append(result)
        return result

    def manifest(self) -> Path:
        path = self.workdir / "manifest.yaml"
        path.write_text(SECRET_MANIFEST, encoding="utf-8")
        return path

    def assert_no_canary(self, caplog: pytest.LogCaptureFixture) -> None:
        files = [p for p in self.workdir.rglob("*") if p.is_file()]
        for canary in CANARIES:
            for result in self.results:
                assert canary not in result.output, result.output
            for file in files:
                assert canary.encode() not in file.read_bytes(), file
            assert canary not in caplog.text
        for result in self.results:
            assert "Traceback" not in result.output


MakeRun = Callable[..., Run]


@pytest.fixture
def caplog_debug(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def sandbox_run(tmp_path: Path) -> Iterator[MakeRun]:
    """A factory: a seeded sandbox with the given config fields, and a `Run` against it."""
    with contextlib.ExitStack() as stack:
        count = 0

        def make(token: str = TOKEN, **config: Any) -> Run:
            nonlocal count
            count += 1
            server = stack.enter_context(Sandbox(SandboxConfig(token=TOKEN, seed=SEED, **config)))
            work = tmp_path / f"work{count}"
            work.mkdir()
            return Run(server.url, work, token)

        yield make


def test_doctor_record_holds_no_canary(
    sandbox_run: MakeRun,
    caplog_debug: pytest.LogCaptureFixture,
) -> None:
    run = sandbox_run(readings="all")
    query = READINGS["backup_query"][1]
    recorded = run("--backup-query", query, "doctor", "--probe-backup", "--record", "ok.json")
    assert recorded.exit_code == 0, recorded.output
    text = (run.workdir / "ok.json").read_text(encoding="utf-8")
    assert '"groups/list"' in text and f'"videoPassword": "{MASK}"' in text
    failed = run("doctor", "--probe-backup", "--record", "unknown-backup.json")
    assert failed.exit_code == 1
    assert "SIMPLEHELP_BACKUP_QUERY" in failed.stdout
    run.assert_no_canary(caplog_debug)


@pytest.mark.parametrize("auth_status", READINGS["auth_status"])
def test_refused_token_under_each_status(
    sandbox_run: MakeRun,
    caplog_debug: pytest.LogCaptureFixture,
    auth_status: int,
) -> None:
    run = sandbox_run(token=WRONG_TOKEN, auth_status=auth_status)
    path = str(run.manifest())
    results = [
        run("plan", path),
        run("apply", path, "--auto-approve"),
        run("export", "--out", "exported"),
        run("doctor", "--record", "refused.json"),
    ]
    assert [r.exit_code for r in results] == [1, 1, 1, 1]
    for result in results:
        assert "check the token" in result.output
    assert f'"status": {auth_status}' in (run.workdir / "refused.json").read_text()
    run.assert_no_canary(caplog_debug)


def test_unknown_backup_query(
    sandbox_run: MakeRun,
    caplog_debug: pytest.LogCaptureFixture,
) -> None:
    run = sandbox_run(backup_query="admin/save-config")
    result = run("apply", str(run.manifest()), "--auto-approve", "--rotate-secrets")
    assert result.exit_code == 1
    assert "--backup-query PATH or SIMPLEHELP_BACKUP_QUERY" in result.stderr
    assert (run.workdir / ".shcfg" / "journal.jsonl").is_file()
    run.assert_no_canary(caplog_debug)


def deep_json() -> bytes:
    """An answer nested past the limit, with the token inside it."""
    return b"[" * 100 + f'"{ECHO}"'.encode() + b"]" * 100


def gzip_bomb() -> bytes:
    """65 MiB of JSON full of the token when inflated (the limit is 64 MiB); about 260 KiB sent."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    line = f'"{ECHO}",'.encode()
    block = b"[" + line * (1024 * 1024 // len(line))
    return packer.compress(block * 65) + packer.flush()


HOSTILE = {
    "deep-json": (Reply(200, deep_json()), "nested deeper than 64 levels"),
    "deep-json-error": (Reply(400, deep_json()), "HTTP 400: non-JSON body"),
    "retry-after-cap": (
        Reply(503, {"success": False, "reason": ECHO}, {"Retry-After": "100000"}),
        "longer than the 60 s this client waits",
    ),
    "gzip-bomb": (
        Reply(200, gzip_bomb(), {"Content-Encoding": "gzip"}),
        "exceeds the 67108864-byte limit",
    ),
    "auth-400-echo": (
        Reply(400, {"success": False, "reason": f"invalid token {ECHO}"}),
        "check the token",
    ),
    "auth-403-text": (
        Reply(403, ECHO, {"Content-Type": "text/plain"}),
        "check the token",
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_answers(tmp_path: Path, caplog_debug: pytest.LogCaptureFixture, name: str) -> None:
    reply, message = HOSTILE[name]
    server = ScriptedServer()
    server.default = reply
    server.start()
    try:
        run = Run(server.url, tmp_path)
        path = str(run.manifest())
        plan = run("plan", path)
        apply = run("apply", path, "--auto-approve")
        doctor = run("doctor", "--record", "hostile.json")
    finally:
        server.stop()
    assert (plan.exit_code, apply.exit_code, doctor.exit_code) == (1, 1, 1)
    assert message in plan.stderr
    assert message in apply.stderr
    assert plan.stderr.count("\n") == 1
    assert (tmp_path / "hostile.json").is_file()
    run.assert_no_canary(caplog_debug)


@pytest.fixture
def tls_sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    ca = trustme.CA()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued = ca.issue_cert("127.0.0.1")
    issued.private_key_and_cert_chain_pem.write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    with Sandbox(SandboxConfig(token=TOKEN, seed=SEED, tls_cert=cert, tls_key=key)) as server:
        yield server


def test_connection_hints(
    sandbox_run: MakeRun,
    tls_sandbox: Sandbox,
    caplog_debug: pytest.LogCaptureFixture,
) -> None:
    run = sandbox_run()
    path = str(run.manifest())
    host_port = run.url.removeprefix("http://")
    https = run("plan", path, url=f"https://{host_port}")
    # --timeout bounds the retries of the reset reads (3 x 0.5 s) before the hint.
    http = run(
        "--timeout",
        "0.5",
        "apply",
        path,
        "--auto-approve",
        url=tls_sandbox.url.replace("https", "http"),
    )
    pasted = run("plan", path, url=f"{host_port}/api/v1/{TOKEN}/")
    bare = run("plan", path, url=host_port)
    doctors = [
        run("doctor", "--record", f"hint{i}.json", url=url)
        for i, url in enumerate(
            (
                f"https://{host_port}",
                tls_sandbox.url.replace("https", "http"),
                f"{host_port}/api/v1/{TOKEN}/",
            )
        )
    ]
    assert [r.exit_code for r in (https, http, pasted, bare, *doctors)] == [1] * 7
    assert f"did you mean http://{host_port}?" in https.stderr
    assert re.search(r"did you mean https://127\.0\.0\.1:\d+\?", http.stderr)
    assert f"did you mean https://{host_port}?" in pasted.stderr
    assert f"did you mean https://{host_port}?" in bare.stderr
    run.assert_no_canary(caplog_debug)
