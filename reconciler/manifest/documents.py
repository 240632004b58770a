"""One parsed manifest document, with positions, and the paths that name its parts.

Every stage after parsing (secret references, warnings, validation, merge) works on a
``Document``: plain data plus the ``file:line:col`` of every key and value, so that each
stage can point at what it complains about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.manifest.issues import Location

PathKey = tuple[Any, ...]

# (section in the YAML, identity attribute, singular noun for messages)
LIST_KINDS = (
    ("groups", "name", "group"),
    ("technicians", "username", "technician"),
    ("machines", "machineID", "machine"),
    ("machineGroups", "path", "machine group"),
)

ANY = "*"
# Values that name an object (or select objects by name) rather than configure one: what a
# plan shows in clear as an identity, so a secret reference there would leak its value.
IDENTITY_PATHS: tuple[PathKey, ...] = (
    ("groups", ANY, "name"),
    ("groups", ANY, "renamedFrom"),
    ("technicians", ANY, "username"),
    ("technicians", ANY, "renamedFrom"),
    ("technicians", ANY, "groups", ANY),
    ("machines", ANY, "machineID"),
    ("machineGroups", ANY, "path", ANY),
    ("server", "techRestrictions", ANY),
    ("server", "keepAccessFrom", ANY),
    ("ignore", ANY, ANY),
)


def matches(path: PathKey, pattern: PathKey) -> bool:
    """Whether ``path`` fits ``pattern``, where ``ANY`` stands for any one key or index."""
    return len(path) == len(pattern) and all(
        want == ANY or part == want for part, want in zip(path, pattern, strict=True)
    )


@dataclass
class Document:
    """One YAML document as plain data, with the position of every key and value."""

    file: str
    base_dir: Path
    data: Any
    keys: dict[PathKey, Location] = field(default_factory=dict)
    values: dict[PathKey, Location] = field(default_factory=dict)
    # Secret references as written, by the path of the string that holds them.
    refs: dict[PathKey, str] = field(default_factory=dict)
    # Values refused before validation (left unresolved): their schema errors are noise.
    refused: set[PathKey] = field(default_factory=set)
    # False when read by the fast reader: every position is then a placeholder.
    positioned: bool = True

    def where(self, path: PathKey, *, key: bool = False) -> Location:
        """Position of ``path`` or of its nearest declared ancestor."""
        index = self.keys if key else self.values
        if path in index:
            return index[path]
        for cut in range(len(path) - 1, -1, -1):
            if path[:cut] in self.values:
                return self.values[path[:cut]]
        return Location(self.file, 1, 1)


def format_path(path: PathKey) -> str:
    """``technicians[0].password``: a path as a user reads it in a message."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += f"[{str(part)!r}]"
    return out or "(document)"
