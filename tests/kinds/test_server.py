"""The server and techRestrictions kinds' diffs on constructed live state (no HTTP)."""

from __future__ import annotations

from reconciler.plan import Action, Label
from tests.kinds.conftest import Load, empty_live, plan_of


def test_hostname_is_read_and_changed_only_when_declared(load: Load) -> None:
    assert plan_of("server", load({}), empty_live(server="a.example")).changes == []
    manifest = load({"server": {"hostname": "b.example"}})
    (change,) = plan_of("server", manifest, empty_live(server="a.example")).changes
    assert [(f.path, f.before, f.after) for f in change.fields] == [
        ("hostname", "a.example", "b.example")
    ]


def test_restrictions_are_a_set_with_widening_and_narrowing_labels(load: Load) -> None:
    manifest = load({"server": {"techRestrictions": ["b", "a"]}})
    assert (
        plan_of("techRestrictions", manifest, empty_live(techRestrictions=["a", "b"])).changes == []
    )
    first = plan_of("techRestrictions", manifest, empty_live(techRestrictions=[])).changes
    assert [(c.action, c.identity, c.labels) for c in first] == [
        (Action.CREATE, "a", (Label.NARROWS_IP_RESTRICTIONS,)),
        (Action.CREATE, "b", (Label.NARROWS_IP_RESTRICTIONS,)),
    ]
    more = plan_of("techRestrictions", manifest, empty_live(techRestrictions=["a"])).changes
    assert [(c.identity, c.labels) for c in more] == [("b", (Label.WIDENS_IP_RESTRICTIONS,))]


def test_undeclared_patterns_are_removed_only_with_prune(load: Load) -> None:
    live = empty_live(techRestrictions=["a", "old"])
    off = plan_of("techRestrictions", load({"server": {"techRestrictions": ["a"]}}), live)
    assert off.changes == [] and [u.identity for u in off.undeclared] == ["old"]
    on = load({"server": {"techRestrictions": ["a"]}, "prune": {"techRestrictions": True}})
    (removal,) = plan_of("techRestrictions", on, live).changes
    assert (removal.action, removal.identity, removal.labels) == (
        Action.DELETE,
        "old",
        (Label.NARROWS_IP_RESTRICTIONS,),
    )
