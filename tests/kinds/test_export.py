"""Each kind's export shaping on constructed live state, assembled by export.py (no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import ShcfgError
from reconciler.export import build_documents, check_documents
from reconciler.kinds import REGISTRY
from reconciler.kinds.groups import LiveGroups
from reconciler.kinds.machines import LiveMachine
from tests.kinds.conftest import empty_live, group


def _live(**parts: Any) -> dict[str, Any]:
    groups = LiveGroups(
        {
            "Ops": group(
                "Ops",
                2,
                maxFileSize=5,
                videoPassword="v",
                ldapSettings={"enabled": True, "bogus": 1},
            ),
            "Dev": group("Dev", 1, passwordSettings={"minLength": "8", "nested": {"x": 1}}),
        },
        {1: {"b": True, "a": False}, 2: {}},
    )
    technicians = {
        "al": {"username": "al", "uniqueID": 5, "enabled": True, "groupIDs": [2, 1, 99]},
        "guest": {"username": "guest", "uniqueID": 6, "isAnonymous": True},
    }
    machines = {
        "M1": LiveMachine(True, "a ${x}", "", {"k": "v"}, ("UK", "A/B")),
        "M2": LiveMachine(None, "", "", {}, ("UK",)),
    }
    machine_groups = {"UK": {"c": "GB"}, "UK/A/B": {"s": "1"}}
    defaults: dict[str, Any] = {
        "groups": groups,
        "technicians": technicians,
        "server": "h.example",
        "techRestrictions": ["b", "a"],
        "machines": machines,
        "machineGroups": machine_groups,
    }
    return empty_live(**{**defaults, **parts})


def test_every_kind_shapes_its_own_entries_into_one_file_per_section() -> None:
    docs, placeholders = build_documents(_live(), list(REGISTRY))
    assert sorted(docs) == [
        "groups.yaml",
        "machine-groups.yaml",
        "machines.yaml",
        "server.yaml",
        "technicians.yaml",
    ]
    check_documents(docs)
    assert docs["server.yaml"].data == {
        "version": 1,
        "server": {"hostname": "h.example", "techRestrictions": ["a", "b"]},
    }
    dev, ops = docs["groups.yaml"].data["groups"]
    assert dev == {
        "name": "Dev",
        "passwordSettings": {"minLength": "8"},
        "permissions": {"a": False, "b": True},
    }
    assert ops["ldapSettings"] == {"enabled": True}
    assert ops["videoPassword"] == "${env:SHCFG_GROUP_OPS_VIDEO_PASSWORD}"
    assert placeholders == ["SHCFG_GROUP_OPS_VIDEO_PASSWORD"]
    technicians = docs["technicians.yaml"]
    assert technicians.data["technicians"] == [
        {"username": "al", "enabled": True, "groups": ["Dev", "Ops"]}
    ]
    assert technicians.header == ["Not exported (never managed by shcfg): guest (isAnonymous)."]
    m1, m2 = docs["machines.yaml"].data["machines"]
    assert m1["notes"] == "a $${x}" and "monitoring" not in m2
    assert docs["machine-groups.yaml"].data["machineGroups"] == [
        {"path": ["UK"], "properties": {"c": "GB"}},
        {"path": ["UK", "A/B"], "properties": {"s": "1"}},
    ]


def test_a_server_value_no_manifest_accepts_is_refused_before_writing() -> None:
    live = _live(groups=LiveGroups({"G": group("G", 1, maxFileSize=-1)}))
    docs, _ = build_documents(live, ["groups"])
    with pytest.raises(ShcfgError, match=r"^export: groups.yaml: .*groups\.0\.maxFileSize"):
        check_documents(docs)
