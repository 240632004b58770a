"""Decoding a server's answer into a value or the ``ApiError`` it stands for.

Kept apart from sending (``transport.py``): this part does no I/O. It knows the token
only to scrub it from what the server says (a reason may echo the URL) and whether an
answer has proved the token good (after that a 400 no longer reads as a refused token).
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from reconciler.client.answers import (
    Answer,
    WriteShape,
    decode_json,
    hazard,
    plain_json,
    reason_means_auth,
    write_shape,
)
from reconciler.client.errors import (
    AUTH_HINT,
    ApiError,
    AuthenticationError,
    RejectedError,
    UnexpectedResponseError,
    error_class_for_status,
)
from reconciler.redact import MASK

NOT_JSON = "response is not JSON"


def plural_tries(count: int) -> str:
    """``1 try``, ``3 tries``: how many times a request was sent."""
    return f"{count} try" if count == 1 else f"{count} tries"


@cache
def adapter(type_: Any) -> TypeAdapter[Any]:
    """One validator per response type, built once."""
    return TypeAdapter(type_)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "response"


def unexpected(query: str, exc: ValidationError) -> UnexpectedResponseError:
    """A mismatch names the query and the field, never the value."""
    first = exc.errors(include_url=False, include_input=False)[0]
    detail = f"unexpected response: {_location(first['loc'])}: {first['msg']}"
    if exc.error_count() > 1:
        detail += f" (and {exc.error_count() - 1} more)"
    return UnexpectedResponseError(query, detail)


def recast(cls: type[ApiError], error: ApiError) -> ApiError:
    """``error`` as another class, with the same message and attributes."""
    copy = cls.__new__(cls)
    copy.__dict__.update(error.__dict__)
    copy.args = error.args
    return copy


class AnswerDecoder:
    """Turns an ``Answer`` into a value or an error, with the token scrubbed from reasons."""

    def __init__(self, token: str) -> None:
        self._token = token
        # A 400 reads as a refused token only while no answer has proved the token good.
        self._token_accepted = threading.Event()

    def redact(self, text: str) -> str:
        """Remove the token from text that came from the server."""
        return text.replace(self._token, MASK)

    def decode(
        self, answer: Answer, into: TypeAdapter[Any] | None = None, *, text: bool = False
    ) -> Any:
        """The answer's JSON (validated as ``into``), or the ``ApiError`` it stands for.

        With ``text`` (a String answer), a ``text/plain`` body is the value itself, as is
        any non-JSON body that came without a content type.
        """
        query, status, raw = answer.query, answer.status, answer.raw
        if not 200 <= status < 300:
            raise self.status_error(answer)
        if text and answer.media_type == "text/plain":
            return self._text(answer, into)
        problem = hazard(raw)
        if problem is None and into is not None and plain_json(raw):
            try:
                return into.validate_json(raw)
            except ValidationError as exc:
                if not any(e["type"] == "json_invalid" for e in exc.errors(include_input=False)):
                    raise
            # Not JSON after all: the strict decoder below words the error.
        decoded, problem = decode_json(raw)
        if problem == NOT_JSON and text and answer.media_type == "":
            return self._text(answer, into)
        if problem is not None:
            raise UnexpectedResponseError(query, f"HTTP {status}: {problem}", status=status)
        if isinstance(decoded, dict) and decoded.get("success") is False:
            raise self._refusal(answer, decoded)
        return decoded if into is None else into.validate_python(decoded)

    def decode_write(self, answer: Answer) -> tuple[dict[str, Any], WriteShape]:
        """A write's 2xx answer as the fields of an API Response Object and its shape.

        Every 2xx is done unless it says no: an API Response Object with ``success:
        false``, or a bare ``false``.
        """
        if not 200 <= answer.status < 300:
            raise self.status_error(answer)
        value, problem = decode_json(answer.raw) if answer.raw.strip() else (None, None)
        if problem is not None and problem != NOT_JSON:
            raise UnexpectedResponseError(
                answer.query, f"HTTP {answer.status}: {problem}", status=answer.status
            )
        if value is False or (isinstance(value, dict) and value.get("success") is False):
            raise self._refusal(answer, value)
        fields = value if isinstance(value, dict) else {}
        return fields, write_shape(answer.raw, value, problem)

    def _text(self, answer: Answer, into: TypeAdapter[Any] | None) -> Any:
        value = answer.text()
        if value is None:
            raise UnexpectedResponseError(
                answer.query,
                f"HTTP {answer.status}: response is not UTF-8 text",
                status=answer.status,
            )
        return value if into is None else into.validate_python(value)

    def _refusal(self, answer: Answer, decoded: Any) -> RejectedError:
        refusal = self._reason(decoded) or (
            "the server answered false" if decoded is False else "request failed"
        )
        return RejectedError(
            answer.query, f"HTTP {answer.status}: {refusal}", status=answer.status, reason=refusal
        )

    def status_error(self, answer: Answer) -> ApiError:
        """The error an answer with a status other than 2xx stands for."""
        status = answer.status
        cls = error_class_for_status(status)
        reason = self._status_reason(answer)
        if status == 400 and not self._token_accepted.is_set() and reason_means_auth(reason):
            cls = AuthenticationError
        detail = f"HTTP {status}: {reason}"
        if cls is AuthenticationError:
            detail += f" ({AUTH_HINT})"
        if answer.tries > 1:
            detail += f" (after {plural_tries(answer.tries)})"
        return cls(
            answer.query,
            detail,
            status=status,
            reason=reason,
            outcome_unknown=answer.write and status >= 500 and cls is not UnexpectedResponseError,
        )

    def _status_reason(self, answer: Answer) -> str:
        decoded, problem = decode_json(answer.raw)
        if problem is None:
            return self._reason(decoded) or self.redact(answer.reason or "no reason given")
        if answer.media_type == "text/plain":
            text = " ".join((answer.text() or "").split())[:200]
            if text:
                return self.redact(text)
        return "non-JSON body"

    def _reason(self, decoded: Any) -> str | None:
        if isinstance(decoded, dict) and isinstance(decoded.get("reason"), str):
            return " ".join(self.redact(decoded["reason"]).split()) or None
        return None
