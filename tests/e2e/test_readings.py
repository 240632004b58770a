"""Plan, apply, export and convergence through the CLI against every reading of the API.

Each reading (`reconciler.sandbox.READINGS`) is a way a real server may answer where the
reference leaves it open. The whole loop must work against each one alone, against all
of them at once, and against all of them at once under injected faults.
"""

from __future__ import annotations

import contextlib
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from reconciler.sandbox import ALL_READINGS, Sandbox, SandboxConfig
from reconciler.sandbox.faults import FAULT_KINDS
from tests.e2e.conftest import READING_CASES as CASES
from tests.e2e.conftest import TOKEN, Shcfg
from tools.soak import duplicates, fast_backoff

ROOT = Path(__file__).parents[2]
ORG_SECRETS = {
    "HELPDESK_GROUP_PASSWORD": "readings-helpdesk-pw-61d0",
    "ALICE_PASSWORD": "readings-alice-pw-0b7e",
}
MakeShcfg = Callable[..., Shcfg]


@pytest.fixture
def make_shcfg(tmp_path: Path) -> Iterator[MakeShcfg]:
    """Start a sandbox with the given config fields; the CLI is told its backup query."""
    with contextlib.ExitStack() as stack:
        count = 0

        def make(**config: Any) -> Shcfg:
            nonlocal count
            count += 1
            base = tmp_path / f"server{count}"
            server = stack.enter_context(
                Sandbox(SandboxConfig(token=TOKEN, data_dir=base / "state", **config))
            )
            (base / "work").mkdir(parents=True)
            shcfg = Shcfg(server, base / "work")
            # The one setting a user must give for a server whose backup query differs.
            shcfg.env["SIMPLEHELP_BACKUP_QUERY"] = server.cfg.backup_query
            return shcfg

        yield make


def org_manifests(shcfg: Shcfg) -> Path:
    """examples/org: groups with permissions and passwords, technicians in groups,
    restrictions, hostname, machines with notes and properties, machine groups."""
    target = shcfg.workdir / "org"
    shutil.copytree(ROOT / "examples" / "org", target)
    return target


def assert_org_applied(snapshot: dict[str, Any]) -> None:
    """The server holds what examples/org says (spot checks of every kind)."""
    assert snapshot["hostname"] == "support.example.com"
    assert sorted(snapshot["techRestrictions"]) == [r"10\.1\..*", r"10\.2\..*", r"192\.0\.2\.10"]
    groups = {g["obj"]["name"]: g for g in snapshot["groups"]}
    assert sorted(groups) == ["Administrators", "Field Engineers", "Helpdesk"]
    assert groups["Helpdesk"]["passwordSet"]
    assert groups["Helpdesk"]["permissions"]["canUseChat"] is True
    assert groups["Helpdesk"]["permissions"]["canRunTools"] is False
    assert groups["Field Engineers"]["permissions"]["canRunTools"] is True
    assert groups["Field Engineers"]["obj"]["ldapSettings"]["baseDN"] == (
        "ou=engineers,dc=example,dc=com"
    )
    names = {g["obj"]["uniqueID"]: name for name, g in groups.items()}
    techs = {t["obj"]["username"]: t for t in snapshot["technicians"]}
    assert len(techs) == 8
    assert sorted(names[i] for i in techs["alice"]["obj"]["groupIDs"]) == [
        "Administrators",
        "Helpdesk",
    ]
    assert techs["alice"]["passwordSet"]
    assert techs["frank"]["obj"]["enabled"] is False
    machines = {m["obj"]["machineID"]: m for m in snapshot["machines"]}
    assert machines["SG_1001"]["notes"] == "Front desk PC, London"
    assert machines["SG_1001"]["warnings"] == "Do not reboot during opening hours (08:00-18:00)"
    assert machines["SG_1003"]["properties"] == {
        "AssetTag": "A-2003",
        "Owner": "Manchester warehouse",
    }
    paths = {tuple(g["path"]): g["properties"] for g in snapshot["machineGroups"]}
    assert paths[("United Kingdom", "London")] == {"site": "LON", "timezone": "Europe/London"}
    assert paths[("France", "Paris")]["timezone"] == "Europe/Paris"
    assert duplicates(snapshot) == []


@pytest.mark.parametrize("options", CASES)
def test_plan_apply_export_converge_under_each_reading(
    make_shcfg: MakeShcfg, options: dict[str, Any]
) -> None:
    shcfg = make_shcfg(seed=ROOT / "examples" / "seed.yaml", **options)
    org = org_manifests(shcfg)
    env = ORG_SECRETS
    assert shcfg("validate", str(org), env=env).exit_code == 0
    plan = shcfg("plan", str(org), "--detailed-exitcode", env=env)
    assert plan.exit_code == 2, plan.output
    assert shcfg.writes() == []
    applied = shcfg("apply", str(org), "--auto-approve", env=env)
    assert applied.exit_code == 0, applied.output
    assert " 0 failed, 0 not attempted." in applied.stdout
    assert shcfg.writes()[0] == shcfg.sandbox.cfg.backup_query
    assert_org_applied(shcfg.sandbox.snapshot())
    again = shcfg("plan", str(org), "--detailed-exitcode", env=env)
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout
    exported = shcfg("export", "--out", "exported", "--include-machines")
    assert exported.exit_code == 0, exported.output
    shcfg.sandbox.reset_calls()
    replan = shcfg("plan", "exported", "--detailed-exitcode")
    assert replan.exit_code == 0, replan.output
    assert "No changes." in replan.stdout
    assert shcfg.writes() == []
    outputs = "".join(r.output for r in (plan, applied, again, exported, replan))
    files = b"".join(p.read_bytes() for p in shcfg.workdir.rglob("*") if p.is_file())
    for secret in (TOKEN, *ORG_SECRETS.values()):
        assert secret not in outputs
        assert secret.encode() not in files


