"""``${env:NAME}`` and ``${file:PATH}`` references inside manifest strings.

Secrets stay out of the YAML files; the loader substitutes them and remembers every resolved
value so that all output can be redacted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_TOKEN = re.compile(r"\$\$\{|\$\{(?:(env|file):([^}]*)\}|[^}]*\}?)")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class SecretReferenceError(ValueError):
    """A reference that cannot be resolved; the message never contains a secret value."""


@dataclass
class Resolved:
    """A string after substitution, and the secret values that went into it."""

    text: str
    has_reference: bool = False
    values: list[str] = field(default_factory=list)


def resolve(
    text: str,
    base_dir: Path,
    *,
    environ: Mapping[str, str] | None = None,
    substitute: bool = True,
) -> Resolved:
    """Substitute every reference in ``text`` (or, with ``substitute=False``, only check syntax).

    ``$${`` stands for a literal ``${``. File paths are relative to ``base_dir`` (the
    manifest's directory) and one trailing newline is stripped from file contents.
    """
    env = os.environ if environ is None else environ
    out: list[str] = []
    values: list[str] = []
    found = False
    pos = 0
    for match in _TOKEN.finditer(text):
        out.append(text[pos : match.start()])
        pos = match.end()
        token = match.group(0)
        if token == "$${":
            out.append(token if not substitute else "${")
            continue
        found = True
        scheme, arg = match.group(1), match.group(2)
        if scheme is None:
            raise SecretReferenceError(
                "invalid reference: use ${env:NAME} or ${file:PATH}, or $${ for a literal ${"
            )
        if not substitute:
            _check_syntax(scheme, arg)
            out.append(token)
            continue
        value = _lookup(scheme, arg, base_dir, env)
        values.append(value)
        out.append(value)
    out.append(text[pos:])
    return Resolved("".join(out), found, values)


def _check_syntax(scheme: str, arg: str) -> None:
    if scheme == "env" and not _ENV_NAME.match(arg):
        raise SecretReferenceError(f"invalid environment variable name {arg!r}")
    if scheme == "file" and not arg:
        raise SecretReferenceError("empty file path in ${file:}")


def _lookup(scheme: str, arg: str, base_dir: Path, env: Mapping[str, str]) -> str:
    _check_syntax(scheme, arg)
    if scheme == "env":
        if arg not in env:
            raise SecretReferenceError(f"environment variable {arg} is not set")
        return env[arg]
    path = base_dir / Path(arg).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SecretReferenceError(f"cannot read secret file {arg!r}: {reason}") from None
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretReferenceError(f"secret file {arg!r} is not valid UTF-8 text") from None
    return content.removesuffix("\n")
