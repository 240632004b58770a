"""Soak test: many seeded `shcfg apply` runs of a realistic manifest through injected faults.

Each run gets a fresh sandbox that fails 20% of requests (500, 503, 429, reset, timeout,
HTML page) with its own seed, applies the manifest in-process through the real CLI, and
is then checked: exit 0 (or a second apply converges), no duplicate object, the final
state equal to the manifest (snapshot and a fault-free `plan` with no changes), and no
canary secret in any output, journal or file written.

    python tools/soak.py [--runs 100] [--first-seed 1] [--fail-rate 0.2]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.client.transport import Transport
from reconciler.journal import owed_secrets
from reconciler.sandbox import Sandbox, SandboxConfig
from reconciler.sandbox.faults import FAULT_KINDS

TOKEN = "soak-canary-token-5b8e21"
SECRETS = {
    "HELPDESK_PW": "canary-helpdesk-pw-71c3",
    "ADMINS_PW": "canary-admins-pw-90d4",
    "ALICE_PW": "canary-alice-pw-2f6a",
    "BOB_PW": "canary-bob-pw-48e1",
    "CAROL_PW": "canary-carol-pw-c35b",
}
CANARIES = (TOKEN, *SECRETS.values())
#: The emulator answers at once, so the client's retry backoff is scaled down from 0.5 s:
#: what is soaked is the retry and resolve logic, not the waiting.
BACKOFF_FACTOR = 0.02

SEED: dict[str, Any] = {
    "hostname": "old.example.com",
    "techRestrictions": [r"192\.168\..*"],
    "groups": [{"name": "Legacy"}],
    "technicians": [{"username": "mallory", "groups": ["Legacy"]}],
    "machines": [
        {"machineID": "SG_1", "name": "Front desk", "groups": ["United Kingdom", "London"]},
        {"machineID": "SG_2", "name": "Back office", "groups": ["United Kingdom", "London"]},
        {"machineID": "SG_3", "name": "Paris kiosk", "groups": ["France", "Paris"]},
    ],
    "machineGroups": [{"path": ["United Kingdom", "London"], "properties": {"legacy": "x"}}],
}

MANIFEST = """\
version: 1
server:
  hostname: support.example.com
  techRestrictions: ['10\\.0\\..*', '172\\.16\\..*']
  keepAccessFrom: [10.0.0.5]
groups:
  - name: Helpdesk
    allowAnonymousLogins: false
    max_groupShSessions: 10
    mfaSettings: {app: true, email: false, rememberMachine: true}
    permissions: {canRunTools: true}
    password: ${env:HELPDESK_PW}
  - name: Admins
    maxFileSize: 104857600
    permissions: {canRunTools: true}
    password: ${env:ADMINS_PW}
technicians:
  - username: alice
    displayName: Alice Smith
    emailAddress: alice@example.com
    groups: [Helpdesk]
    password: ${env:ALICE_PW}
  - username: bob
    displayName: Bob Jones
    groups: [Helpdesk, Admins]
    password: ${env:BOB_PW}
  - username: carol
    displayName: Carol White
    enabled: false
    groups: [Admins]
    password: ${env:CAROL_PW}
machines:
  - machineID: SG_1
    monitoring: true
    notes: Front desk PC
    warnings: Do not reboot during opening hours
    properties: {License: ABC-123}
  - machineID: SG_3
    notes: Paris kiosk
    properties: {License: XYZ-789, Site: PAR}
machineGroups:
  - path: [United Kingdom, London]
    properties: {site: LON}
  - path: [France, Paris]
    properties: {site: PAR}
prune:
  technicians: true
  groups: true
  techRestrictions: true
"""


@dataclass
class RunReport:
    """What one seeded run did and what its checks found."""

    seed: int
    exit_codes: list[int] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    converged: bool = False
    duplicates: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    last_output: str = ""

    @property
    def ok(self) -> bool:
        return self.converged and not (self.duplicates or self.mismatches or self.leaks)


@contextlib.contextmanager
def fast_backoff(factor: float = BACKOFF_FACTOR) -> Iterator[None]:
    """Make every client the CLI builds back off `factor` seconds instead."""
    defaults = Transport.__init__.__kwdefaults__
    saved = defaults["backoff_factor"]
    defaults["backoff_factor"] = factor
    try:
        yield
    finally:
        defaults["backoff_factor"] = saved


def _invoke(args: Iterable[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    with contextlib.chdir(cwd), fast_backoff():
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def duplicates(snapshot: dict[str, Any]) -> list[str]:
    """Objects that exist twice on the server: the failure a blind retry would cause."""
    found = []
    for label, names in (
        ("technician", [t["obj"]["username"] for t in snapshot["technicians"]]),
        ("group", [g["obj"]["name"] for g in snapshot["groups"]]),
        ("tech restriction", list(snapshot["techRestrictions"])),
    ):
        found += [f"{label} {name!r} x{n}" for name, n in Counter(names).items() if n > 1]
    return found


def mismatches(snapshot: dict[str, Any]) -> list[str]:
    """Differences between the server's final state and MANIFEST."""
    problems = []
    if snapshot["hostname"] != "support.example.com":
        problems.append(f"hostname {snapshot['hostname']!r}")
    if sorted(snapshot["techRestrictions"]) != [r"10\.0\..*", r"172\.16\..*"]:
        problems.append(f"techRestrictions {snapshot['techRestrictions']}")
    groups = {g["obj"]["name"]: g for g in snapshot["groups"]}
    if sorted(groups) != ["Admins", "Helpdesk"]:
        problems.append(f"groups {sorted(groups)}")
    for name, group in groups.items():
        if group["permissions"].get("canRunTools") is not True:
            problems.append(f"group {name}: canRunTools")
        if not group["passwordSet"]:
            problems.append(f"group {name}: password not set")
    ids = {g["obj"]["uniqueID"]: name for name, g in groups.items()}
    want = {"alice": ["Helpdesk"], "bob": ["Admins", "Helpdesk"], "carol": ["Admins"]}
    techs = {t["obj"]["username"]: t for t in snapshot["technicians"]}
    if sorted(techs) != sorted(want):
        problems.append(f"technicians {sorted(techs)}")
    for name, groups_wanted in want.items():
        tech = techs.get(name)
        if tech is None:
            continue
        have = sorted(ids.get(i, f"#{i}") for i in tech["obj"]["groupIDs"])
        if have != groups_wanted:
            problems.append(f"technician {name}: groups {have}")
        if not tech["passwordSet"]:
            problems.append(f"technician {name}: password not set")
        if tech["obj"]["enabled"] is not (name != "carol"):
            problems.append(f"technician {name}: enabled {tech['obj']['enabled']}")
    machines = {m["obj"]["machineID"]: m for m in snapshot["machines"]}
    if (
        machines["SG_1"]["notes"] != "Front desk PC"
        or not machines["SG_1"]["obj"]["monitoringEnabled"]
    ):
        problems.append("machine SG_1")
    if machines["SG_3"]["properties"] != {"License": "XYZ-789", "Site": "PAR"}:
        problems.append(f"machine SG_3 properties {machines['SG_3']['properties']}")
    paths = {"/".join(g["path"]): g["properties"] for g in snapshot["machineGroups"]}
    if paths.get("United Kingdom/London", {}).get("site") != "LON":
        problems.append("machine group United Kingdom/London")
    if paths.get("France/Paris", {}).get("site") != "PAR":
        problems.append("machine group France/Paris")
    return problems


