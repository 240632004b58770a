"""The audit report as text (grouped by severity), JSON, markdown and SARIF 2.1.0.

Renderers decide nothing: they lay out a ``Report``. Names come from servers and manifests,
so markdown escapes them as the plan renderer does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from reconciler import __version__
from reconciler.audit.findings import Finding, Report, Severity
from reconciler.audit.rules import RULES
from reconciler.render.markdown import escape

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
DOCS_URI = "https://github.com/shcfg/shcfg/blob/main/docs/audit.md"
_LEVEL = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
# GitHub code scanning ranks security results by this property (0.0-10.0).
_SCORE = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}
_ORDER = (Severity.HIGH, Severity.MEDIUM, Severity.LOW)


def _summary(report: Report) -> str:
    s = report.summary
    return f"{s.high} high, {s.medium} medium, {s.low} low"


def _subject(report: Report) -> str:
    parts = []
    if report.server:
        parts.append(f"{report.server} (SimpleHelp {report.version or 'version unknown'})")
    if report.manifests:
        parts.append(f"manifests: {', '.join(report.manifests)}")
    return "; ".join(parts)


def render_text(report: Report) -> str:
    lines = [f"shcfg audit: {_subject(report)}"]
    for severity in _ORDER:
        found = [f for f in report.findings if f.severity is severity]
        if not found:
            continue
        lines += ["", f"{severity.value.upper()} ({len(found)})"]
        for f in found:
            lines.append(f"  {f.rule} {f.kind} {f.object!r} [{f.source}]: {f.title}")
            lines.append(f"      {f.evidence}")
            lines.append(f"      fix: {f.remediation}")
            if f.place:
                lines.append(f"      declared at {f.place.file}:{f.place.line}")
            if f.manifest:
                lines += ["      manifest:", *(f"        {m}" for m in f.manifest.splitlines())]
    lines += ["", f"Audit: {_summary(report)}." if report.findings else "Audit: no findings."]
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps(report.model_dump(mode="json"), indent=2) + "\n"


def render_markdown(report: Report) -> str:
    lines = ["## shcfg audit", "", f"**{_summary(report)}** — {escape(_subject(report))}"]
    for severity in _ORDER:
        found = [f for f in report.findings if f.severity is severity]
        if not found:
            continue
        lines += ["", f"### {severity.value.capitalize()} ({len(found)})", ""]
        for f in found:
            lines.append(
                f"- **{f.rule}** {escape(f.title)}: {escape(f.kind)} "
                f"**{escape(f.object)}** ({f.source})  "
            )
            lines.append(f"  {escape(f.evidence)}  ")
            lines.append(f"  Fix: {escape(f.remediation)}")
            if f.manifest:
                body = f.manifest.splitlines()
                fence = "`" * max(
                    3, 1 + max((len(r) for r in re.findall("`+", f.manifest)), default=0)
                )
                lines += ["", f"  {fence}yaml", *(f"  {m}" for m in body), f"  {fence}"]
    if not report.findings:
        lines += ["", "No findings."]
    return "\n".join(lines) + "\n"


def render_sarif(report: Report, *, fallback: str) -> str:
    """SARIF 2.1.0; each result points at the declaring manifest line, else ``fallback``."""
    return _log([_run(report, fallback)])


def render_fleet_sarif(reports: dict[str, Report | str], *, fallback: str) -> str:
    """One SARIF log with one run per server (its category ``shcfg-audit/NAME/``, so code
    scanning keeps the servers apart); a server that could not be audited is a run whose
    invocation failed, with the reason."""
    runs = []
    for name, value in reports.items():
        if isinstance(value, Report):
            run = _run(value, fallback)
        else:
            run = _run(Report.of([], server=None, version=None, files=[]), fallback)
            run["invocations"] = [
                {
                    "executionSuccessful": False,
                    "toolExecutionNotifications": [{"level": "error", "message": {"text": value}}],
                }
            ]
        run["automationDetails"] = {"id": f"shcfg-audit/{name}/"}
        runs.append(run)
    return _log(runs)


def render_fleet_json(reports: dict[str, Report | str]) -> str:
    """``{"servers": {NAME: report}}``; a server that could not be audited: ``{"error": ...}``."""
    servers = {
        name: value.model_dump(mode="json") if isinstance(value, Report) else {"error": value}
        for name, value in reports.items()
    }
    return json.dumps({"servers": servers}, indent=2) + "\n"


def _log(runs: list[dict[str, Any]]) -> str:
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}, indent=2) + "\n"


def _run(report: Report, fallback: str) -> dict[str, Any]:
    used = sorted({f.rule for f in report.findings})
    rules = [_rule(rule_id) for rule_id in sorted(RULES)]
    index = {rule_id: i for i, rule_id in enumerate(sorted(RULES))}
    return {
        "tool": {
            "driver": {
                "name": "shcfg",
                "version": __version__,
                "informationUri": DOCS_URI,
                "rules": rules,
            }
        },
        "results": [_result(f, index[f.rule], fallback) for f in report.findings],
        "properties": {"rulesWithFindings": used, "server": report.server or ""},
    }


def _rule(rule_id: str) -> dict[str, Any]:
    rule = RULES[rule_id]
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in re.findall(r"[A-Za-z0-9]+", rule.title)),
        "shortDescription": {"text": rule.title},
        "helpUri": f"{DOCS_URI}#{rule.id.lower()}",
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "security-severity": _SCORE[rule.severity],
            "tags": ["security", "simplehelp"],
        },
    }


def _result(f: Finding, rule_index: int, fallback: str) -> dict[str, Any]:
    file, line = (f.place.file, f.place.line) if f.place else (fallback, 1)
    text = f"{f.evidence}. Fix: {f.remediation}."
    if f.manifest:
        text += f"\n\n{f.manifest}"
    return {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[f.severity],
        "message": {"text": text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(file)},
                    "region": {"startLine": line},
                },
                "logicalLocations": [
                    {
                        "name": f.object,
                        "kind": "object",
                        "fullyQualifiedName": f"{f.kind}/{f.object}",
                    }
                ],
            }
        ],
        "partialFingerprints": {"shcfgObject/v1": f"{f.rule}:{f.kind}:{f.object}"},
        "properties": {"security-severity": _SCORE[f.severity], "source": f.source},
    }


def artifact_uri(path: str) -> str:
    """Relative to the working directory (the repository checkout) when inside it."""
    resolved = Path(path).resolve()
    try:
        shown = resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        shown = resolved.as_posix()
    return quote(shown, safe="/:")
