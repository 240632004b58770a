"""Reading a server's answer: strict about what is dangerous, liberal about the rest.

Every answer is hostile until decoded: JSON nested deeper than ``MAX_DEPTH`` and strings
holding a lone UTF-16 surrogate are refused with one clear error (the first would raise
``RecursionError`` somewhere later, the second ``UnicodeEncodeError`` in any output).
The readings of the reference that a server may take are all accepted (docs/api-notes.md):
write answers of any 2xx shape, String answers as JSON or ``text/plain``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

MAX_DEPTH = 64

WriteShape = Literal["empty", "true", "text", "object", "response", "other"]

_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
# A string of the skeleton (escapes gone), or an unterminated one up to the end.
_STRING = re.compile(rb'"[^"]*(?:"|\Z)')
_PAIR = re.compile(rb"\[\]|\{\}")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


@dataclass(frozen=True, slots=True)
class Answer:
    """A response read to its end: what decoding needs, and no connection."""

    query: str
    write: bool
    status: int
    reason: str
    raw: bytes = field(repr=False)
    content_type: str = ""
    tries: int = 1

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, lower case (``""`` when absent)."""
        return self.content_type.split(";", 1)[0].strip().lower()

    def text(self) -> str | None:
        """The body as UTF-8 text without one trailing newline, or None if not UTF-8."""
        try:
            text = self.raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return text.removesuffix("\n").removesuffix("\r")


def too_deep(raw: bytes) -> bool:
    """True when brackets outside strings nest deeper than ``MAX_DEPTH``.

    Each pass removes the innermost ``[]``/``{}`` pairs (in C, via ``re``), so a body of
    depth d is empty after d passes; a body still holding a pair after ``MAX_DEPTH``
    passes is deeper. Bodies with few brackets are not scanned at all.
    """
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    # Escapes out, then only brackets and quotes, then strings out: each step in C,
    # and the string step on a skeleton a fraction of the body's size. Adjacent quotes
    # go first, by `replace` (a 10,000-machine list: 17 ms of regex down to 1 ms): each
    # `""` is an empty string or the end of one string and the start of the next, so
    # dropping it leaves the same brackets outside strings.
    unescaped = _ESCAPE.sub(b"", raw) if b"\\" in raw else raw
    quotes = unescaped.translate(None, _NOT_STRUCTURE).replace(b'""', b"")
    skeleton = _STRING.sub(b"", quotes)
    for _ in range(MAX_DEPTH):
        reduced = _PAIR.sub(b"", skeleton)
        if reduced == skeleton:
            return False
        skeleton = reduced
    return _PAIR.search(skeleton) is not None


def hazard(raw: bytes) -> str | None:
    """Why a body must not be decoded at all, or None."""
    if too_deep(raw):
        return f"response is nested deeper than {MAX_DEPTH} levels"
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def decode_json(raw: bytes) -> tuple[Any, str | None]:
    """Strict JSON (no NaN/Infinity) and the problem with it, if any.

    The problem is ``"response is not JSON"``, too deep, or a lone surrogate.
    """
    problem = hazard(raw)
    if problem is not None:
        return None, problem
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except RecursionError:
        return None, f"response is nested deeper than {MAX_DEPTH} levels"
    except (ValueError, UnicodeDecodeError):
        return None, "response is not JSON"
    if surrogate_escape(raw) and not _valid_unicode(value):
        return None, "response holds a lone UTF-16 surrogate (not valid Unicode text)"
    return value, None


def surrogate_escape(raw: bytes) -> bool:
    """True when the body escapes a UTF-16 surrogate (to be checked after decoding)."""
    return _SURROGATE_ESCAPE.search(raw) is not None


def plain_json(raw: bytes) -> bool:
    """True for an array or string body without NaN/Infinity or surrogate escapes: one
    that can be validated from its bytes (the validator accepts those constants, the
    strict decoder does not, and only an object can carry ``success: false``)."""
    return (
        raw[:1] in (b"[", b'"')
        and b"NaN" not in raw
        and b"Infinity" not in raw
        and not surrogate_escape(raw)
    )


def _valid_unicode(value: Any) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def write_shape(raw: bytes, value: Any, problem: str | None) -> WriteShape:
    """Which reading of a write's 2xx answer came back (``success: false`` is handled
    by the caller)."""
    if not raw.strip() or (problem is None and value is None):
        return "empty"
    if problem is not None:  # not JSON: any text counts as done
        return "text"
    if value is True:
        return "true"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "response" if "success" in value else "object"
    return "other"


_AUTH_REASON = re.compile(
    r"\btoken\b|\bunauthori[sz]ed\b|\bauthenticat\w*|\bapi\b[^.;]*?\b(?:disabled|not enabled)\b",
    re.IGNORECASE,
)
_UNKNOWN_QUERY = re.compile(
    r"\b(?:unknown|unrecogni[sz]ed|unsupported|invalid|no such|not found)\b", re.IGNORECASE
)
_QUERY_WORD = re.compile(r"\b(?:query|command|endpoint|path|method|api call)\b", re.IGNORECASE)


def reason_means_auth(reason: str) -> bool:
    """A 400's reason that speaks of the token, authentication, or the API being off."""
    return _AUTH_REASON.search(reason) is not None


def reason_means_unknown_query(reason: str) -> bool:
    """A 400's reason that says the query itself is not known (``Unknown query ...``)."""
    return _UNKNOWN_QUERY.search(reason) is not None and _QUERY_WORD.search(reason) is not None
