"""Server behaviour: persistence, faults, admin routes, safety, TLS, logging."""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import subprocess
import sys
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests
import trustme

from reconciler.sandbox import Sandbox, SandboxConfig, SandboxError, SeedError
from reconciler.sandbox.faults import FaultInjector
from reconciler.sandbox.store import STATE_FILE
from tests.sandbox.conftest import TOKEN, Api, make_config

EXAMPLE_SEED = Path(__file__).resolve().parents[2] / "examples" / "seed.yaml"


def test_state_persists_across_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Sandbox(make_config(data_dir=data)) as sb:
        api = Api(sb)
        api.ok("groups/new", {"group": {"name": "Persisted"}})
        api.ok("machines/properties/set", {"machineID": "SG_2", "key": "k", "value": "v"})
    assert (data / STATE_FILE).exists()
    # A different seed is ignored once state exists.
    with Sandbox(make_config(data_dir=data, seed={"hostname": "other"})) as sb:
        api = Api(sb)
        assert api.ok("groups/get", {"group": {"name": "Persisted"}})["uniqueID"] == 5
        got = api.ok("machines/properties/get", {"machineID": "SG_2", "key": "k"})
        assert got[0]["properties"] == [{"key": "k", "value": "v"}]
        assert api.ok("server/hostname/get") == "support.example.com"
        api.ok("groups/new", {"group": {"name": "Next"}})
        assert api.ok("groups/get", {"group": {"name": "Next"}})["uniqueID"] == 6


def test_persistence_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Sandbox(make_config(data_dir=data)) as sb:
        api = Api(sb)
        for i in range(5):
            api.ok("server/hostname/set", {"hostname": f"h{i}"})
        sb.flush()
        assert json.loads((data / STATE_FILE).read_text())["hostname"] == "h4"
    assert sorted(p.name for p in data.iterdir()) == [STATE_FILE]
    assert "group-pw" not in (data / STATE_FILE).read_text()


def test_without_data_dir_backups_go_to_a_private_temp_dir() -> None:
    with Sandbox(make_config()) as sb:
        Api(sb).ok("server/backup")
        backup_dir = sb.backup_dir
        assert backup_dir is not None
        assert len(list(backup_dir.iterdir())) == 1
    assert not backup_dir.exists()


def test_custom_backup_query(tmp_path: Path) -> None:
    with Sandbox(make_config(data_dir=tmp_path, backup_query="/admin/backup/")) as sb:
        api = Api(sb)
        api.ok("admin/backup")
        api.fail("server/backup", None, 404)
        assert len(list((tmp_path / "configuration" / "backups" / "api").iterdir())) == 1


def test_call_log_and_request_count(sandbox: Sandbox, api: Api) -> None:
    api.ok("technicians/list")
    api.fail("technicians/new", {}, 400)
    calls = sandbox.calls
    assert [(c.query, c.write, c.status, c.fault) for c in calls] == [
        ("technicians/list", False, 200, None),
        ("technicians/new", True, 400, None),
    ]
    sandbox.reset_calls()
    assert sandbox.calls == []
    assert sandbox.request_count == 2


def test_admin_routes_need_the_token(sandbox: Sandbox, api: Api) -> None:
    api.ok("server/hostname/get")
    base = f"{sandbox.url}/_sandbox"
    for method, name in (("GET", "calls"), ("GET", "state"), ("POST", "reset-calls")):
        assert requests.request(method, f"{base}/{name}", timeout=5).status_code == 401
        wrong = {"X-Sandbox-Token": "nope"}
        assert (
            requests.request(method, f"{base}/{name}", headers=wrong, timeout=5).status_code == 401
        )
    headers = {"X-Sandbox-Token": TOKEN}
    calls = requests.get(f"{base}/calls", headers=headers, timeout=5).json()
    assert calls == [{"query": "server/hostname/get", "write": False, "status": 200, "fault": None}]
    state = requests.get(f"{base}/state", headers=headers, timeout=5).json()
    assert state["hostname"] == "support.example.com"
    assert "passwordHash" not in json.dumps(state)
    assert requests.post(f"{base}/reset-calls", headers=headers, timeout=5).json() == {
        "success": True
    }
    assert sandbox.calls == []
    assert requests.get(f"{base}/nothing", headers=headers, timeout=5).status_code == 404


def _fault_sequence(seed: int) -> list[str | None]:
    injector = FaultInjector(0.5, ("500", "503", "429", "html"), seed)
    return [f and f.kind for f in (injector.draw(write=True) for _ in range(40))]


