"""A fast YAML reader over libyaml's event stream, for the common case of a clean manifest.

The round-trip loader (pure Python) is what gives every issue its ``file:line:col``, but it
costs about a second per megabyte. This reader builds the same plain data (dict, list, str,
int, bool, None) from libyaml's events, without positions, several times faster. Whatever it
cannot prove the round-trip loader would read identically (parse errors, explicit tags,
directives, floats, timestamps, merge keys, non-decimal integers, complex or duplicate keys,
reused or unknown anchors) raises ``Unsupported``, and the caller uses the round-trip loader.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from ruamel.yaml.resolver import VersionedResolver

try:
    from ruamel.yaml.cyaml import CParser
except ImportError:  # no compiled libyaml binding (e.g. PyPy): always the round-trip loader
    CParser = None

AVAILABLE = CParser is not None

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
# The only integer spelling whose value is beyond doubt (no sign, base prefix, "_" or leading 0).
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_NO_KEY = object()
# Where libyaml and ruamel's scanner disagree (found by fuzzing both): "..." markers, block
# scalar headers followed by anything but a space or line break, anchor names ending in
# anything but a space, line break or flow indicator.
_DOCUMENT_END = re.compile(r"^\.\.\.", re.MULTILINE)
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*(?:[ \r\n]|\Z)")
_ANCHOR_NAME = re.compile(r"[A-Za-z0-9_-]+(?=[ \r\n,\]}]|\Z)")


class Unsupported(Exception):
    """The text needs the round-trip loader: an error, or a construct read differently."""


def _implicit_rules() -> tuple[dict[str, list[tuple[str, Any]]], list[tuple[str, Any]]]:
    """The YAML 1.2 implicit-tag rules by first character, as the round-trip loader uses them."""
    table = VersionedResolver(version=(1, 2)).versioned_resolver
    anywhere = list(table.get(None, []))
    by_first = {first: [*rules, *anywhere] for first, rules in table.items() if first is not None}
    return by_first, anywhere


_RULES, _ANYWHERE = _implicit_rules()


def _plain(value: str) -> Any:
    """A plain (unquoted) scalar's value, resolved exactly as the 1.2 round-trip loader would."""
    tag = next(
        (tag for tag, regexp in _RULES.get(value[:1], _ANYWHERE) if regexp.match(value)), None
    )
    if tag is None:
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return value.lower() == "true"
    if tag == _INT and _DECIMAL.match(value):
        return int(value)
    raise Unsupported(f"plain scalar {value!r} resolves to {tag}")


def load_all(text: str) -> list[Any]:
    """Every document's root as plain data (``None`` for an empty document)."""
    if CParser is None:
        raise Unsupported("libyaml is not available")
    if "\t" in text or "\ufeff" in text:
        raise Unsupported("tab or byte order mark: the round-trip scanner treats them differently")
    if _DOCUMENT_END.search(text):
        raise Unsupported("document end marker")
    parser = CParser(text)
    try:
        return _build(parser, text)
    except Unsupported:
        raise
    except Exception as exc:  # libyaml's errors: the round-trip loader words them
        raise Unsupported(f"{type(exc).__name__}") from None
    finally:
        parser.dispose()


def _build(parser: Any, text: str) -> list[Any]:
    roots: list[Any] = []
    anchors: dict[str, Any] = {}
    # Open collections; for a mapping, the key waiting for its value (or _NO_KEY).
    stack: list[Any] = []
    keys: list[Any] = []
    root: Any = None
    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is ScalarEvent:
            if event.tag is not None:
                raise Unsupported("explicit tag")
            value = _plain(event.value) if event.implicit[0] else event.value
            if event.style == "|" or event.style == ">":
                _check_block(event, text)
            if event.anchor is not None:
                _anchor(anchors, event, text, value)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.tag is not None:
                raise Unsupported("explicit tag")
            value = {} if kind is MappingStartEvent else []
            if event.anchor is not None:
                _anchor(anchors, event, text, value)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            stack.pop()
            keys.pop()
            continue
        elif kind is AliasEvent:
            if event.anchor not in anchors:
                raise Unsupported("unknown anchor")
            _check_name(event, text, "*")
            value = anchors[event.anchor]
        elif kind is DocumentStartEvent:
            if event.version is not None or event.tags:
                raise Unsupported("directive")
            anchors = {}
            continue
        elif kind is DocumentEndEvent:
            roots.append(root)
            root = None
            continue
        elif kind is StreamEndEvent:
            return roots
        elif kind is StreamStartEvent:
            continue
        else:
            raise Unsupported(f"event {kind.__name__}")
        if not stack:
            root = value
        else:
            top = stack[-1]
            if type(top) is list:
                top.append(value)
            elif keys[-1] is _NO_KEY:
                if isinstance(value, dict | list):
                    raise Unsupported("complex key")
                if value in top:
                    raise Unsupported("duplicate key")
                keys[-1] = value
            else:
                top[keys[-1]] = value
                keys[-1] = _NO_KEY
        if kind is MappingStartEvent or kind is SequenceStartEvent:
            stack.append(value)
            keys.append(_NO_KEY)


def _check_block(event: Any, text: str) -> None:
    """A block scalar ruamel would read alike: plain header, no leading blank line."""
    if event.anchor is not None:
        raise Unsupported("anchored block scalar")
    if not _BLOCK_HEADER.match(text, event.start_mark.index):
        raise Unsupported("block scalar header")
    if not event.value or event.value.startswith("\n"):
        raise Unsupported("block scalar starting with a blank line")


def _check_name(event: Any, text: str, indicator: str) -> None:
    """The anchor or alias name as written, ended where ruamel's scanner ends it too."""
    start = event.start_mark.index
    name = _ANCHOR_NAME.match(text, start + 1)
    if text[start : start + 1] != indicator or name is None or name.group() != event.anchor:
        raise Unsupported("anchor name")


def _anchor(anchors: dict[str, Any], event: Any, text: str, value: Any) -> None:
    _check_name(event, text, "&")
    if event.anchor in anchors:
        raise Unsupported("reused anchor")
    anchors[event.anchor] = value
