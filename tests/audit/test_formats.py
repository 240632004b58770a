"""Renderers and schemas: the committed audit schema is fresh; SARIF validation is live."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from reconciler.audit.findings import Finding, Place, Report, Severity, render_schema
from reconciler.audit.render import render_json, render_markdown, render_sarif, render_text
from reconciler.audit.rules import RULES
from tests.audit.sarif import validate_sarif

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schemas" / "audit.schema.json"


def _finding(**kwargs: object) -> Finding:
    base: dict[str, object] = {
        "rule": "SH002",
        "title": "group allows anonymous (group-authenticated) logins",
        "severity": Severity.HIGH,
        "source": "live",
        "kind": "groups",
        "object": "Kiosk <b>`x`",
        "evidence": "group has allowAnonymousLogins: true",
        "remediation": "turn it off",
        "manifest": "groups:\n  - name: K\n    allowAnonymousLogins: false",
    }
    return Finding.model_validate({**base, **kwargs})


REPORT = Report.of(
    [
        _finding(),
        _finding(
            rule="SH011", severity=Severity.LOW, manifest=None, place=Place(file="g.yaml", line=4)
        ),
    ],
    server="https://sh.example.com",
    version="5.5.16",
    files=["g.yaml"],
)


def test_committed_schema_is_fresh() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), "run: make schemas"


def test_json_report_validates_and_rejects_a_bad_one() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    document = json.loads(render_json(REPORT))
    jsonschema.validate(document, schema)
    assert document["summary"] == {"high": 1, "medium": 0, "low": 1}
    document["findings"][0]["severity"] = "critical"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema)


def test_sarif_levels_and_places_and_the_validator_is_live() -> None:
    log = json.loads(render_sarif(REPORT, fallback="shcfg.yaml"))
    validate_sarif(log)
    results = log["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "note"]
    places = [r["locations"][0]["physicalLocation"] for r in results]
    assert places[0] == {"artifactLocation": {"uri": "shcfg.yaml"}, "region": {"startLine": 1}}
    assert places[1]["region"] == {"startLine": 4}
    results[0]["level"] = "critical"
    with pytest.raises(jsonschema.ValidationError):
        validate_sarif(log)


def test_markdown_escapes_names_and_fences_manifest_lines() -> None:
    text = render_markdown(REPORT)
    assert "<b>" not in text and "&lt;b&gt;" in text
    assert "```yaml" in text
    assert text.index("### High") < text.index("### Low")


def test_text_is_grouped_by_severity() -> None:
    text = render_text(REPORT)
    assert text.index("HIGH (1)") < text.index("LOW (1)")
    assert "declared at g.yaml:4" in text
    assert text.endswith("Audit: 1 high, 0 medium, 1 low.")


def test_docs_list_every_rule_with_rationale_and_source() -> None:
    """docs/audit.md has one row per rule (SARIF's helpUri anchors point at them), each
    with its severity, condition, rationale and source filled in."""
    page = (SCHEMA_FILE.parents[1] / "docs" / "audit.md").read_text(encoding="utf-8")
    rows = re.findall(r'^\| <a id="(sh\d+)"></a>(SH\d+) \|(.*)\|$', page, re.MULTILINE)
    assert sorted(rule for _, rule, _ in rows) == sorted(RULES)
    for anchor, rule, rest in rows:
        assert anchor == rule.lower()
        cells = [cell.strip() for cell in rest.split(" | ")]
        assert len(cells) == 4 and all(cells), rule
