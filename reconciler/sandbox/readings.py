"""Readings: the answers where the reference leaves a real server a choice.

Each reading is a `SandboxConfig` field whose default is the emulator's historical
answer; the other values are what a real server may plausibly send instead
(docs/sandbox.md, "Readings"). This module turns a reading into the bytes on the wire.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NamedTuple

from reconciler.sandbox.routes import DEFAULT_BACKUP_QUERY

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
#: The API Response Object of a success: the historical answer to every write.
SUCCESS_BODY = b'{"success":true}'

WriteAnswer = Literal["response", "empty", "true", "ok"]
AbsentStatus = Literal[404, 400]
AuthStatus = Literal[401, 403, 400]
#: `default`: every reading at its default; `all`: `ALL_READINGS` (explicit values win).
Preset = Literal["default", "all"]

#: The backup query's path under the `all` preset: the reference names none (erratum 6).
ALTERNATE_BACKUP_QUERY = "server/configuration/backup"

#: Every reading: its default first, then each other value a real server may take.
READINGS: dict[str, tuple[Any, ...]] = {
    "refuse_bodyless_post": (False, True),
    "write_answer": ("response", "empty", "true", "ok"),
    "text_strings": (False, True),
    "absent_status": (404, 400),
    "auth_status": (401, 403, 400),
    "backup_query": (DEFAULT_BACKUP_QUERY, ALTERNATE_BACKUP_QUERY),
}
#: The `readings="all"` preset: the first non-default value of every reading at once.
ALL_READINGS: dict[str, Any] = {name: values[1] for name, values in READINGS.items()}


class Answer(NamedTuple):
    """One API answer: status, body, and the Content-Type (None: no such header)."""

    status: int
    body: bytes
    content_type: str | None = JSON


def failure(status: int, reason: str) -> Answer:
    """An API Response Object reporting failure."""
    return Answer(status, json.dumps({"success": False, "reason": reason}).encode())


def write_done(reading: WriteAnswer) -> Answer:
    """How a successful write is acknowledged under the `write_answer` reading."""
    if reading == "empty":
        return Answer(200, b"", None)
    if reading == "true":
        return Answer(200, b"true")
    if reading == "ok":
        return Answer(200, b"OK", TEXT)
    return Answer(200, SUCCESS_BODY)


def string_answer(value: str, text_strings: bool) -> Answer:
    """A String answer as a JSON string, or as raw text under `text_strings`."""
    if text_strings:
        return Answer(200, value.encode(), TEXT)
    return Answer(200, json.dumps(value).encode())


def log_line(values: dict[str, Any]) -> str:
    """The start-up log line naming every reading's value."""
    return "sandbox readings: " + " ".join(f"{name}={values[name]}" for name in READINGS)
