"""Fleet renderings: one markdown comment shared by every server, JSON keyed by server."""

from __future__ import annotations

import json

from reconciler.plan import Action, Change, FieldChange, Phase, Plan
from reconciler.render.fleet import render_fleet_json, render_fleet_markdown
from reconciler.render.markdown import LIMIT


def _plan(server: str, count: int) -> Plan:
    changes = [
        Change(
            action=Action.CREATE,
            kind="technicians",
            identity=f"user-{i:05d}-{'x' * 40}",
            phase=Phase.TECHNICIANS,
            fields=(FieldChange(path="displayName", after="A long display name " * 3),),
        )
        for i in range(count)
    ]
    return Plan(server=server, changes=changes)


def test_every_server_has_a_section_within_one_comment() -> None:
    results: dict[str, Plan | str] = {
        f"site-{n}": _plan(f"https://s{n}.example", 2_000) for n in range(5)
    }
    results["broken"] = "HTTP 401: the token was refused"
    text = render_fleet_markdown(results)
    assert len(text) < LIMIT
    for name in results:
        assert f"## Server `{name}`" in text
    assert "**Failed:** HTTP 401: the token was refused" in text
    assert text.count("not shown here") == 5  # each big plan says it was cut, and where


def test_json_is_keyed_by_server() -> None:
    data = json.loads(render_fleet_json({"a": _plan("https://a", 1), "b": "unreachable"}))
    assert data["servers"]["a"]["summary"]["create"] == 1
    assert data["servers"]["b"] == {"error": "unreachable"}
