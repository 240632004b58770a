"""Overlays: a server's own manifests, on top of the shared set.

An overlay may add objects, and may set attributes of an object the shared set declares
(matched by identity): the overlay's keys win, key by key, nested settings too. Any other
object or setting declared twice (twice by the shared set, or by two overlays) stays an
error naming both places.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from reconciler.manifest.issues import Location

M = TypeVar("M", bound=BaseModel)


class Overlay:
    """Which shared objects an overlay has already set attributes of, and where."""

    def __init__(self) -> None:
        self.claimed: dict[tuple[str, str], Location] = {}

    def claim(self, key: tuple[str, str], where: Location) -> bool:
        """True the first time an overlay touches ``key``; False if one already did."""
        if key in self.claimed:
            return False
        self.claimed[key] = where
        return True

    def place(self, key: tuple[str, str], first: Location) -> Location:
        """Where ``key`` was last declared: the overlay that set it, else its first place."""
        return self.claimed.get(key, first)


def overlaid(base: M, top: M) -> M:
    """``base`` with the keys ``top`` declares laid over it, mappings merged key by key."""
    merged = _deep(_declared(base), _declared(top))
    return type(base).model_validate(merged)


def _declared(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(exclude_unset=True, by_alias=True)


def _deep(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep(out[key], value)
        else:
            out[key] = value
    return out
