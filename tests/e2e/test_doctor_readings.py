"""`shcfg doctor` against every reading of the API a real server may take.

A server that answers in any reading the client accepts is usable (exit 0); a wrong
token under any of its statuses, a scheme mismatch and an unknown backup query are not
(exit 1), each with the hint that fixes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trustme

from reconciler.sandbox import ALL_READINGS, READINGS
from tests.e2e.conftest import READING_CASES as CASES
from tests.e2e.conftest import MakeShcfg
from tests.e2e.test_doctor import DOCTOR_SEED, checks

WRONG_TOKEN = "doctor-wrong-token-canary-5c1e"


@pytest.mark.parametrize("options", CASES)
def test_each_reading_is_usable(make_shcfg: MakeShcfg, options: dict[str, Any]) -> None:
    shcfg = make_shcfg(seed=DOCTOR_SEED, **options)
    result = shcfg("doctor", "--format", "json")
    assert result.exit_code == 0, result.output
    by_name = checks(result)
    failed = {n: c["detail"] for n, c in by_name.items() if c["status"] not in ("ok", "skip")}
    assert failed == {}
    reads = [c for n, c in by_name.items() if n.startswith("read ")]
    assert len(reads) == 11 and all(c["status"] == "ok" for c in reads)
    assert by_name["token"]["status"] == "ok"
    assert "canRunTools" in by_name["permissions"]["detail"]
    assert by_name["read server/hostname/get"]["status"] == "ok"
    assert shcfg.writes() == []
    # With the server's backup query configured, the probe works under every reading.
    query = shcfg.sandbox.cfg.backup_query
    probed = shcfg(
        "doctor",
        "--probe-backup",
        "--format",
        "json",
        env={"SIMPLEHELP_BACKUP_QUERY": query},
    )
    assert probed.exit_code == 0, probed.output
    assert checks(probed)["backup"]["status"] == "ok"
    assert shcfg.writes() == [query]


@pytest.mark.parametrize("readings", ["default", "all"])
@pytest.mark.parametrize("auth_status", READINGS["auth_status"])
def test_wrong_token_under_each_status_names_the_token(
    make_shcfg: MakeShcfg, auth_status: int, readings: str
) -> None:
    shcfg = make_shcfg(seed=DOCTOR_SEED, auth_status=auth_status, readings=readings)
    env = {"SIMPLEHELP_API_TOKEN": WRONG_TOKEN}
    result = shcfg("doctor", env=env)
    assert result.exit_code == 1
    assert "check the token" in result.stdout
    assert "the API is enabled on the server" in result.stdout
    by_name = checks(shcfg("doctor", "--format", "json", env=env))
    assert by_name["token"]["status"] == "fail"
    assert f"HTTP {auth_status}" in by_name["token"]["detail"]
    assert by_name["read groups/list"]["status"] == "skip"
    assert WRONG_TOKEN not in result.output
    assert [c.status for c in shcfg.sandbox.calls][:1] == [auth_status]


def test_https_against_the_plain_http_sandbox_under_all_readings(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg(seed=DOCTOR_SEED, readings="all")
    url = shcfg.sandbox.url.replace("http://", "https://")
    result = shcfg("doctor", "--url", url)
    assert result.exit_code == 1
    assert "https:// against a plain-HTTP port" in result.stdout
    assert f"use {shcfg.sandbox.url}" in result.stdout
    assert shcfg.sandbox.calls == []


def test_http_against_a_tls_sandbox_under_all_readings(
    make_shcfg: MakeShcfg, tmp_path: Path
) -> None:
    ca = trustme.CA()
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued = ca.issue_cert("127.0.0.1")
    issued.private_key_and_cert_chain_pem.write_to_path(str(cert))
    issued.private_key_pem.write_to_path(str(key))
    shcfg = make_shcfg(seed=DOCTOR_SEED, readings="all", tls_cert=cert, tls_key=key)
    assert shcfg.sandbox.url.startswith("https://")
    result = shcfg("doctor", "--url", shcfg.sandbox.url.replace("https://", "http://"))
    assert result.exit_code == 1
    assert "http:// against an HTTPS port" in result.stdout
    assert f"use {shcfg.sandbox.url}" in result.stdout


def test_probe_of_an_unknown_backup_query_names_both_settings(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg(seed=DOCTOR_SEED, readings="all")
    plain = shcfg("doctor")
    assert plain.exit_code == 0, plain.output
    result = shcfg("doctor", "--probe-backup")
    assert result.exit_code == 1
    assert "--backup-query" in result.stdout
    assert "SIMPLEHELP_BACKUP_QUERY" in result.stdout
    backup = checks(shcfg("doctor", "--probe-backup", "--format", "json"))["backup"]
    assert backup["status"] == "fail"
    assert "server/backup" in backup["detail"]
    # The sandbox saw the unknown query, and no write it knows of.
    assert shcfg.writes() == []
    assert {c.status for c in shcfg.sandbox.calls if c.query == "server/backup"} == {404}


def test_probe_backup_works_at_the_alternate_path(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg(seed=DOCTOR_SEED, readings="all")
    alternate = ALL_READINGS["backup_query"]
    by_option = shcfg("doctor", "--probe-backup", "--backup-query", alternate)
    assert by_option.exit_code == 0, by_option.output
    by_env = shcfg(
        "doctor", "--probe-backup", "--format", "json", env={"SIMPLEHELP_BACKUP_QUERY": alternate}
    )
    assert by_env.exit_code == 0, by_env.output
    assert checks(by_env)["backup"]["status"] == "ok"
    assert shcfg.writes() == [alternate, alternate]
    assert len(list(shcfg.sandbox.backup_dir.iterdir())) == 2
