"""Saved plans: `plan --out FILE` and `apply --plan FILE` (docs/plan-format.md).

The file holds the plan (changes with the fingerprint and ID of every live object they
touch), the manifests as reviewed (secret values masked) with their paths relative to
the plan file, and the `${env:...}`/`${file:...}` reference of every secret; never a
secret value. The whole file is signed with an HMAC-SHA256 keyed by the API token, so
only a holder of the token can make a plan that applies, and any edit is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from reconciler.errors import ShcfgError
from reconciler.files import read_regular_file, write_atomic
from reconciler.kinds import REGISTRY
from reconciler.manifest import LoadedManifest, Manifest
from reconciler.plan import Change, Plan

SAVED_FORMAT = 2
# Domain separation: this key signs nothing else, and no other shcfg document verifies.
SIGNING_LABEL = b"shcfg saved plan v2\x00"
MAX_PLAN_BYTES = 512 << 20

SecretRef = tuple[str, str, str, str]  # kind, identity, attribute, reference


class SavedPlan(BaseModel):
    """The signed body of a saved plan file."""

    model_config = ConfigDict(extra="forbid")

    shcfg_saved_plan: int
    plan: Plan
    manifest: dict[str, Any]
    secret_refs: list[SecretRef]

    def refs(self) -> dict[tuple[str, str, str], str]:
        return {(kind, ident, attr): ref for kind, ident, attr, ref in self.secret_refs}

    def needs_secrets(self) -> bool:
        return any(f.sensitive for c in self.plan.changes for f in c.fields)

    def reviewed(self, files: list[str]) -> LoadedManifest:
        """The manifests as they were when the plan was made (secret values masked)."""
        try:
            model = Manifest.model_validate(self.manifest)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ShcfgError(
                f"saved plan: the manifests it holds do not load ({where}: {first['msg']}): "
                "it was made by another shcfg version; plan again"
            ) from None
        return LoadedManifest(
            model=model,
            secret_refs=self.refs(),
            secret_values=frozenset(),
            files=files,
            locate=dict,
        )


def _canonical(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def sign(body: dict[str, Any], token: str) -> str:
    """HMAC-SHA256 of the canonical JSON of `body`, keyed by the API token."""
    digest = hmac.new(token.encode("utf-8"), SIGNING_LABEL + _canonical(body), hashlib.sha256)
    return "hmac-sha256:" + digest.hexdigest()


def _portable(files: list[str], base: Path) -> list[str]:
    """Manifest paths relative to the plan file's directory, absolute when outside it."""
    out = []
    for name in files:
        resolved = Path(name).resolve()
        try:
            out.append(str(resolved.relative_to(base)))
        except ValueError:
            out.append(str(resolved))
    return out


def save_plan(
    plan: Plan, loaded: LoadedManifest, path: Path, token: str, redact: Callable[[str], str]
) -> None:
    """Write the signed plan file; secret values are masked before it is signed."""
    files = _portable(loaded.files, path.resolve().parent)
    body = {
        "shcfg_saved_plan": SAVED_FORMAT,
        "plan": plan.model_copy(update={"manifests": files}).model_dump(mode="json"),
        "manifest": loaded.model.model_dump(mode="json", exclude_none=True),
        "secret_refs": sorted([*key, ref] for key, ref in loaded.secret_refs.items()),
    }
    masked = json.loads(redact(json.dumps(body, sort_keys=True, ensure_ascii=True)))
    document = {**masked, "signature": sign(masked, token)}
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


def read_saved_plan(path: Path, token: str) -> SavedPlan:
    """The verified plan: its signature is checked with `token` before anything else."""
    data, _ = read_regular_file(path, "--plan", MAX_PLAN_BYTES)
    try:
        raw = json.loads(data)
    except UnicodeDecodeError:
        raise ShcfgError(f"{path}: not a shcfg plan: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ShcfgError(f"{path}:{exc.lineno}:{exc.colno}: not a shcfg plan: {exc.msg}") from None
    except RecursionError:
        raise ShcfgError(f"{path}: not a shcfg plan: nested too deeply") from None
    if not isinstance(raw, dict) or "shcfg_saved_plan" not in raw:
        raise ShcfgError(f"{path}: not a shcfg plan")
    signature = raw.pop("signature", None)
    if not isinstance(signature, str):
        raise ShcfgError(f"{path}: the plan is not signed (made by an older shcfg?): plan again")
    try:
        expected = sign(raw, token)
    except RecursionError:
        raise ShcfgError(f"{path}: not a shcfg plan: nested too deeply") from None
    if not hmac.compare_digest(signature, expected):
        raise ShcfgError(
            f"{path}: the signature does not match: the file was edited after it was saved, "
            "or was made with another API token; refusing it"
        )
    if raw.get("shcfg_saved_plan") != SAVED_FORMAT:
        raise ShcfgError(f"{path}: plan format {raw.get('shcfg_saved_plan')!r} is not supported")
    try:
        saved = SavedPlan.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ShcfgError(f"{path}: not a shcfg plan: {where}: {first['msg']}") from None
    except RecursionError:
        raise ShcfgError(f"{path}: not a shcfg plan: nested too deeply") from None
    unknown = sorted({c.kind for c in saved.plan.changes} - set(REGISTRY))
    if unknown:
        raise ShcfgError(f"{path}: not a shcfg plan: unknown kind {unknown[0]!r}")
    return saved


def manifest_files(saved: SavedPlan, path: Path) -> list[Path]:
    """Where the plan's manifests are: their stored paths are relative to the plan file."""
    return [path.resolve().parent / name for name in saved.plan.manifests]


def _live_id(snapshot: Any) -> int | None:
    """The uniqueID a kind's snapshot names (top level, or one object down)."""
    if not isinstance(snapshot, dict):
        return None
    for candidate in (snapshot, *(v for v in snapshot.values() if isinstance(v, dict))):
        if isinstance(candidate.get("uniqueID"), int):
            return int(candidate["uniqueID"])
    return None


def _rebound(change: Change, live: dict[str, Any]) -> str | None:
    """The change names an object by ID that is no longer the object of its identity."""
    if change.live_id is None:
        return None
    identity = change.rename_from or change.identity
    now = _live_id(REGISTRY[change.kind].snapshot(identity, live[change.kind]))
    if now == change.live_id:
        return None
    return f"{change.kind} {change.identity!r} (the plan's ID {change.live_id} is not its ID)"


def check_still_valid(saved: SavedPlan, live: dict[str, Any], path: Path) -> None:
    """Refuse when an object a change touches changed on the server since the plan, or
    when the ID a delete or update targets no longer names that object."""
    from reconciler.reconcile import stale_changes

    stale = stale_changes(saved.plan, live)
    stale += [text for c in saved.plan.changes if (text := _rebound(c, live)) is not None]
    if stale:
        raise ShcfgError(
            f"{path}: live state changed since the plan was made: {', '.join(stale)}; "
            "run plan again"
        )


def check_secret_sources(saved: SavedPlan, current: LoadedManifest, path: Path) -> None:
    """A password the plan sets still comes from the reference that was reviewed."""
    reviewed = saved.refs()
    for change in saved.plan.changes:
        for fc in change.fields:
            key = (change.kind, change.identity, fc.path.split(".")[0])
            if fc.sensitive and current.secret_refs.get(key) != reviewed.get(key):
                raise ShcfgError(
                    f"{path}: the secret source of {change.kind} {change.identity!r} "
                    f"{fc.path} changed in the manifests since the plan was made "
                    f"(reviewed: {reviewed.get(key, 'none')}); run plan again"
                )
