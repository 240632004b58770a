"""``${var:NAME}``: a non-secret value of the server being planned (shcfg.yaml ``servers:``).

Variables are substituted before secret references are resolved, and they are not secrets:
their values are shown in plans as themselves and may be part of an identity (a group named
``${var:site} Helpdesk``). An undefined variable is an error naming the server, the file and
the line; a variable with no server selected is an error naming the place too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.manifest.documents import Document, PathKey, format_path
from reconciler.manifest.issues import Issue

# `$${` stays a literal for the secret resolver to unescape; `${var:NAME}` is ours.
_TOKEN = re.compile(r"\$\$\{|\$\{var:([^}]*)\}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


@dataclass(frozen=True)
class Variables:
    """The variables of one server, by name."""

    server: str
    values: Mapping[str, str] = field(default_factory=dict)


def substitute_document(doc: Document, variables: Variables | None, issues: list[Issue]) -> None:
    """Replace every ``${var:NAME}`` in ``doc.data`` in place."""
    doc.data = _node(doc, (), doc.data, variables, issues)


def _node(
    doc: Document, path: PathKey, node: Any, variables: Variables | None, issues: list[Issue]
) -> Any:
    if isinstance(node, dict):
        return {k: _node(doc, (*path, k), v, variables, issues) for k, v in node.items()}
    if isinstance(node, list):
        return [_node(doc, (*path, i), v, variables, issues) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${var:" not in node:
        return node
    return _TOKEN.sub(lambda m: _value(doc, path, m, variables, issues), node)


def _value(
    doc: Document,
    path: PathKey,
    match: re.Match[str],
    variables: Variables | None,
    issues: list[Issue],
) -> str:
    token, name = match.group(0), match.group(1)
    if token == "$${":
        return token
    # On error the reference is escaped, so the secret resolver does not report it again.
    where = f"{format_path(path)}: {token}"
    if not _NAME.match(name):
        issues.append(Issue(doc.where(path), f"{where}: invalid variable name {name!r}"))
    elif variables is None:
        issues.append(
            Issue(
                doc.where(path),
                f"{where}: no server selected: variables come from shcfg.yaml servers:",
            )
        )
    elif name not in variables.values:
        issues.append(
            Issue(
                doc.where(path),
                f"{where}: server {variables.server} has no variable {name!r} "
                f"(servers.{variables.server}.vars in shcfg.yaml)",
            )
        )
    else:
        return variables.values[name]
    return "$" + token
