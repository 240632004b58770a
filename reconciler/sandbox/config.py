"""The sandbox's settings and its call-log record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from reconciler.sandbox.faults import FAULT_KINDS
from reconciler.sandbox.readings import (
    ALL_READINGS,
    AbsentStatus,
    AuthStatus,
    Preset,
    WriteAnswer,
)
from reconciler.sandbox.routes import DEFAULT_BACKUP_QUERY


class SandboxConfig(BaseModel):
    """How to run the emulator. Fault knobs are clamped rather than rejected (as in
    pebble), and all default to off so tests are never flaky by accident. Readings
    (`refuse_bodyless_post` .. `backup_query`) default to the historical answers;
    `readings="all"` sets every one not given to its first other value. The token is
    a `SecretStr`: it never shows in a repr or a log."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)
    token: SecretStr
    data_dir: Path | None = None
    seed: Path | dict[str, Any] | None = None
    latency_ms: float = 0
    fail_rate: float = 0.0
    fail_kinds: tuple[str, ...] = ("500",)
    fail_seed: int = 0
    fault_timeout_s: float = 2.0
    backup_query: str = DEFAULT_BACKUP_QUERY
    readings: Preset = "default"
    refuse_bodyless_post: bool = False
    write_answer: WriteAnswer = "response"
    text_strings: bool = False
    absent_status: AbsentStatus = 404
    auth_status: AuthStatus = 401
    durable: bool = True
    server_version: str = "5.5.16"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_remote: bool = False
    verbose: bool = False

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """`readings="all"`: every reading not given explicitly takes its other value."""
        if not isinstance(data, dict):
            return data
        if data.get("readings") == "all":
            return {**ALL_READINGS, **data}
        return data

    @field_validator("token")
    @classmethod
    def _token_not_empty(cls, value: SecretStr) -> SecretStr:
        secret = value.get_secret_value()
        if not secret or "/" in secret:
            raise ValueError("token must be a non-empty string without '/'")
        return value

    @field_validator("fail_rate")
    @classmethod
    def _clamp_rate(cls, value: float) -> float:
        return min(1.0, max(0.0, value))

    @field_validator("latency_ms", "fault_timeout_s")
    @classmethod
    def _clamp_non_negative(cls, value: float) -> float:
        return max(0.0, value)

    @field_validator("fail_kinds", mode="before")
    @classmethod
    def _split_kinds(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(k.strip() for k in value.split(",") if k.strip())
        return value

    @field_validator("fail_kinds")
    @classmethod
    def _known_kinds(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [k for k in value if k not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fail kinds {unknown}; choose from {list(FAULT_KINDS)}")
        return tuple(dict.fromkeys(value))

    @field_validator("backup_query")
    @classmethod
    def _strip_query(cls, value: str) -> str:
        value = value.strip("/")
        if not value:
            raise ValueError("backup_query must not be empty")
        return value


class Call(BaseModel):
    """One API request as the sandbox saw it. `status` is 0 when the connection was
    dropped without a response (`reset`, `timeout` faults)."""

    model_config = ConfigDict(frozen=True)

    query: str
    write: bool
    status: int
    fault: str | None = None
