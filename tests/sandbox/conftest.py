"""Shared fixtures: a seeded sandbox and a tiny raw-HTTP helper."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from reconciler.sandbox import Sandbox, SandboxConfig

TOKEN = "s3cr3t-T0KEN-xyz"

SEED: dict[str, Any] = {
    "hostname": "support.example.com",
    "techRestrictions": [r"10\.0\..*"],
    "groups": [
        {
            "name": "Helpdesk",
            "permissions": {"canRunTools": True},
            "password": "group-pw",
            "ldapSettings": {"enabled": True, "baseDN": "dc=example"},
        },
        {"name": "Admins", "max_userSgSessions": 3},
    ],
    "technicians": [
        {"username": "alice", "displayName": "Alice", "groups": ["Helpdesk"], "password": "pw"},
        {"username": "bob", "groups": ["Helpdesk", "Admins"], "isAnonymous": True},
    ],
    "machines": [
        {
            "machineID": "SG_1",
            "name": "Front desk",
            "groups": ["UK", "London"],
            "online": True,
            "os": "Windows 11",
            "notes": "n1",
            "properties": {"License": "ABC", "site": "machine"},
            "hardware": {"totalMemory": 1024, "serial": "XYZ"},
            "monitoring": {"cpuLoadAverages": [1, 2, 3]},
        },
        {"machineID": "SG_2", "groups": ["UK", "Manchester"]},
        {"machineID": "SG_3", "groups": []},
    ],
    "machineGroups": [
        {"path": ["UK"], "properties": {"country": "GB", "site": "uk"}},
        {"path": ["UK", "London"], "properties": {"site": "LON"}},
        {"path": ["France", "Paris"]},
    ],
    "history": [
        {
            "sessionID": "H1",
            "type": "Access",
            "technicianName": "Alice",
            "technicianUsername": "alice",
            "start": 1000,
            "lastModified": 5000,
            "comments": "printer fixed",
            "machine": {"machineID": "SG_1"},
        },
        {
            "sessionID": "H2",
            "type": "Support",
            "technicianName": "Bob",
            "technicianUsername": "bob",
            "start": 2000,
            "lastModified": 2500,
            "comments": "",
        },
        {
            "sessionID": "H3",
            "type": "Presentation",
            "technicianName": "Alice",
            "technicianUsername": "alice",
            "start": 3000,
            "lastModified": 3100,
            "comments": "demo",
        },
    ],
    "alerts": [{"name": "Low disk", "active": True, "triggered": True, "severity": "warning"}],
    "supportQueue": [{"sessionID": "Q1", "customer": {"customerID": "C1"}}],
    "supportSessions": [{"sessionID": "S1", "technicianUsername": "alice"}],
    "accessSessions": [{"sessionID": "A1", "machine": {"machineID": "SG_1"}}],
}

# uniqueIDs are one sequence: groups first, then technicians, in seed order.
HELPDESK, ADMINS, ALICE, BOB = 1, 2, 3, 4


def make_config(**overrides: Any) -> SandboxConfig:
    """A loopback config with the test token and seed, plus overrides."""
    values: dict[str, Any] = {"token": TOKEN, "seed": SEED}
    values.update(overrides)
    return SandboxConfig(**values)


class Api:
    """Raw HTTP against the sandbox: one keep-alive session, strict JSON bodies."""

    def __init__(self, sb: Sandbox, token: str = TOKEN) -> None:
        self.sb = sb
        self.token = token
        self.session = requests.Session()

    def url(self, query: str) -> str:
        return f"{self.sb.url}/api/v1/{self.token}/{query}"

    def call(self, query: str, body: Any = None, method: str = "POST") -> requests.Response:
        return self.session.request(method, self.url(query), json=body, timeout=10)

    def ok(self, query: str, body: Any = None) -> Any:
        """Call and require a 200; returns the decoded JSON."""
        resp = self.call(query, body)
        assert resp.status_code == 200, (query, resp.status_code, resp.text)
        assert resp.headers["Content-Type"] == "application/json"
        return resp.json()

    def fail(self, query: str, body: Any, status: int) -> str:
        """Call and require an API Response Object failure; returns its reason."""
        resp = self.call(query, body)
        assert resp.status_code == status, (query, resp.status_code, resp.text)
        assert resp.headers["Content-Type"] == "application/json"
        data = resp.json()
        assert data["success"] is False
        return str(data["reason"])


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(make_config(data_dir=tmp_path / "data")) as sb:
        yield sb


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Api]:
    client = Api(sandbox)
    yield client
    client.session.close()
