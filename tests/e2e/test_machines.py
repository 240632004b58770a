"""Machines and machine-group properties end to end."""

from __future__ import annotations

from tests.e2e.conftest import Shcfg

BASE = """\
version: 1
machines:
  - machineID: SG_1
    monitoring: true
    notes: Front desk
    warnings: Do not reboot
    properties: {License: ABC-123, Owner: Reception}
  - machineID: SG_2
    properties: {License: DEF-456}
machineGroups:
  - path: [United Kingdom, London]
    properties: {site: LON, legacy: x}
"""


def _machine(shcfg: Shcfg, machine_id: str) -> dict[str, object]:
    return next(
        m for m in shcfg.sandbox.snapshot()["machines"] if m["obj"]["machineID"] == machine_id
    )


def test_machines_update_then_no_op_with_batched_reads(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE)
    plan = shcfg("plan", str(path))
    assert '~ notes: "" -> "Front desk"' in plan.stdout
    assert '~ properties.License: (none) -> "ABC-123"' in plan.stdout
    reads = [c.query for c in shcfg.sandbox.calls]
    assert reads.count("machines/properties/get") == 1
    assert reads.count("machines/notes/get") == 1
    assert shcfg("apply", str(path), "--auto-approve").exit_code == 0
    assert shcfg("plan", str(path), "--detailed-exitcode").exit_code == 0
    sg1 = _machine(shcfg, "SG_1")
    assert sg1["notes"] == "Front desk" and sg1["warnings"] == "Do not reboot"


def test_machine_property_prune_on_and_off(shcfg: Shcfg) -> None:
    assert shcfg("apply", str(shcfg.manifest(BASE)), "--auto-approve").exit_code == 0
    dropped = BASE.replace(", Owner: Reception", "")
    plan = shcfg("plan", str(shcfg.manifest(dropped)), "--detailed-exitcode")
    assert plan.exit_code == 0
    pruned = shcfg.manifest(dropped + "prune: {machineProperties: true}\n")
    plan = shcfg("plan", str(pruned))
    assert '- properties.Owner = "Reception"' in plan.stdout
    assert shcfg("apply", str(pruned), "--auto-approve").exit_code == 0
    assert "machines/properties/remove" in shcfg.writes()


def test_unknown_machine_and_group_are_warnings_not_writes(shcfg: Shcfg) -> None:
    path = shcfg.manifest(
        "version: 1\nmachines:\n  - machineID: SG_404\n    notes: x\n"
        "machineGroups:\n  - path: [Nowhere]\n    properties: {a: b}\n"
    )
    result = shcfg("apply", str(path), "--auto-approve")
    assert result.exit_code == 0
    assert "machine 'SG_404' is not registered" in result.stdout
    assert "machine group 'Nowhere' does not exist" in result.stdout
    assert shcfg.writes() == []


def test_machine_group_dropped_property_is_a_warning(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE.replace("{site: LON, legacy: x}", "{site: LON}"))
    plan = shcfg("plan", str(path))
    assert "properties legacy are not declared and cannot be removed through the API" in plan.stdout
    assert shcfg("apply", str(path), "--auto-approve").exit_code == 0
    assert shcfg("plan", str(path), "--detailed-exitcode").exit_code == 0


def test_declaring_an_ignored_machine_is_refused(shcfg: Shcfg) -> None:
    path = shcfg.manifest(
        BASE + "ignore: {machines: ['SG_*'], machineGroups: ['United Kingdom/*']}\n"
    )
    plan = shcfg("plan", str(path))
    assert plan.exit_code == 1, plan.output
    assert f"{path}:3:5: machine 'SG_1' is matched by ignore.machines pattern 'SG_*'" in plan.stderr
    assert "machine group 'United Kingdom/London' is matched" in plan.stderr
    assert shcfg.writes() == []


def test_wrong_type_names_the_place(shcfg: Shcfg) -> None:
    path = shcfg.manifest(BASE.replace("monitoring: true", "monitoring: 'yes'"))
    result = shcfg("validate", str(path))
    assert result.exit_code == 1
    assert f"{path}:4:17: machines[0].monitoring" in result.stderr