def leaks(texts: Iterable[str], directory: Path) -> list[str]:
    """Canary secrets found in any output text or any file under `directory`."""
    found = []
    for index, text in enumerate(texts):
        found += [f"output #{index}" for canary in CANARIES if canary in text]
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [str(path) for canary in CANARIES if canary.encode() in data]
    return found


def run_once(
    seed: int, workdir: Path, *, fail_rate: float = 0.2, fault_timeout_s: float = 0.05
) -> RunReport:
    """One seeded apply through faults (and a second one if needed), then every check."""
    report = RunReport(seed=seed)
    workdir.mkdir(parents=True, exist_ok=True)
    manifest = workdir / "manifest.yaml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    # The whole set, as a project names it: pruning the seed's only group is then no mass delete.
    (workdir / "shcfg.yaml").write_text("manifests: [manifest.yaml]\n", encoding="utf-8")
    config = SandboxConfig(
        token=TOKEN,
        seed=SEED,
        fail_rate=fail_rate,
        fail_kinds=FAULT_KINDS,
        fail_seed=seed,
        fault_timeout_s=fault_timeout_s,
    )
    outputs: list[str] = []
    with Sandbox(config) as sandbox:
        env = {"SIMPLEHELP_URL": sandbox.url, "SIMPLEHELP_API_TOKEN": TOKEN, **SECRETS}
        apply_args = ["apply", str(manifest), "--auto-approve", "--timeout", "2"]
        for _attempt in range(2):
            # What the warning tells an operator: passwords the journal owes are re-sent.
            owed = owed_secrets(workdir / ".shcfg" / "journal.jsonl")
            code, output = _invoke(
                [*apply_args, "--rotate-secrets"] if owed else apply_args, env, workdir
            )
            report.exit_codes.append(code)
            outputs.append(output)
            if code == 0:
                break
        report.faults = Counter(c.fault for c in sandbox.calls if c.fault)
        snapshot = sandbox.snapshot()
        sandbox.faults.fail_rate = 0.0
        code, output = _invoke(["plan", str(manifest), "--detailed-exitcode"], env, workdir)
        outputs.append(output)
    report.last_output = output
    report.converged = report.exit_codes[-1] == 0 and code == 0
    report.duplicates = duplicates(snapshot)
    report.mismatches = mismatches(snapshot)
    report.leaks = leaks(outputs, workdir)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--fail-rate", type=float, default=0.2)
    args = parser.parse_args(argv)
    reports = []
    with tempfile.TemporaryDirectory(prefix="shcfg-soak-") as tmp:
        for seed in range(args.first_seed, args.first_seed + args.runs):
            report = run_once(seed, Path(tmp) / f"run-{seed}", fail_rate=args.fail_rate)
            reports.append(report)
            if not report.ok:
                print(
                    f"seed {seed}: exits {report.exit_codes} duplicates {report.duplicates} "
                    f"mismatches {report.mismatches} leaks {report.leaks}\n{report.last_output}",
                    file=sys.stderr,
                )
    faults: Counter[str] = Counter()
    for report in reports:
        faults.update(report.faults)
    print(f"runs:        {len(reports)}")
    print(
        f"faults:      {sum(faults.values())} injected ("
        + ", ".join(f"{kind} {faults[kind]}" for kind in FAULT_KINDS)
        + ")"
    )
    first = sum(1 for r in reports if r.exit_codes[0] == 0)
    print(f"converged:   {sum(r.converged for r in reports)} ({first} on the first apply)")
    print(f"duplicates:  {sum(len(r.duplicates) for r in reports)}")
    print(f"mismatches:  {sum(len(r.mismatches) for r in reports)}")
    print(f"leaks:       {sum(len(r.leaks) for r in reports)}")
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
