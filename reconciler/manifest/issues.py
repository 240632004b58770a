"""Positions and problems found in manifests, reported as ``file:line:col: message``."""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.errors import ShcfgError


@dataclass(frozen=True)
class Location:
    """Where something was declared (1-based), so an error can point the user at it."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Issue:
    """One problem in the manifests; always printed on a single line."""

    location: Location | None
    message: str

    def __str__(self) -> str:
        text = " ".join(self.message.split())
        if self.location is None:
            return text
        return f"{self.location}: {text}"


class ManifestError(ShcfgError):
    """Every issue found while loading, raised at once so the user fixes all in one go."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))
