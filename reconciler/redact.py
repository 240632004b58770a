"""Last line of defence: known secret values are masked in everything shcfg writes.

A secret is masked in every form a renderer or a log can give it: raw, JSON-escaped
(``\\"``, ``\\\\``, ``\\uXXXX``), markdown- or repr-escaped (a backslash before
punctuation), HTML entities and ``\\x1b``-style visible control characters. Each
character of a secret may appear in any of its forms, so one pattern per secret covers
every renderer, present and future. Secrets are whole values of at least MIN_LENGTH
characters, so masking them never eats into ordinary words.
"""

from __future__ import annotations

import functools
import re
import string
import threading
from collections.abc import Iterable
from typing import Any

from rich.text import Text

from reconciler.errors import ShcfgError

# The one mask of the project: plans, renderers, the journal and errors all show this.
MASK = "(sensitive)"
MIN_LENGTH = 8

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "/": "\\/"}
_SHORT_ESCAPES |= {"\b": "\\b", "\f": "\\f"}
_ENTITIES: dict[str, tuple[str, ...]] = {"&": ("&amp;",), "<": ("&lt;",), ">": ("&gt;",)}
_ENTITIES |= {'"': ("&quot;",), "'": ("&#x27;", "&#39;")}


class ShortSecretError(ShcfgError):
    """A secret too short to be masked as a whole value without masking ordinary words."""


def _hex(code: int, width: int) -> str:
    return "".join(f"[{d.lower()}{d.upper()}]" if d.isalpha() else d for d in f"{code:0{width}x}")


def _char_pattern(char: str) -> str:
    """Every way one character of a secret can be written, optionally after backslashes."""
    forms = {re.escape(char)}
    if char in string.punctuation:
        forms.add(re.escape("\\" + char))
    if char in _SHORT_ESCAPES:
        forms.add(re.escape(_SHORT_ESCAPES[char]))
    forms.update(re.escape(entity) for entity in _ENTITIES.get(char, ()))
    code = ord(char)
    if code > 0xFFFF:
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        forms.add(rf"\\u{_hex(high, 4)}\\u{_hex(low, 4)}")
    else:
        forms.add(rf"\\u{_hex(code, 4)}")
    if code < 0x20 or 0x7F <= code < 0xA0:
        forms.add(rf"\\x{_hex(code, 2)}")
    return r"\\{0,4}(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")"


def secret_pattern(secret: str) -> str:
    """A regular expression matching `secret` in any of its rendered forms."""
    return "".join(_char_pattern(char) for char in secret)


_ALNUM_RUN = re.compile(r"[A-Za-z0-9]+")


def _anchor(secret: str) -> str:
    """A piece of the secret that every rendered form keeps as it is (the longest run of
    ASCII letters and digits: no renderer escapes those), to skip absent secrets fast."""
    return max(_ALNUM_RUN.findall(secret), key=len, default="")


@functools.lru_cache(maxsize=64)
def _compiled(secrets: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(secret_pattern(s) for s in secrets))


class Redactor:
    """Masks registered secrets; safe to share between threads."""

    def __init__(self) -> None:
        self._anchors: dict[str, str] = {}
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        if not secret:
            return
        if len(secret) < MIN_LENGTH:
            raise ShortSecretError(
                f"a secret value is shorter than {MIN_LENGTH} characters: it cannot be masked "
                "safely in output; use a longer one"
            )
        with self._lock:
            self._anchors[secret] = _anchor(secret)

    def add_all(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            self.add(secret)

    def text(self, text: str) -> str:
        with self._lock:
            present = [s for s, anchor in self._anchors.items() if anchor in text]
        if not present:
            return text
        ordered = tuple(sorted(present, key=lambda s: (-len(s), s)))
        return _compiled(ordered).sub(MASK, text)

    def renderable(self, value: Any) -> Any:
        """Mask a str or a rich Text (keeping its styles when nothing needs masking)."""
        if isinstance(value, Text):
            plain = value.plain
            masked = self.text(plain)
            return value if masked == plain else Text(masked)
        if isinstance(value, str):
            return self.text(value)
        return value
