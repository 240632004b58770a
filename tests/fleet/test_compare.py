"""`shcfg compare`: a twin that matches once variables are undone, and one that drifted."""

from __future__ import annotations

import json

from reconciler.compare import Difference, differences, with_variables
from tests.fleet.conftest import Fleet
from tests.fleet.test_fleet_e2e import _layout


def test_twins_match_after_their_variables_and_drift_shows(fleet: Fleet) -> None:
    _layout(fleet)
    assert fleet("apply", "--all-servers", "--auto-approve").exit_code == 0
    assert fleet.hostname("dr") != fleet.hostname("staging")
    same = fleet("compare", "--server", "dr", "--server", "staging")
    assert same.exit_code == 0, same.output
    assert "No differences: dr and staging match" in same.stdout
    fleet.write("extra/drift.yaml", "version: 1\ntechnicians:\n  - username: drifted\n")
    assert fleet("apply", "--server", "dr", "extra/drift.yaml", "--auto-approve").exit_code == 0
    drifted = fleet("compare", "--server", "dr", "--server", "staging")
    assert drifted.exit_code == 2, drifted.output
    assert "technicians 'drifted': only on dr" in drifted.stdout
    overlay = fleet("compare", "--server", "prod", "--server", "dr", "--format", "json")
    assert overlay.exit_code == 2
    data = json.loads(overlay.stdout)
    assert data["equal"] is False
    assert {
        "kind": "technicians",
        "identity": "prod-only",
        "field": None,
        "prod": "present",
        "dr": "absent",
    } in data["differences"]
    assert all(d["field"] != "hostname" for d in data["differences"])


def test_compare_needs_two_servers_of_the_project(fleet: Fleet) -> None:
    _layout(fleet)
    one = fleet("compare", "--server", "dr")
    assert one.exit_code == 1 and "two different servers" in one.stderr
    down = fleet(
        "compare", "--server", "dr", "--server", "prod", env={"DR_TOKEN": "bad-token-canary"}
    )
    assert down.exit_code == 1 and "bad-token-canary" not in down.output


def test_variables_are_undone_as_whole_words_only() -> None:
    config = {"server": {"hostname": "dr.example.com"}, "groups": [{"name": "LON desk"}]}
    undone = with_variables(config, {"hostname": "dr.example.com", "site": "LON"})
    assert undone == {
        "server": {"hostname": "${var:hostname}"},
        "groups": [{"name": "${var:site} desk"}],
    }
    assert with_variables({"x": "LONDON"}, {"site": "LON"}) == {"x": "LONDON"}
    left = {"technicians": [{"username": "a", "groups": ["x", "y"]}]}
    right = {"technicians": [{"username": "a", "groups": ["y", "x"]}, {"username": "b"}]}
    assert differences(left, right) == [Difference("technicians", "b", None, "absent", "present")]