def test_fault_sequence_is_deterministic_per_seed() -> None:
    first = _fault_sequence(7)
    assert first == _fault_sequence(7)
    assert first != _fault_sequence(8)
    assert None in first
    assert {"500", "503", "429", "html"} & set(first)


def test_faults_off_never_fail() -> None:
    injector = FaultInjector(0.0, ("500",), 1)
    assert all(injector.draw(write=True) is None for _ in range(50))


def test_injected_http_faults_commit_nothing(tmp_path: Path) -> None:
    cfg = make_config(fail_rate=1.0, fail_kinds=("500", "503", "429", "html"), fail_seed=3)
    with Sandbox(cfg) as sb:
        api = Api(sb)
        seen = set()
        for i in range(30):
            resp = api.call("groups/new", {"group": {"name": f"G{i}"}})
            seen.add(resp.status_code)
            if resp.status_code in (503, 429):
                assert resp.headers["Retry-After"] == "0"
            if resp.status_code == 502:
                assert resp.headers["Content-Type"].startswith("text/html")
            else:
                assert resp.json()["success"] is False
        assert seen == {500, 503, 429, 502}
        assert len(sb.snapshot()["groups"]) == 2
        expected = {"500": 500, "503": 503, "429": 429, "html": 502}
        assert all(c.fault is not None and c.status == expected[c.fault] for c in sb.calls)
        assert {c.fault for c in sb.calls} == {"500", "503", "429", "html"}


def test_faults_apply_to_api_only(tmp_path: Path) -> None:
    with Sandbox(make_config(fail_rate=1.0, fail_kinds=("500",))) as sb:
        headers = {"X-Sandbox-Token": TOKEN}
        assert (
            requests.get(f"{sb.url}/_sandbox/state", headers=headers, timeout=5).status_code == 200
        )
        assert Api(sb).call("technicians/list").status_code == 500


def test_reset_fault_drops_the_connection_and_may_commit(tmp_path: Path) -> None:
    cfg = make_config(fail_rate=1.0, fail_kinds=("reset",), fail_seed=11)
    with Sandbox(cfg) as sb:
        outcomes = []
        for i in range(8):
            with pytest.raises(requests.ConnectionError):
                requests.post(
                    f"{sb.url}/api/v1/{TOKEN}/groups/new",
                    json={"group": {"name": f"R{i}"}},
                    timeout=5,
                )
            names = {g["obj"]["name"] for g in sb.snapshot()["groups"]}
            outcomes.append(f"R{i}" in names)
        assert True in outcomes and False in outcomes
        assert {(c.fault, c.status) for c in sb.calls} == {("reset", 0)}
    # Same seed, same outcomes: the unknown outcome is replayable.
    with Sandbox(cfg) as sb:
        replay = []
        for i in range(8):
            with pytest.raises(requests.ConnectionError):
                requests.post(
                    f"{sb.url}/api/v1/{TOKEN}/groups/new",
                    json={"group": {"name": f"R{i}"}},
                    timeout=5,
                )
            replay.append(any(g["obj"]["name"] == f"R{i}" for g in sb.snapshot()["groups"]))
        assert replay == outcomes


def test_timeout_fault_sleeps_then_drops(tmp_path: Path) -> None:
    cfg = make_config(fail_rate=1.0, fail_kinds=("timeout",), fault_timeout_s=0.05)
    with Sandbox(cfg) as sb:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{sb.url}/api/v1/{TOKEN}/technicians/list", timeout=5)
        assert sb.calls[0].fault == "timeout"


def test_config_clamps_knobs() -> None:
    cfg = SandboxConfig(token="t", fail_rate=3, latency_ms=-5, fail_kinds="500, reset")
    assert cfg.fail_rate == 1.0
    assert cfg.latency_ms == 0
    assert cfg.fail_kinds == ("500", "reset")
    assert SandboxConfig(token="t", fail_rate=-1).fail_rate == 0.0
    with pytest.raises(ValueError, match="unknown fail kinds"):
        SandboxConfig(token="t", fail_kinds=("boom",))
    with pytest.raises(ValueError):
        SandboxConfig(token="")
    assert "t0k" not in repr(SandboxConfig(token="t0k"))


def test_non_loopback_host_is_refused() -> None:
    with pytest.raises(SandboxError, match="allow_remote"):
        Sandbox(make_config(host="0.0.0.0")).start()
    with pytest.raises(SandboxError, match="allow_remote"):
        Sandbox(make_config(host="example.com")).start()


def test_loopback_names_are_accepted() -> None:
    with Sandbox(make_config(host="localhost")) as sb:
        assert Api(sb).ok("server/hostname/get") == "support.example.com"