def test_backup_under_another_query_stops_before_any_write_until_configured(
    make_shcfg: MakeShcfg,
) -> None:
    shcfg = make_shcfg(seed=ROOT / "examples" / "seed.yaml", readings="all")
    org = org_manifests(shcfg)
    del shcfg.env["SIMPLEHELP_BACKUP_QUERY"]
    refused = shcfg("apply", str(org), "--auto-approve", env=ORG_SECRETS)
    assert refused.exit_code == 1
    assert "--backup-query" in refused.stderr and "SIMPLEHELP_BACKUP_QUERY" in refused.stderr
    assert "Traceback" not in refused.output
    # The unknown query is no write the server knows of; nothing else was sent to write.
    assert shcfg.writes() == []
    backups = [(c.query, c.status) for c in shcfg.sandbox.calls if "backup" in c.query]
    assert backups == [("server/backup", 404)]
    assert shcfg.sandbox.snapshot()["groups"] == []
    fixed = shcfg(
        "apply",
        str(org),
        "--auto-approve",
        "--backup-query",
        ALL_READINGS["backup_query"],
        env=ORG_SECRETS,
    )
    assert fixed.exit_code == 0, fixed.output
    assert_org_applied(shcfg.sandbox.snapshot())


SMALL = """\
version: 1
server:
  hostname: support.example.com
  techRestrictions: ['10\\.0\\..*']
groups:
  - name: Helpdesk
    permissions: {canRunTools: true, canUseChat: true}
    password: ${env:GROUP_PW}
technicians:
  - username: alice
    displayName: Alice Smith
    groups: [Helpdesk]
    password: ${env:ALICE_PW}
  - username: bob
    groups: [Helpdesk]
machines:
  - machineID: SG_1
    notes: Front desk
    properties: {License: ABC-123}
machineGroups:
  - path: [United Kingdom, London]
    properties: {site: LON}
"""
SMALL_SECRETS = {"GROUP_PW": "readings-group-pw-a41c", "ALICE_PW": "readings-alice-pw-93e2"}
SMALL_SEED: dict[str, Any] = {
    "hostname": "old.example.com",
    "machines": [
        {"machineID": "SG_1", "name": "Front desk", "groups": ["United Kingdom", "London"]},
    ],
}


#: Seeds whose runs fault writes of every kind; under 9, a read exhausts its retries and
#: the first apply stops, so the second one must finish the job.
@pytest.mark.parametrize("fail_seed", [5, 9, 24, 57])
def test_all_readings_under_faults_converge_without_duplicates(
    make_shcfg: MakeShcfg, fail_seed: int
) -> None:
    shcfg = make_shcfg(
        seed=SMALL_SEED,
        readings="all",
        fail_rate=0.2,
        fail_kinds=FAULT_KINDS,
        fail_seed=fail_seed,
        fault_timeout_s=0.05,
    )
    path = shcfg.manifest(SMALL)
    args = ["apply", str(path), "--auto-approve", "--timeout", "2"]
    with fast_backoff():
        first = shcfg(*args, env=SMALL_SECRETS)
        # A password whose write failed is owed: a second run sends it again.
        second = shcfg(*args, "--rotate-secrets", env=SMALL_SECRETS) if first.exit_code else first
    assert second.exit_code == 0, first.output + second.output
    for result in (first, second):
        assert "Traceback" not in result.output
    faults = Counter(c.fault for c in shcfg.sandbox.calls if c.fault and c.write)
    assert sum(faults.values()) > 0
    snapshot = shcfg.sandbox.snapshot()
    assert duplicates(snapshot) == []
    shcfg.sandbox.faults.fail_rate = 0.0
    final = shcfg("plan", str(path), "--detailed-exitcode", env=SMALL_SECRETS)
    assert final.exit_code == 0, final.output
    groups = {g["obj"]["name"]: g for g in snapshot["groups"]}
    assert groups["Helpdesk"]["permissions"]["canRunTools"] is True
    assert groups["Helpdesk"]["passwordSet"]
    techs = {t["obj"]["username"]: t for t in snapshot["technicians"]}
    assert sorted(techs) == ["alice", "bob"]
    assert techs["alice"]["passwordSet"]
    assert techs["bob"]["obj"]["groupIDs"] == [groups["Helpdesk"]["obj"]["uniqueID"]]
    assert snapshot["techRestrictions"] == [r"10\.0\..*"]
    for secret in (TOKEN, *SMALL_SECRETS.values()):
        assert secret not in first.output + second.output + final.output
