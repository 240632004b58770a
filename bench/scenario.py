"""The benchmark's server state and manifests, generated from a fixed seed.

The seed (sandbox state) and the manifests describe the same configuration, so a plan
against the fresh sandbox has no changes; `changed=True` alters 1% of every kind.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PERMISSIONS = ("canRunTools", "canTransferFiles", "canUseChat", "canViewHistory", "canUseTerminal")
MACHINE_FILES = 10


@dataclass(frozen=True)
class Size:
    technicians: int = 2000
    groups: int = 200
    machines: int = 10_000
    machine_properties: int = 5
    machine_groups: int = 100
    group_properties: int = 3
    restrictions: int = 50


def _state(size: Size, rng: random.Random) -> dict[str, Any]:
    """The configuration as plain data, shared by the seed and the manifests."""
    groups = [
        {
            "name": f"group-{g:03d}",
            "maxFileSize": 1_000_000 + g,
            "allowAnonymousLogins": False,
            "permissions": {p: rng.random() < 0.5 for p in PERMISSIONS},
        }
        for g in range(size.groups)
    ]
    technicians = [
        {
            "username": f"tech-{t:04d}",
            "displayName": f"Technician {t}",
            "emailAddress": f"tech-{t:04d}@example.com",
            "enabled": True,
            "groups": sorted({f"group-{rng.randrange(size.groups):03d}" for _ in range(2)}),
        }
        for t in range(size.technicians)
    ]
    paths = [[f"region-{m // 10:02d}", f"site-{m:03d}"] for m in range(size.machine_groups)]
    machine_groups = [
        {
            "path": path,
            "properties": {f"mgkey{k}": f"{path[1]}-{k}" for k in range(size.group_properties)},
        }
        for path in paths
    ]
    machines = [
        {
            "machineID": f"SG_{i:05d}",
            "groups": paths[i % len(paths)],
            "notes": f"machine {i} notes",
            "warnings": "" if i % 3 else "do not reboot",
            "properties": {
                f"key{k}": f"v{rng.randrange(1000)}" for k in range(size.machine_properties)
            },
        }
        for i in range(size.machines)
    ]
    restrictions = [f"10\\.{r}\\..*" for r in range(size.restrictions)]
    return {
        "hostname": "support.example.com",
        "techRestrictions": restrictions,
        "groups": groups,
        "technicians": technicians,
        "machines": machines,
        "machineGroups": machine_groups,
    }


def seed(size: Size, rng_seed: int = 1) -> dict[str, Any]:
    """The sandbox seed: the state as the server holds it."""
    state = _state(size, random.Random(rng_seed))
    for machine in state["machines"]:
        machine["monitoringEnabled"] = False
    return state


def _change_one_percent(state: dict[str, Any]) -> None:
    """Alter every 100th object of each kind (at least one per kind)."""
    for tech in state["technicians"][::100]:
        tech["displayName"] += " (changed)"
    for group in state["groups"][::100]:
        group["maxFileSize"] += 1
        group["permissions"]["canRunTools"] = not group["permissions"]["canRunTools"]
    for i, machine in enumerate(state["machines"][::100]):
        machine["properties"]["key0"] = "changed"
        if i % 2 == 0:
            machine["notes"] += " (changed)"
    for group in state["machineGroups"][::100]:
        group["properties"]["mgkey0"] = "changed"
    state["techRestrictions"][0] = "192\\.168\\..*"


def manifests(size: Size, out: Path, *, changed: bool = False, rng_seed: int = 1) -> Path:
    """Write the manifests into `out` (one file per kind, machines split in files)."""
    state = _state(size, random.Random(rng_seed))
    if changed:
        _change_one_percent(state)
    out.mkdir(parents=True, exist_ok=True)
    machines = [
        {
            "machineID": m["machineID"],
            "monitoring": False,
            "notes": m["notes"],
            "warnings": m["warnings"],
            "properties": m["properties"],
        }
        for m in state["machines"]
    ]
    docs: dict[str, dict[str, Any]] = {
        "server.yaml": {
            "server": {
                "hostname": state["hostname"],
                "techRestrictions": state["techRestrictions"],
            },
            "prune": {"technicians": True, "groups": True, "techRestrictions": True},
        },
        "groups.yaml": {"groups": state["groups"]},
        "technicians.yaml": {"technicians": state["technicians"]},
        "machine-groups.yaml": {"machineGroups": state["machineGroups"]},
    }
    per_file = -(-len(machines) // MACHINE_FILES)
    for n in range(MACHINE_FILES):
        part = machines[n * per_file : (n + 1) * per_file]
        if part:
            docs[f"machines-{n:02d}.yaml"] = {"machines": part}
    for name, doc in docs.items():
        # JSON is YAML: flow style keeps the files small and quick to write.
        (out / name).write_text(json.dumps({"version": 1, **doc}, indent=1), encoding="utf-8")
    return out