def test_tls(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert_path, key_path, ca_path = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    ca.cert_pem.write_to_path(str(ca_path))
    with Sandbox(make_config(tls_cert=cert_path, tls_key=key_path)) as sb:
        assert sb.url.startswith("https://")
        resp = requests.get(
            f"{sb.url}/api/v1/{TOKEN}/server/hostname/get", verify=str(ca_path), timeout=5
        )
        assert resp.json() == "support.example.com"
    with pytest.raises(SandboxError, match="both"):
        Sandbox(make_config(tls_cert=cert_path)).start()


def test_token_never_logged(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="reconciler.sandbox")
    cfg = make_config(verbose=True, fail_rate=0.5, fail_kinds=("500",), fail_seed=1)
    with Sandbox(cfg) as sb:
        api = Api(sb)
        for _ in range(4):
            api.call("technicians/list")
        api.call("no/such/query")
        api.session.post(api.url("technicians/get"), data=b"{bad", timeout=5)
    out, err = capfd.readouterr()
    text = caplog.text + out + err
    assert "technicians/list" in caplog.text
    assert "fail_rate=0.5" in caplog.text
    assert TOKEN not in text


def test_example_seed_loads() -> None:
    with Sandbox(make_config(seed=EXAMPLE_SEED)) as sb:
        api = Api(sb)
        machines = api.ok("machines/list")
        assert len(machines) == 6
        assert len({tuple(m["groups"]) for m in machines}) == 3
        assert len(api.ok("support/sessions/list")) == 2
        assert len(api.ok("access/sessions/list")) == 1
        assert api.ok("technicians/list") == []
        props = {"groups": ["United Kingdom", "London"], "includeInherited": True, "key": "country"}
        assert api.ok("machinegroups/properties/get", props) == "GB"


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ({"technicians": [{"username": "a", "groups": ["Nope"]}]}, "unknown group Nope"),
        ({"machines": [{"name": "no id"}]}, "machines[0].machineID"),
        ({"machines": [{"machineID": "M", "online": "yes"}]}, "machines[0].online"),
        ({"groups": [{"name": "G", "permissions": {"canFly": True}}]}, "canFly"),
        ({"planets": []}, "seed.planets"),
        ({"groups": [{"name": "G"}, {"name": "G"}]}, "duplicate group name"),
    ],
)
def test_bad_seed_is_a_clear_error(seed: dict[str, object], message: str) -> None:
    with pytest.raises(SeedError, match=re.escape(message)):
        Sandbox(make_config(seed=seed)).start()


def test_seed_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "seed.json"
    bad.write_text("{not json")
    with pytest.raises(SeedError, match="not valid"):
        Sandbox(make_config(seed=bad)).start()
    with pytest.raises(SeedError, match="cannot read"):
        Sandbox(make_config(seed=tmp_path / "missing.yaml")).start()


def test_run_sandbox_serves_until_sigterm_and_logs_knobs_not_token(tmp_path: Path) -> None:
    script = (
        "from reconciler.sandbox import SandboxConfig, run_sandbox\n"
        f"run_sandbox(SandboxConfig(token={TOKEN!r}, data_dir={str(tmp_path)!r}, verbose=True,"
        " latency_ms=1))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        url = re.search(r"serving (\S+)", first)
        assert url is not None, first
        resp = requests.get(f"{url.group(1)}/api/v1/{TOKEN}/server/hostname/get", timeout=5)
        assert resp.json() == ""
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        err = first + proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "latency_ms=1" in err
    assert "server/hostname/get" in err
    assert TOKEN not in err
    assert (tmp_path / STATE_FILE).exists()


def test_answers_carry_date_and_framing_headers_only(api: Api) -> None:
    resp = api.call("server/hostname/get")
    assert resp.status_code == 200
    assert parsedate_to_datetime(resp.headers["Date"]).tzinfo is not None
    assert resp.headers["Content-Length"] == str(len(resp.content))
    assert resp.headers["Content-Type"] == "application/json"
    assert "Server" not in resp.headers


def test_expect_100_continue_is_answered_before_the_body_is_sent(sandbox: Sandbox) -> None:
    """Answers are buffered until a request ends; the interim 100 must not wait for that."""
    host, port = sandbox.url.removeprefix("http://").rsplit(":", 1)
    body = b'{"uniqueID": 1}'
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            f"POST /api/v1/{TOKEN}/groups/get HTTP/1.1\r\nHost: x\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n".encode()
        )
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100")
        sock.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 ")
