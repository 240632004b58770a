"""The machines and machine-group kinds' diffs on constructed live state (no HTTP)."""

from __future__ import annotations

from typing import Any

from reconciler.kinds.machines import LiveMachine
from reconciler.plan import SENSITIVE, Plan
from reconciler.render import render_text
from tests.kinds.conftest import Load, empty_live, plan_of


def _live(**machines: LiveMachine) -> dict[str, Any]:
    return empty_live(machines=machines)


def test_missing_machine_is_a_warning_and_monitoring_none_is_not_false(load: Load) -> None:
    manifest = load({"machines": [{"machineID": "M1", "monitoring": False}, {"machineID": "M9"}]})
    result = plan_of("machines", manifest, _live(M1=LiveMachine(None, "", "", {})))
    (change,) = result.changes
    assert [(f.path, f.before, f.after) for f in change.fields] == [("monitoring", None, False)]
    assert len(result.warnings) == 1 and "'M9' is not registered" in result.warnings[0]


def test_properties_set_and_prune_removes_undeclared_keys(load: Load) -> None:
    live = _live(M1=LiveMachine(True, "n", "w", {"Keep": "1", "Old": "x"}))
    declared = {"machineID": "M1", "properties": {"Keep": "2"}}
    off = plan_of("machines", load({"machines": [declared]}), live)
    assert [f.path for f in off.changes[0].fields] == ["properties.Keep"]
    on = plan_of(
        "machines", load({"machines": [declared], "prune": {"machineProperties": True}}), live
    )
    assert [(f.path, f.before, f.after) for f in on.changes[0].fields] == [
        ("properties.Keep", "1", "2"),
        ("properties.Old", "x", None),
    ]


def test_prune_beside_a_secret_property_is_a_removal_shown_as_one(load: Load) -> None:
    """Issue 12.6: a secret-bearing properties map made the removal (sensitive) ->
    (sensitive), and apply then looked up a secret that does not exist."""
    live = _live(M1=LiveMachine(True, "", "", {"License": "LIC-0000-1", "Old": "x"}))
    manifest = load(
        {
            "machines": [{"machineID": "M1", "properties": {"License": "${env:LIC}"}}],
            "prune": {"machineProperties": True},
        },
        LIC="LIC-0000-1",
    )
    (change,) = plan_of("machines", manifest, live).changes
    (removal,) = change.fields
    assert (removal.path, removal.sensitive, removal.before, removal.after) == (
        "properties.Old",
        False,
        "x",
        None,
    )
    text = render_text(Plan(changes=[change])).plain
    assert '- properties.Old = "x"' in text and SENSITIVE not in text


def test_ignored_machine_is_left_alone(load: Load) -> None:
    manifest = load(
        {"machines": [{"machineID": "M1", "notes": "n"}], "ignore": {"machines": ["M*"]}}
    )
    assert plan_of("machines", manifest, _live(M1=LiveMachine(None, "", "", {}))).changes == []


def test_machine_group_properties_and_what_the_api_cannot_do(load: Load) -> None:
    live = empty_live(machineGroups={"UK/London": {"site": "LON", "legacy": "x"}, "FR": None})
    manifest = load(
        {
            "machineGroups": [
                {"path": ["UK", "London"], "properties": {"site": "L2"}},
                {"path": ["FR"], "properties": {"a": "b"}},
            ]
        }
    )
    result = plan_of("machineGroups", manifest, live)
    (change,) = result.changes
    assert change.identity == "UK/London" and change.base == {"path": ["UK", "London"]}
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("properties.site", "LON", "L2")
    ]
    assert any("legacy" in w and "cannot be removed" in w for w in result.warnings)
    assert any("'FR' does not exist" in w for w in result.warnings)
