"""One check's outcome, and the two ways of showing a list of them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["ok", "warn", "fail", "skip"]


@dataclass(frozen=True)
class Check:
    """``skip`` means a check this one needs failed (or it does not apply); only a
    ``fail`` makes the server unusable."""

    name: str
    status: Status
    detail: str
    hint: str | None = None


def usable(checks: Sequence[Check]) -> bool:
    """The server works with shcfg: nothing failed (warnings allowed)."""
    return all(c.status != "fail" for c in checks)


def report_data(checks: Sequence[Check]) -> dict[str, Any]:
    """``{"ok": bool, "checks": [{"name", "status", "detail", "hint"}, ...]}``."""
    return {"ok": usable(checks), "checks": [asdict(c) for c in checks]}


def render_json(checks: Sequence[Check]) -> str:
    """One server's JSON document (`report_data`)."""
    return json.dumps(report_data(checks), indent=2)


def render_lines(checks: Sequence[Check]) -> list[tuple[str, str | None]]:
    """One line per check (and one more for its hint), each with its rich style."""
    styles = {"ok": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}
    width = max((len(c.name) for c in checks), default=0)
    lines: list[tuple[str, str | None]] = []
    for check in checks:
        lines.append(
            (f"{check.status:<4}  {check.name:<{width}}  {check.detail}", styles[check.status])
        )
        if check.hint and check.status in ("warn", "fail"):
            lines.append((f"{'':<4}  {'':<{width}}  hint: {check.hint}", None))
    verdict = "usable" if usable(checks) else "NOT usable"
    lines.append(
        (f"\nThe server is {verdict} with shcfg.", "bold" if usable(checks) else "bold red")
    )
    return lines
