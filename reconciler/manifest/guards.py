"""Limits on what a document may cost to read: alias bombs, deep nesting, runaway brackets.

The alias limit counts only what aliases *add* (the nodes an expansion would copy), so a
large manifest without aliases, such as an export of a big server, is never refused, while
a "billion laughs" document is refused after a few thousand steps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

MAX_ALIAS_NODES = 100_000
MAX_DEPTH = 64
# ruamel's scanner is quadratic in flow nesting depth; brackets beyond this are refused unparsed.
MAX_FLOW_BRACKETS = 256
_BRACKET = re.compile(r"[\[\]{}]")


class Refused(Exception):
    """A document that is unsafe to expand (alias bomb, recursion, excessive nesting)."""


def check_expansion(root: Any) -> None:
    """Raise ``Refused`` when aliases would add too many nodes, recurse, or nest too deep."""
    _Expansion().size(root, 0)


class _Expansion:
    """Sizes of shared nodes (each visited once) and the nodes that aliases add so far."""

    def __init__(self) -> None:
        self.memo: dict[int, int] = {}
        self.active: set[int] = set()
        self.added = 0

    def size(self, node: Any, depth: int) -> int:
        """Nodes in ``node`` as if every alias were expanded; a repeat adds its whole size."""
        if isinstance(node, dict):
            children: Iterator[Any] = iter(node.values())
        elif isinstance(node, list):
            children = iter(node)
        else:
            return 1
        ident = id(node)
        if ident in self.memo:
            self.added += self.memo[ident]
            if self.added > MAX_ALIAS_NODES:
                raise Refused("document too large after alias expansion")
            return self.memo[ident]
        if ident in self.active:
            raise Refused("recursive alias: a node contains itself")
        if depth >= MAX_DEPTH:
            raise Refused(f"document nested deeper than {MAX_DEPTH} levels")
        self.active.add(ident)
        total = 1 + (len(node) if isinstance(node, dict) else 0)
        for child in children:
            total += self.size(child, depth + 1)
        self.active.discard(ident)
        self.memo[ident] = total
        return total


def deep_brackets(text: str) -> tuple[int, int] | None:
    """Position (line, col) where unclosed ``[``/``{`` exceed the limit, counted without parsing.

    Brackets inside quoted strings count too: a deliberate over-approximation that only
    matters for hundreds of unbalanced brackets.
    """
    depth = 0
    for match in _BRACKET.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_FLOW_BRACKETS:
            start = match.start()
            line_start = text.rfind("\n", 0, start) + 1
            return text.count("\n", 0, start) + 1, start - line_start + 1
    return None
