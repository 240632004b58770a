"""Which files a set of manifest arguments names, and reading them as UTF-8 text."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from reconciler.manifest.issues import Issue, Location

SUFFIXES = (".yaml", ".yml")


def collect_files(paths: Sequence[str | Path], issues: list[Issue]) -> list[Path]:
    """Expand arguments to manifest files, in argument order, each file once.

    A directory is walked recursively and sorted by path; dot-directories (``.github``,
    ``.git``) and dot-files (``.pre-commit-config.yaml``) inside it are skipped, as they hold
    other tools' YAML. A dot-file named explicitly is read.
    """
    if not paths:
        issues.append(Issue(None, "no manifest paths given"))
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = _walk(path)
            if not inside:
                issues.append(Issue(None, f"{path}: no *.yaml or *.yml files in this directory"))
        elif path.is_file():
            inside = [path]
        elif path.exists():
            issues.append(Issue(None, f"{path}: not a regular file or a directory"))
            continue
        else:
            issues.append(Issue(None, f"{path}: no such file or directory"))
            continue
        for file in inside:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                found.append(file)
    return found


def _walk(root: Path) -> list[Path]:
    """Manifest files under ``root``, sorted, never entering a dot-directory."""
    found = []
    for current, dirs, names in os.walk(root):
        dirs[:] = [name for name in dirs if not name.startswith(".")]
        for name in names:
            file = Path(current, name)
            if not name.startswith(".") and file.suffix in SUFFIXES and file.is_file():
                found.append(file)
    return sorted(found)


def read_text(path: Path, issues: list[Issue]) -> str | None:
    """The file's text, or ``None`` with an issue saying why it cannot be read."""
    name = str(path)
    try:
        raw = path.read_bytes()
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        issues.append(Issue(Location(name, line, col), "not valid UTF-8 text"))
    except OSError as exc:
        issues.append(Issue(None, f"{name}: cannot read: {exc.strerror or type(exc).__name__}"))
    return None
