"""``${env:NAME}`` and ``${file:PATH}`` references inside manifest strings.

Secrets stay out of the YAML files; the loader substitutes them and remembers every resolved
value so that all output can be redacted. Redaction replaces whole values, so a value too
short to be told apart from ordinary text (under ``MIN_SECRET_LENGTH`` characters) is
refused, and a reference is refused where a value would be shown as an identity.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import ShcfgError
from reconciler.manifest.documents import IDENTITY_PATHS, Document, PathKey, format_path, matches
from reconciler.manifest.issues import Issue

MIN_SECRET_LENGTH = 8
MAX_SECRET_FILE_BYTES = 64 * 1024
_TOKEN = re.compile(r"\$\$\{|\$\{(?:(env|file):([^}]*)\}|[^}]*\}?)")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class SecretReferenceError(ValueError):
    """A reference that cannot be resolved; the message never contains a secret value."""


class SecretFileError(ShcfgError):
    """A secret file that is not safe to read; ``reason`` is one line, never the contents."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def read_secret_file(path: str | Path, *, limit: int = MAX_SECRET_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``limit`` bytes (a secret or a token).

    A FIFO, device, socket or directory is refused before it is opened, so that reading a
    named pipe cannot hang and ``/dev/zero`` cannot fill memory; the open is non-blocking and
    at most ``limit + 1`` bytes are read in case the file changed in between.
    """
    try:
        _require_regular(os.stat(path).st_mode, path)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise SecretFileError(path, f"cannot read: {exc.strerror or type(exc).__name__}") from None
    try:
        _require_regular(os.fstat(fd).st_mode, path)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise SecretFileError(path, f"cannot read: {exc.strerror or type(exc).__name__}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise SecretFileError(path, f"larger than {limit // 1024} KiB: not a secret")
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise SecretFileError(path, "not valid UTF-8 text") from None


def _require_regular(mode: int, path: str | Path) -> None:
    if stat.S_ISREG(mode):
        return
    kind = next((what for test, what in _FILE_TYPES if test(mode)), "a special file")
    raise SecretFileError(path, f"is {kind}, not a regular file")


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
        _check_syntax(scheme, arg)
        if not substitute:
            out.append(token)
            continue
        value = _lookup(scheme, arg, base_dir, env)
        if len(value) < MIN_SECRET_LENGTH:
            raise SecretReferenceError(
                f"the value of {token} is shorter than {MIN_SECRET_LENGTH} characters: "
                "too short to redact safely; use a longer secret"
            )
        values.append(value)
        out.append(value)
    out.append(text[pos:])
    return Resolved("".join(out), found, values)


def has_reference(text: str) -> bool:
    """Whether ``text`` holds a ``${...}`` reference (``$${`` alone is a literal)."""
    return any(match.group(0) != "$${" for match in _TOKEN.finditer(text))


def _check_syntax(scheme: str, arg: str) -> None:
    if scheme == "env" and not _ENV_NAME.match(arg):
        raise SecretReferenceError(f"invalid environment variable name {arg!r}")
    if scheme == "file" and not arg:
        raise SecretReferenceError("empty file path in ${file:}")


def _lookup(scheme: str, arg: str, base_dir: Path, env: Mapping[str, str]) -> str:
    if scheme == "env":
        if arg not in env:
            raise SecretReferenceError(f"environment variable {arg} is not set")
        if not _is_unicode(env[arg]):
            # Bytes that are not UTF-8 arrive as lone surrogates: no server can take them.
            raise SecretReferenceError(f"environment variable {arg} is not valid UTF-8 text")
        return env[arg]
    try:
        content = read_secret_file(base_dir / Path(arg).expanduser())
    except SecretFileError as exc:
        raise SecretReferenceError(f"cannot read secret file {arg!r}: {exc.reason}") from None
    return content.removesuffix("\n")


def _is_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def resolve_document(
    doc: Document, substitute: bool, secret_values: set[str], issues: list[Issue]
) -> None:
    """Resolve every reference in ``doc.data`` in place; record each in ``doc.refs``.

    A reference in an identity is refused unresolved: identities are shown and stored in
    clear (plans, journals), so its value would leak.
    """
    doc.data = _resolve_node(doc, (), doc.data, substitute, secret_values, issues)


def _resolve_node(
    doc: Document,
    path: PathKey,
    node: Any,
    substitute: bool,
    secret_values: set[str],
    issues: list[Issue],
) -> Any:
    if isinstance(node, dict):
        return {
            key: _resolve_node(doc, (*path, key), value, substitute, secret_values, issues)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [
            _resolve_node(doc, (*path, index), value, substitute, secret_values, issues)
            for index, value in enumerate(node)
        ]
    if not isinstance(node, str) or "${" not in node:
        return node
    if has_reference(node) and any(matches(path, pattern) for pattern in IDENTITY_PATHS):
        issues.append(
            Issue(
                doc.where(path),
                f"{format_path(path)}: a secret reference cannot be an identity or a name "
                "pattern (it would be shown in plans and journals); write the value itself",
            )
        )
        doc.refused.add(path)
        return node
    try:
        resolved = resolve(node, doc.base_dir, substitute=substitute)
    except SecretReferenceError as exc:
        issues.append(Issue(doc.where(path), f"{format_path(path)}: {exc}"))
        return node
    if resolved.has_reference:
        doc.refs[path] = node
        secret_values.update(resolved.values)
    return resolved.text
