"""The whole loop on every kind: plan, apply, converge, no write on a second apply."""

from __future__ import annotations

from tests.e2e.conftest import Shcfg

FULL = """\
version: 1
server:
  hostname: support.example.com
  techRestrictions: ['10\\.0\\..*']
groups:
  - name: Helpdesk
    mfaSettings: {app: true, email: false}
    permissions: {canRunTools: true}
    password: ${env:GROUP_PW}
technicians:
  - username: alice
    displayName: Alice Smith
    groups: [Helpdesk]
    password: ${env:ALICE_PW}
machines:
  - machineID: SG_1
    monitoring: true
    notes: Front desk
    properties: {License: ABC-123}
machineGroups:
  - path: [United Kingdom, London]
    properties: {site: LON}
"""
SECRETS = {"GROUP_PW": "group-secret-4411", "ALICE_PW": "alice-secret-9932"}


def test_apply_converges_and_second_apply_writes_nothing(shcfg: Shcfg) -> None:
    path = shcfg.manifest(FULL)
    first = shcfg("apply", str(path), "--auto-approve", env=SECRETS)
    assert first.exit_code == 0, first.output
    assert "Apply complete: 6 applied, 0 failed, 0 not attempted." in first.stdout
    again = shcfg("plan", str(path), "--detailed-exitcode", env=SECRETS)
    assert again.exit_code == 0, again.output
    shcfg.sandbox.reset_calls()
    second = shcfg("apply", str(path), "--auto-approve", env=SECRETS)
    assert second.exit_code == 0
    assert shcfg.writes() == []
    for secret in SECRETS.values():
        assert secret not in first.output + second.output
