"""Renderers on hand-built plans: JSON against its committed schema, markdown escaping."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from reconciler.plan import Action, Change, FieldChange, Label, Phase, Plan, Undeclared
from reconciler.render import render_json, render_markdown, render_text
from reconciler.render.markdown import escape
from reconciler.render.schema import render_schema

SCHEMAS = Path(__file__).parents[1] / "schemas"


def _plan() -> Plan:
    return Plan(
        server="https://support.example.com:443",
        changes=[
            Change(
                action=Action.UPDATE,
                kind="groups",
                identity="Helpdesk",
                phase=Phase.GROUPS,
                rename_from="Support",
                fields=(
                    FieldChange(path="name", before="Support", after="Helpdesk"),
                    FieldChange(path="mfaSettings.app", before=True, after=False),
                    FieldChange(path="password", sensitive=True),
                ),
                labels=(Label.WEAKENS_MFA, Label.SETS_PASSWORD),
            ),
            Change(
                action=Action.DELETE,
                kind="technicians",
                identity="bob",
                phase=Phase.DELETE_TECHNICIANS,
                labels=(Label.DELETES_TECHNICIAN,),
            ),
        ],
        warnings=["machine 'SG_9' is not registered"],
        undeclared=[Undeclared(kind="groups", identity="Old", reason="prune.groups is off")],
    )


def test_committed_plan_schema_is_fresh() -> None:
    assert (SCHEMAS / "plan.schema.json").read_text(encoding="utf-8") == render_schema()


def test_json_plan_is_valid_and_masks_secrets() -> None:
    data = json.loads(render_json(_plan()))
    jsonschema.Draft202012Validator(json.loads(render_schema())).validate(data)
    helpdesk = data["changes"][0]
    assert helpdesk["renamedFrom"] == "Support"
    assert helpdesk["fields"][2] == {
        "path": "password",
        "before": "(sensitive)",
        "after": "(sensitive)",
        "sensitive": True,
    }
    assert data["summary"] == {"create": 0, "update": 1, "delete": 1}


def test_schema_rejects_an_unknown_label() -> None:
    data = json.loads(render_json(_plan()))
    data["changes"][0]["labels"] = ["made-up"]
    errors = list(jsonschema.Draft202012Validator(json.loads(render_schema())).iter_errors(data))
    assert len(errors) == 1


def test_labels_show_in_every_format() -> None:
    plan = _plan()
    text = render_text(plan).plain
    markdown = render_markdown(plan)
    for label in ("weakens-mfa", "sets-password", "deletes-technician"):
        assert label in text
        assert label in markdown
        assert label in render_json(plan)


def test_escape_neutralises_markdown_and_html() -> None:
    assert escape("a|b") == "a\\|b"
    assert escape("`x`") == "\\`x\\`"
    assert escape("</details>") == "&lt;/details&gt;"
    assert escape("one\ntwo\r\nthree") == "one\\ntwo\\nthree"
    assert escape("[link](http://x)") == "\\[link\\]\\(http://x\\)"


def test_markdown_puts_security_then_deletions_then_details() -> None:
    markdown = render_markdown(_plan())
    order = [markdown.index(s) for s in ("| create |", "Security impact", "Deletions", "<details>")]
    assert order == sorted(order)
    assert "renamed from" in markdown
