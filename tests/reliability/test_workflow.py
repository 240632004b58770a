"""The workflow's edges: the read phase, the per-server lock, files it writes, the token file."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import Notify
from reconciler.client.api import SimpleHelpClient
from reconciler.errors import ShcfgError
from reconciler.files import write_atomic
from reconciler.lock import ServerLock
from reconciler.plan import Plan
from reconciler.redact import Redactor
from reconciler.sandbox import Sandbox
from reconciler.workflow import Options, Target, run_plan
from tests.e2e.conftest import TOKEN
from tests.reliability.conftest import MakeShcfg

PRUNE = "version: 1\ntechnicians:\n  - username: carol\nprune: {technicians: true}\n"
SEED = {
    "technicians": [{"username": "bob"}, {"username": "carol"}],
    "supportSessions": [{"sessionID": "SUP-77", "technicianUsername": "bob"}],
}


class RecordingUi:
    """A Ui that notes how many requests the server had seen when the plan was shown."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.redactor = Redactor()
        self.sandbox = sandbox
        self.seen_at_show = -1

    def show_plan(self, plan: Plan) -> None:
        self.seen_at_show = len(self.sandbox.calls)

    def warn(self, message: str) -> None:
        raise AssertionError(message)

    def note(self, message: str) -> None:
        raise AssertionError(message)

    def confirm(self) -> bool:
        return False

    def applying(self, total: int) -> contextlib.AbstractContextManager[tuple[Notify, Any]]:
        raise AssertionError("plan never applies")


def test_after_the_plan_is_made_nothing_reads_the_server(make_shcfg: MakeShcfg) -> None:
    """Sessions are read in the read phase; the guard then judges data, reading nothing."""
    shcfg = make_shcfg(seed=SEED)
    path = shcfg.manifest(PRUNE)
    ui = RecordingUi(shcfg.sandbox)
    target = Target(TOKEN, lambda: SimpleHelpClient(shcfg.sandbox.url, TOKEN))
    shcfg.sandbox.reset_calls()
    with pytest.raises(Exception, match="'bob' is in active session 'SUP-77'"):
        run_plan([str(path)], target, ui, Options(), None)
    queries = [c.query for c in shcfg.sandbox.calls]
    assert ui.seen_at_show == len(queries)
    assert {"support/sessions/list", "access/sessions/list"} <= set(queries)


def test_a_second_apply_against_the_same_server_is_refused_naming_the_holder(
    make_shcfg: MakeShcfg,
) -> None:
    shcfg = make_shcfg(seed=SEED)
    path = shcfg.manifest("version: 1\nserver:\n  hostname: new.example.com\n")
    with ServerLock(shcfg.workdir / ".shcfg", shcfg.sandbox.url):
        refused = shcfg("apply", str(path), "--auto-approve")
    assert refused.exit_code == 1
    (line,) = refused.stderr.strip().splitlines()
    assert f"another apply against {shcfg.sandbox.url}" in line
    assert f"pid {os.getpid()} on " in line and " since 20" in line
    assert shcfg.writes() == []
    assert shcfg.sandbox.calls == []
    applied = shcfg("apply", str(path), "--auto-approve")  # released: the next one runs
    assert applied.exit_code == 0, applied.output


def test_the_lock_dies_with_its_process(make_shcfg: MakeShcfg, tmp_path: Path) -> None:
    shcfg = make_shcfg()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from reconciler.lock import ServerLock\n"
            "with ServerLock(Path(sys.argv[1]), sys.argv[2]):\n"
            "    print('held', flush=True); time.sleep(60)",
            str(tmp_path / "locks"),
            shcfg.sandbox.url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(Exception, match=f"pid {holder.pid} on "):
            ServerLock(tmp_path / "locks", shcfg.sandbox.url).__enter__()
    finally:
        holder.kill()
        holder.wait()
    with ServerLock(tmp_path / "locks", shcfg.sandbox.url):
        pass


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("plan", "{m}", "--out", "file.txt/x.json"), "--out file.txt/x.json: file.txt is not a"),
        (
            ("plan", "{m}", "--out", "/proc/self/x.json"),
            "--out /proc/self/x.json: cannot write in /proc/self",
        ),
        (("apply", "{m}", "--auto-approve", "--journal", "file.txt/j.jsonl"), "--journal "),
        (("export", "--out", "/proc/self/x"), "--out /proc/self/x: "),
        (("export", "--out", "file.txt/x"), "--out file.txt/x: file.txt is not a directory"),
    ],
)
def test_unwritable_outputs_are_one_line_before_any_request(
    make_shcfg: MakeShcfg, args: tuple[str, ...], needle: str
) -> None:
    shcfg = make_shcfg()
    (shcfg.workdir / "file.txt").write_text("a file, not a directory\n")
    manifest = shcfg.manifest("version: 1\nserver:\n  hostname: new.example.com\n")
    result = shcfg(*(a.format(m=manifest) for a in args))
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and needle in line, line
    assert "Traceback" not in result.output
    assert shcfg.sandbox.calls == []


def _token_file_result(shcfg: Any, token_file: str) -> tuple[int, str]:
    """In a subprocess with a deadline: a FIFO used to hang the run for ever."""
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "m.yaml", "--token-file", token_file],
        cwd=shcfg.workdir,
        env={**os.environ, "SIMPLEHELP_URL": shcfg.sandbox.url},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return proc.returncode, proc.stderr


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda d: os.mkfifo(d / "fifo") or "fifo", "a FIFO: only a regular file is read"),
        (lambda d: "/dev/zero", "a device: only a regular file is read"),
        (lambda d: (d / "big").write_text("x" * 70_000) and "big", "larger than 64 KiB"),
        (lambda d: (d / "empty").write_text("\n") and "empty", "the file is empty"),
        (lambda d: (d / "short").write_text("abc\n") and "short", "shorter than 8 characters"),
    ],
)
def test_token_file_must_be_a_small_regular_file(
    make_shcfg: MakeShcfg, make: Any, needle: str
) -> None:
    shcfg = make_shcfg()
    shcfg.manifest("version: 1\n", name="m.yaml")
    token_file = make(shcfg.workdir)
    if (shcfg.workdir / token_file).is_file():
        (shcfg.workdir / token_file).chmod(0o600)
    code, stderr = _token_file_result(shcfg, token_file)
    assert code == 1
    (line,) = stderr.strip().splitlines()
    assert line.startswith("Error: ") and needle in line, line
    assert shcfg.sandbox.calls == []


def test_write_atomic_replaces_whole_and_escapes_lone_surrogates(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "out.yaml"
    write_atomic(target, "old\n")
    write_atomic(target, "name: bad\udcffname\n")
    assert target.read_text(encoding="utf-8") == "name: bad\\udcffname\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.yaml"]  # no temporary left
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ShcfgError, match=r"x\.yaml: .*file\.txt is not a directory"):
        write_atomic(tmp_path / "file.txt" / "x.yaml", "y\n")
