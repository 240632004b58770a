"""Parse YAML text into ``Document``s with the position of every key and value.

Positions need ruamel's pure-Python round-trip parser, which takes about a second per
megabyte. With ``fast=True`` a text is read by libyaml (``fastyaml``) first, without positions
(``Document.positioned`` is then False); the loader parses again the slow way only when it
needs a position. Every document passes the guards of ``guards`` either way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import TaggedScalar
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from reconciler.manifest import fastyaml
from reconciler.manifest.documents import Document, PathKey
from reconciler.manifest.guards import Refused, check_expansion, deep_brackets
from reconciler.manifest.issues import Issue, Location

_DUPLICATE_KEY = re.compile(r'found duplicate key "(.*?)" with value', re.DOTALL)


def parse_documents(path: Path, text: str, issues: list[Issue], *, fast: bool) -> list[Document]:
    """Every non-empty document of one file; on a YAML error keep the documents before it."""
    name = str(path)
    deep = deep_brackets(text)
    if deep is not None:
        issues.append(Issue(Location(name, *deep), "document nested too deeply"))
        return []
    if fast:
        try:
            roots = fastyaml.load_all(text)
        except fastyaml.Unsupported:
            pass  # the round-trip parser below reads it, or words the error
        else:
            return _guarded(path, roots, issues)
    return _round_trip(path, text, issues)


def _guarded(path: Path, roots: list[Any], issues: list[Issue]) -> list[Document]:
    """Documents read by fastyaml, checked for alias bombs like the round-trip ones."""
    docs = []
    for root in roots:
        if root is None:
            continue
        try:
            check_expansion(root)
        except Refused as exc:
            issues.append(Issue(Location(str(path), 1, 1), str(exc)))
            continue
        docs.append(Document(str(path), path.parent, root, positioned=False))
    return docs


def _round_trip(path: Path, text: str, issues: list[Issue]) -> list[Document]:
    name = str(path)
    docs: list[Document] = []
    try:
        for root in YAML(typ="rt").load_all(text):
            if root is None:
                continue
            start = _node_location(name, root)
            try:
                check_expansion(root)
            except Refused as exc:
                issues.append(Issue(start, str(exc)))
                continue
            doc = Document(name, path.parent, None)
            doc.values[()] = start
            doc.data = _convert(root, (), doc)
            docs.append(doc)
    except DuplicateKeyError as exc:
        match = _DUPLICATE_KEY.search(str(exc.problem))
        key = match.group(1) if match else "?"
        issues.append(Issue(_mark(name, exc), f"duplicate key {key!r}"))
    except MarkedYAMLError as exc:
        issues.append(Issue(_mark(name, exc), str(exc.problem or exc.context or "invalid YAML")))
    except YAMLError as exc:
        at = _position(name, text, getattr(exc, "position", None))
        issues.append(Issue(at, f"invalid YAML: {getattr(exc, 'reason', None) or exc}"))
    except RecursionError:
        issues.append(Issue(Location(name, 1, 1), "YAML nested too deeply"))
    except MemoryError:
        issues.append(Issue(Location(name, 1, 1), "YAML too large"))
    except Exception as exc:  # ruamel raises assorted errors on hostile input; never a traceback
        issues.append(
            Issue(Location(name, 1, 1), f"cannot parse YAML: {type(exc).__name__}: {exc}")
        )
    return docs


def _position(name: str, text: str, offset: object) -> Location:
    """File position of a character offset (errors of ruamel's reader carry only that)."""
    if not isinstance(offset, int) or offset < 0:
        return Location(name, 1, 1)
    line = text.count("\n", 0, offset) + 1
    return Location(name, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _mark(name: str, exc: MarkedYAMLError) -> Location:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Location(name, 1, 1)
    return Location(name, mark.line + 1, mark.column + 1)


def _node_location(name: str, node: Any) -> Location:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return Location(name, 1, 1)
    return Location(name, lc.line + 1, lc.col + 1)


def _plain_key(key: Any) -> Any:
    if isinstance(key, ScalarBoolean):
        return bool(key)
    if isinstance(key, str | int | float | bool) or key is None:
        return _convert_scalar(key)
    return str(key)


def _convert_scalar(node: Any) -> Any:
    if isinstance(node, TaggedScalar):
        return _convert_scalar(node.value)
    if isinstance(node, ScalarBoolean | bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _convert(node: Any, path: PathKey, doc: Document) -> Any:
    """Turn ruamel's round-trip objects into plain Python, recording positions on the way."""
    lc = getattr(node, "lc", None)
    data = lc.data if lc is not None else {}
    if isinstance(node, dict):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            plain = _plain_key(key)
            child = (*path, plain)
            pos = data.get(key)
            if pos:
                doc.keys[child] = Location(doc.file, pos[0] + 1, pos[1] + 1)
                doc.values[child] = Location(doc.file, pos[2] + 1, pos[3] + 1)
            out[plain] = _convert(value, child, doc)
        return out
    if isinstance(node, list):
        items = []
        for index, value in enumerate(node):
            child = (*path, index)
            pos = data.get(index)
            if pos:
                doc.values[child] = Location(doc.file, pos[0] + 1, pos[1] + 1)
            items.append(_convert(value, child, doc))
        return items
    return _convert_scalar(node)
