"""Saved plans: `plan --out FILE` and `apply --plan FILE`.

The file holds the changes, a fingerprint of the live state of every object they touch,
the manifest paths and the server URL; never a secret value (sensitive fields keep only
their `${env:...}`/`${file:...}` reference, resolved again from the manifests at apply).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler.errors import ShcfgError
from reconciler.manifest import LoadedManifest
from reconciler.plan import Plan

SAVED_FORMAT = 1


class SavedPlan(BaseModel):
    shcfg_saved_plan: int
    checksum: str
    secret_refs: dict[str, str]
    plan: Plan


def save_plan(plan: Plan, loaded: LoadedManifest, path: Path) -> None:
    refs = {
        f"{c.kind}/{c.identity}/{f.path}": loaded.secret_refs.get((c.kind, c.identity, f.path), "")
        for c in plan.changes
        for f in c.fields
        if f.sensitive
    }
    saved = SavedPlan(
        shcfg_saved_plan=SAVED_FORMAT, checksum=plan.checksum(), secret_refs=refs, plan=plan
    )
    text = json.dumps(saved.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_saved_plan(path: Path) -> Plan:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        saved = SavedPlan.model_validate(raw)
    except (OSError, UnicodeDecodeError) as exc:
        raise ShcfgError(f"{path}: cannot read the plan: {exc.__class__.__name__}") from None
    except json.JSONDecodeError as exc:
        raise ShcfgError(f"{path}:{exc.lineno}:{exc.colno}: not a shcfg plan: {exc.msg}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ShcfgError(f"{path}: not a shcfg plan: {where}: {first['msg']}") from None
    if saved.shcfg_saved_plan != SAVED_FORMAT:
        raise ShcfgError(f"{path}: plan format {saved.shcfg_saved_plan} is not supported")
    if saved.plan.checksum() != saved.checksum:
        raise ShcfgError(f"{path}: the plan was modified after it was saved (checksum mismatch)")
    return saved.plan


def load_saved_plan(
    path: Path,
    load: Callable[[Sequence[str]], LoadedManifest],
    connect: Callable[[], Any],
    *,
    concurrency: int,
) -> tuple[LoadedManifest, Any, dict[str, Any], Plan]:
    """Read a saved plan, re-read live state and refuse when anything it touches changed."""
    from reconciler.reconcile import read_live, stale_changes

    plan = read_saved_plan(path)
    loaded = load(plan.manifests)
    client = connect()
    if client.url != plan.server:
        client.close()
        raise ShcfgError(
            f"{path}: the plan was made against {plan.server}, not {client.url}: refusing"
        )
    live = read_live(client, loaded, concurrency=concurrency)
    stale = stale_changes(plan, live)
    if stale:
        client.close()
        raise ShcfgError(
            f"{path}: live state changed since the plan was made: {', '.join(stale)}; "
            "run plan again"
        )
    return loaded, client, live, plan
