"""The findings model: what `shcfg audit` reports, in every format (schemas/audit.schema.json)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT_VERSION: Literal[1] = 1
SCHEMA_ID = "https://github.com/shcfg/shcfg/schemas/audit.schema.json"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return {"low": 1, "medium": 2, "high": 3}[self.value]


class Place(BaseModel):
    """Where a manifest declares the object (1-based)."""

    model_config = ConfigDict(extra="forbid")

    file: str
    line: int = Field(ge=1)


class Finding(BaseModel):
    """One problem: a stable rule ID, the object, what was seen, and how to fix it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str = Field(pattern=r"^SH\d{3}$", description="Stable rule ID (docs/audit.md).")
    title: str = Field(description="The rule's one-line name.")
    severity: Severity
    source: Literal["live", "manifests"] = Field(description="Which state showed it.")
    kind: Literal["server", "groups", "technicians", "techRestrictions"]
    object: str = Field(description="Identity: group name, username, pattern or 'server'.")
    evidence: str = Field(description="What was seen, in one sentence.")
    remediation: str = Field(description="How to fix it.")
    manifest: str | None = Field(
        default=None, description="Manifest lines that fix it, when a manifest can."
    )
    place: Place | None = Field(default=None, description="Where a manifest declares it.")


class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    high: int = Field(ge=0)
    medium: int = Field(ge=0)
    low: int = Field(ge=0)


class Report(BaseModel):
    """One `shcfg audit --format json` document."""

    model_config = ConfigDict(extra="forbid")

    format_version: Literal[1] = FORMAT_VERSION
    server: str | None = Field(description="Server URL audited (never the token), or null.")
    version: str | None = Field(description="SimpleHelp version from /allversions, or null.")
    manifests: list[str] = Field(description="Manifest files audited.")
    summary: Summary
    findings: list[Finding]

    @classmethod
    def of(
        cls, findings: list[Finding], *, server: str | None, version: str | None, files: list[str]
    ) -> Report:
        ordered = sorted(findings, key=lambda f: (-f.severity.rank, f.rule, f.kind, f.object))
        counts = {s.value: sum(f.severity is s for f in ordered) for s in Severity}
        return cls(
            server=server,
            version=version,
            manifests=files,
            summary=Summary(**counts),
            findings=ordered,
        )


def audit_json_schema() -> dict[str, Any]:
    """JSON Schema of the JSON report (from the model above), or, with servers: in
    shcfg.yaml, of ``{"servers": {NAME: report | {"error": ...}}}``."""
    report = Report.model_json_schema()
    defs = report.pop("$defs")
    defs["Report"] = report
    defs["Fleet"] = {
        "type": "object",
        "description": "Servers of shcfg.yaml: each one's report, or why it has none.",
        "required": ["servers"],
        "additionalProperties": False,
        "properties": {
            "servers": {
                "type": "object",
                "additionalProperties": {
                    "oneOf": [
                        {"$ref": "#/$defs/Report"},
                        {
                            "type": "object",
                            "required": ["error"],
                            "additionalProperties": False,
                            "properties": {"error": {"type": "string"}},
                        },
                    ]
                },
            }
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "shcfg audit",
        "description": "One audit report, or (with servers: in shcfg.yaml) one per server.",
        "oneOf": [{"$ref": "#/$defs/Report"}, {"$ref": "#/$defs/Fleet"}],
        "$defs": defs,
    }


def render_schema() -> str:
    """The schema as committed: sorted keys, indent 2, trailing newline."""
    return json.dumps(audit_json_schema(), sort_keys=True, indent=2) + "\n"
