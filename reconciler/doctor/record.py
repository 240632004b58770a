"""The ``--record`` transcript: each exchange of a doctor run, fit for a bug report.

An API exchange is recorded from what the client returned (its decoded answer, or the
error with the server's status and reason): the token never enters it, is scrubbed from
every string anyway, and the value of every key that looks secret is masked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from reconciler import __version__
from reconciler.client.errors import ApiError
from reconciler.doctor.checks import Check
from reconciler.files import write_atomic
from reconciler.redact import MASK

T = TypeVar("T")
BODY_CAP = 4096
SECRET_WORDS = ("password", "secret", "token", "key")


def _secret_key(key: str) -> bool:
    return any(word in key.lower() for word in SECRET_WORDS)


def mask(value: Any, token: str | None = None, *, inside_secret: bool = False) -> Any:
    """``value`` with secret-looking values masked and the token scrubbed from strings.

    Masked: every value (nested ones too, e.g. all of ``passwordSettings``) of a key
    containing password/secret/token/key, and the ``value`` next to a ``key`` (a
    property). Booleans, ``None`` and ``""`` stay: they say whether a secret is set.
    """
    if isinstance(value, Mapping):
        property_pair = "key" in value and "value" in value
        masked: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            secret = inside_secret or _secret_key(name) or (property_pair and name == "value")
            if secret and not isinstance(item, Mapping | list):
                masked[name] = MASK if item not in (None, "", True, False) else item
            else:
                masked[name] = mask(item, token, inside_secret=secret)
        return masked
    if isinstance(value, list):
        return [mask(item, token, inside_secret=inside_secret) for item in value]
    if isinstance(value, str):
        if inside_secret and value:
            return MASK
        return value.replace(token, MASK) if token else value
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _cap_text(text: str) -> str:
    if len(text) > BODY_CAP:
        return text[:BODY_CAP] + f"... ({len(text) - BODY_CAP} more characters)"
    return text


def _capped(value: Any) -> Any:
    """``value`` itself when its JSON is short, else the start of its JSON text."""
    text = json.dumps(value, ensure_ascii=False)
    return value if len(text) <= BODY_CAP else _cap_text(text)


class Recorder:
    """Collects exchanges; ``call`` runs one client method and records its outcome."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.exchanges: list[dict[str, Any]] = []

    def call(self, query: str, request: Mapping[str, Any] | None, fn: Callable[[], T]) -> T:
        """Run ``fn`` (one query); record the request, then the answer or the error."""
        entry: dict[str, Any] = {
            "query": query,
            # The reference's form: no data -> GET without a body, data -> POST with JSON.
            "method": "POST" if request else "GET",
            "request": None if request is None else _capped(mask(dict(request), self.token)),
        }
        try:
            value = fn()
        except ApiError as exc:
            entry.update(outcome="error", status=exc.status, error=self._scrub(str(exc)), body=None)
            self.exchanges.append(entry)
            raise
        # The client hands back the decoded answer only: a 2xx of unrecorded status.
        body = _capped(mask(_plain(value), self.token))
        entry.update(outcome="answered", status=None, error=None, body=body)
        self.exchanges.append(entry)
        return value

    def page(self, path: str, status: int, content_type: str, text: str) -> None:
        """A page fetched without the token (the version page)."""
        self.exchanges.append(
            {
                "query": path,
                "method": "GET",
                "request": None,
                "outcome": "answered",
                "status": status,
                "content_type": content_type,
                "error": None,
                "body": _cap_text(self._scrub(text)),
            }
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self.token, MASK) if self.token else text

    def write(self, path: Path, server: str | None, checks: Sequence[Check]) -> None:
        """Write the transcript atomically (a temporary file renamed over ``path``)."""
        document = {
            "shcfg": __version__,
            "server": server,
            "checks": [asdict(c) for c in checks],
            "exchanges": self.exchanges,
        }
        text = self._scrub(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
        write_atomic(path, text, "--record")
