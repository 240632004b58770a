"""Last line of defence: known secret values are masked in everything the CLI prints."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from rich.text import Text

MASK = "(sensitive)"
MIN_LENGTH = 4


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        # Very short values would mask ordinary words; they are still never printed on purpose.
        if len(secret) >= MIN_LENGTH:
            with self._lock:
                self._secrets.add(secret)

    def add_all(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            self.add(secret)

    def text(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def renderable(self, value: Any) -> Any:
        """Mask a str or a rich Text (keeping its styles when nothing needs masking)."""
        if isinstance(value, Text):
            plain = value.plain
            masked = self.text(plain)
            return value if masked == plain else Text(masked)
        if isinstance(value, str):
            return self.text(value)
        return value
