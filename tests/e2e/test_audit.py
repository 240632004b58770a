"""`shcfg audit` against the sandbox: every rule fires on a risky server and stays quiet on
a safe one; formats validate; --fail-on exit codes; policies refused with no write."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.audit.rules import RULES
from reconciler.sandbox import Sandbox, SandboxConfig
from tests.audit.sarif import validate_sarif
from tests.e2e.conftest import SECRET_MANIFEST, TOKEN, Shcfg

ROOT = Path(__file__).resolve().parents[2]
ADMIN = {"canAccessAdministration": True, "canRunTools": True}
SAFE_GROUP = {
    "allowAnonymousLogins": False,
    "mfaSettings": {"app": True, "email": False, "rememberMachine": False},
    "passwordSettings": {"requireStrongPasswords": True},
}
RISKY: dict[str, Any] = {
    "techRestrictions": [".*"],
    "groups": [
        {"name": "Admins", "permissions": ADMIN, "mfaSettings": {"app": False, "email": False}},
        {"name": "Kiosk", "allowAnonymousLogins": True, **{"mfaSettings": {"app": True}}},
        {"name": "Directory", "ldapSettings": {"enabled": True}, "mfaSettings": {"app": True}},
        {
            "name": "Remembered",
            "mfaSettings": {"email": True, "rememberMachine": True, "emailCodeLength": 4},
        },
    ],
    "technicians": [
        *({"username": f"admin{i}", "groups": ["Admins"]} for i in range(4)),
        {"username": "old-admin", "groups": ["Admins"], "enabled": False},
        {"username": "kiosk-guest-1", "groups": ["Kiosk"], "isAnonymous": True},
    ],
}
SAFE: dict[str, Any] = {
    "techRestrictions": ["10\\.0\\..*", "192\\.168\\.1\\..*"],
    "groups": [
        {"name": "Admins", "permissions": ADMIN, **SAFE_GROUP},
        {"name": "Helpdesk", "permissions": {"canRunTools": True}, **SAFE_GROUP},
        {
            "name": "Directory",
            **SAFE_GROUP,
            "ldapSettings": {"enabled": True, "memberOfGroups": ["CN=Support"]},
        },
    ],
    "technicians": [
        {"username": "boss", "groups": ["Admins"]},
        {"username": "alice", "groups": ["Helpdesk"]},
        {"username": "bob", "groups": ["Helpdesk", "Directory"]},
    ],
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Callable[[dict[str, Any], str], Shcfg]]:
    """A factory: a sandbox with the given seed and /allversions release."""
    with contextlib.ExitStack() as stack:

        def make(seed: dict[str, Any], version: str = "5.5.16") -> Shcfg:
            base = tmp_path / f"s{len(stack._exit_callbacks)}"
            config = SandboxConfig(
                token=TOKEN, data_dir=base / "server", seed=seed, server_version=version
            )
            sandbox: Sandbox = stack.enter_context(Sandbox(config))
            (base / "work").mkdir(parents=True)
            return Shcfg(sandbox, base / "work")

        yield make


def _findings(shcfg: Shcfg, *args: str) -> list[dict[str, Any]]:
    result = shcfg("audit", "--format", "json", "--fail-on", "low", *args)
    assert result.exit_code in (0, 2), result.output
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return findings


def _hits(findings: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(f["rule"], f["object"]) for f in findings}


def test_every_rule_fires_on_a_risky_server(server: Callable[..., Shcfg]) -> None:
    shcfg = server(RISKY, "5.5.7")
    hits = _hits(_findings(shcfg))
    assert hits >= {
        ("SH001", "CVE-2024-57726"),
        ("SH001", "CVE-2026-48558"),
        ("SH002", "Kiosk"),
        ("SH003", "kiosk-guest-1"),
        ("SH004", "Admins"),
        ("SH006", ".*"),
        ("SH007", "Admins"),
        ("SH008", "old-admin"),
        ("SH009", "Admins"),
        ("SH010", "Directory"),
        ("SH011", "Remembered"),
        ("SH012", "Remembered"),
    }
    assert shcfg.writes() == []


def test_every_rule_stays_quiet_on_a_safe_server(server: Callable[..., Shcfg]) -> None:
    shcfg = server(SAFE, "5.5.16")
    result = shcfg("audit", "--fail-on", "low")
    assert result.exit_code == 0, result.output
    assert "Audit: no findings." in result.stdout
    assert shcfg.writes() == []


def test_no_restrictions_fires_sh005(server: Callable[..., Shcfg]) -> None:
    assert ("SH005", "server") in _hits(_findings(server({**SAFE, "techRestrictions": []})))


def test_group_logins_are_high_below_the_fix_and_medium_at_it(
    server: Callable[..., Shcfg],
) -> None:
    kiosk = {"groups": [{"name": "Kiosk", "allowAnonymousLogins": True}]}
    old = [f for f in _findings(server(kiosk, "5.5.15")) if f["rule"] == "SH002"]
    new = [f for f in _findings(server(kiosk, "5.5.16")) if f["rule"] == "SH002"]
    assert [f["severity"] for f in old] == ["high"]
    assert [f["severity"] for f in new] == ["medium"]
    assert "allowAnonymousLogins: false" in new[0]["manifest"]


def test_max_admins_is_configurable(server: Callable[..., Shcfg]) -> None:
    shcfg = server(RISKY, "5.5.16")
    assert ("SH007", "Admins") in _hits(_findings(shcfg))
    assert ("SH007", "Admins") not in _hits(_findings(shcfg, "--max-admins", "4"))


def test_fail_on_exit_codes(server: Callable[..., Shcfg]) -> None:
    shcfg = server(
        {
            "groups": [
                {
                    "name": "Remembered",
                    **SAFE_GROUP,
                    "mfaSettings": {"app": True, "rememberMachine": True},
                }
            ],
            "techRestrictions": ["10\\..*"],
        }
    )
    assert shcfg("audit", "--fail-on", "low").exit_code == 2
    assert shcfg("audit", "--fail-on", "medium").exit_code == 0
    assert shcfg("audit").exit_code == 0


def test_json_validates_against_the_committed_schema(server: Callable[..., Shcfg]) -> None:
    schema = json.loads((ROOT / "schemas" / "audit.schema.json").read_text(encoding="utf-8"))
    result = server(RISKY, "5.5.7")("audit", "--format", "json")
    assert result.exit_code == 2
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema)
    assert document["version"] == "5.5.7"
    assert document["summary"]["high"] >= 5


def test_sarif_validates_and_points_at_the_declaring_manifest_line(
    server: Callable[..., Shcfg],
) -> None:
    shcfg = server(RISKY, "5.5.7")
    path = shcfg.manifest(
        """\
        version: 1
        groups:
          - name: Helpdesk
            permissions: {canRunTools: true}
          - name: Kiosk
            allowAnonymousLogins: true
        """
    )
    result = shcfg("audit", "--format", "sarif", "--manifests", str(path))
    assert result.exit_code == 2, result.output
    log = json.loads(result.stdout)
    validate_sarif(log)
    results = log["runs"][0]["results"]
    rules = [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]]
    assert rules == sorted(RULES)
    kiosk = [r for r in results if r["ruleId"] == "SH002"]
    assert {r["properties"]["source"] for r in kiosk} == {"live", "manifests"}
    for r in kiosk:
        location = r["locations"][0]["physicalLocation"]
        assert location == {
            "artifactLocation": {"uri": "manifest.yaml"},
            "region": {"startLine": 5},
        }
    undeclared = next(r for r in results if r["ruleId"] == "SH004")
    assert undeclared["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "manifest.yaml"
    )


def test_sarif_without_manifests_points_at_the_project_file(
    server: Callable[..., Shcfg],
) -> None:
    shcfg = server(RISKY, "5.5.7")
    (shcfg.workdir / "shcfg.yaml").write_text("manifests: [manifests/]\n", encoding="utf-8")
    log = json.loads(shcfg("audit", "--format", "sarif").stdout)
    validate_sarif(log)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"shcfg.yaml"}


def test_markdown_and_text_group_by_severity(server: Callable[..., Shcfg]) -> None:
    shcfg = server(RISKY, "5.5.7")
    text = shcfg("audit").stdout
    assert text.index("HIGH (") < text.index("MEDIUM (") < text.index("LOW (")
    markdown = shcfg("audit", "--format", "markdown").stdout
    assert markdown.startswith("## shcfg audit")
    assert "### High (" in markdown
    assert "```yaml" in markdown


def test_manifests_alone_audit_the_declared_state(tmp_path: Path, shcfg: Shcfg) -> None:
    path = shcfg.manifest(
        """\
        version: 1
        server:
          techRestrictions: ['.*']
        groups:
          - name: Open
            allowAnonymousLogins: true
            mfaSettings: {app: false, email: false}
        technicians:
          - username: carol
            groups: [Open]
        """
    )
    result = shcfg(
        "audit", "--format", "json", "--manifests", str(path), env={"SIMPLEHELP_URL": ""}
    )
    assert result.exit_code == 2, result.output
    report = json.loads(result.stdout)
    assert report["server"] is None
    assert _hits(report["findings"]) == {("SH002", "Open"), ("SH004", "Open"), ("SH006", ".*")}
    assert {f["source"] for f in report["findings"]} == {"manifests"}
    assert shcfg.sandbox.calls == []


def test_errors_exit_1_without_a_traceback(shcfg: Shcfg) -> None:
    result = shcfg("audit", env={"SIMPLEHELP_URL": ""})
    assert result.exit_code == 1
    assert "Error: no server URL" in result.stderr
    assert shcfg("audit", "--fail-on", "bogus").exit_code == 1


def test_manifests_with_secret_references_audit_without_the_secrets(shcfg: Shcfg) -> None:
    path = shcfg.manifest(SECRET_MANIFEST)
    result = shcfg("audit", "--manifests", str(path), env={"SIMPLEHELP_URL": ""})
    assert result.exit_code == 0, result.output
    assert "Audit: no findings." in result.stdout


def test_password_settings_values_never_shown(server: Callable[..., Shcfg]) -> None:
    canary = "canary-secret-77ab"
    group = {"name": "G", "passwordSettings": {"hint": canary, "enforce": False}}
    shcfg = server({"groups": [group], "technicians": [{"username": "t", "groups": ["G"]}]})
    for fmt in ("text", "json", "markdown", "sarif"):
        result = shcfg("audit", "--format", fmt, "--fail-on", "low")
        assert result.exit_code == 2
        assert "SH009" in result.stdout
        assert canary not in result.output
