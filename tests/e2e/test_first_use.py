"""A new user's first steps, over HTTP: one file of a set, `shcfg init`, export's output dir."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from ruamel.yaml import YAML

from reconciler.init import SCHEMA_FILE, STARTER
from reconciler.progress import ReadProgress
from reconciler.project import load_project
from tests.e2e.conftest import Shcfg

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "examples" / "org"
ORG_SECRETS = {
    "HELPDESK_GROUP_PASSWORD": "helpdesk-canary-61b2",
    "ALICE_PASSWORD": "alice-canary-93c4",
}
Seeded = Callable[[dict[str, Any]], Shcfg]


def _example_org(shcfg_seeded: Seeded) -> Shcfg:
    """A sandbox holding the example organisation, applied from the whole set."""
    seed = YAML(typ="safe").load((ROOT / "examples" / "seed.yaml").read_text(encoding="utf-8"))
    shcfg = shcfg_seeded(seed)
    applied = shcfg("apply", str(ORG), "--auto-approve", env=ORG_SECRETS)
    assert applied.exit_code == 0, applied.output
    shcfg.sandbox.reset_calls()
    return shcfg


def test_one_file_of_the_example_set_deletes_nothing_without_force(
    shcfg_seeded: Seeded,
) -> None:
    shcfg = _example_org(shcfg_seeded)
    before = sorted(shcfg.technicians())
    server_only = str(ORG / "server.yaml")
    for args in (("plan", server_only), ("apply", server_only, "--auto-approve")):
        refused = shcfg(*args)
        assert refused.exit_code == 1
        # The refused plan is shown, so the user sees what would have been deleted.
        assert '- technicians "bob"' in refused.stdout
        assert "refusing to delete 8 of 8 technicians (all of them)" in refused.stderr
        assert "refusing to delete 3 of 3 groups (all of them)" in refused.stderr
        assert "shcfg.yaml" in refused.stderr and "--force" in refused.stderr
        assert "Traceback" not in refused.output
    assert shcfg.writes() == []
    assert sorted(shcfg.technicians()) == before
    forced = shcfg("apply", server_only, "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    assert shcfg.technicians() == {}


def test_init_writes_a_project_that_validates_and_plans_as_no_changes(shcfg: Shcfg) -> None:
    result = shcfg("init", "support")
    assert result.exit_code == 0, result.output
    root = shcfg.workdir / "support"
    project = YAML(typ="safe").load((root / "shcfg.yaml").read_text(encoding="utf-8"))
    assert project == {"manifests": ["manifests/"]}
    assert load_project(root / "shcfg.yaml").manifests == [root / "manifests"]
    assert "# backupQuery:" in (root / "shcfg.yaml").read_text(encoding="utf-8")
    assert sorted(p.name for p in (root / "manifests").iterdir()) == sorted(STARTER)
    for path in (root / "manifests").iterdir():
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema=../{SCHEMA_FILE}"
    assert json.loads((root / SCHEMA_FILE).read_text(encoding="utf-8"))["type"] == "object"
    manifests = str(root / "manifests")
    assert shcfg("validate", manifests).exit_code == 0
    planned = shcfg("plan", manifests, "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert shcfg.writes() == []


def test_init_names_the_files_it_would_overwrite_and_needs_force(shcfg: Shcfg) -> None:
    mine = shcfg.manifest("manifests: [mine.yaml]\n", name="shcfg.yaml")
    shcfg.manifest("version: 1\n", name="manifests/groups.yaml")
    refused = shcfg("init")
    assert refused.exit_code == 1
    assert "shcfg.yaml" in refused.stderr and "manifests/groups.yaml" in refused.stderr
    assert "--force" in refused.stderr
    assert mine.read_text(encoding="utf-8") == "manifests: [mine.yaml]\n"
    assert not (shcfg.workdir / "manifests" / "server.yaml").exists()
    forced = shcfg("init", "--force")
    assert forced.exit_code == 0, forced.output
    assert "manifests/" in mine.read_text(encoding="utf-8")


def test_init_from_server_exports_into_the_layout_and_plans_as_no_changes(
    shcfg: Shcfg,
) -> None:
    assert shcfg("init").exit_code == 0
    refused = shcfg("init", "--from-server")
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert shcfg.sandbox.calls == []
    result = shcfg("init", "--from-server", "--force")
    assert result.exit_code == 0, result.output
    manifests = shcfg.workdir / "manifests"
    machines = (manifests / "machines.yaml").read_text(encoding="utf-8")
    assert machines.startswith("# shcfg export: machines of ")
    assert "SG_1" in machines
    assert shcfg("validate", str(manifests)).exit_code == 0
    shcfg.sandbox.reset_calls()
    planned = shcfg("plan", str(manifests), "--detailed-exitcode")
    assert planned.exit_code == 0, planned.output
    assert shcfg.writes() == []


def test_export_refuses_yaml_it_did_not_write_before_reading_the_server(shcfg: Shcfg) -> None:
    hand = shcfg.manifest("version: 1\ngroups: []\n", name="out/groups.yaml")
    refused = shcfg("export", "--out", "out")
    assert refused.exit_code == 1
    assert "out/groups.yaml" in refused.stderr and "--force" in refused.stderr
    assert shcfg.sandbox.calls == []
    assert hand.read_text(encoding="utf-8") == "version: 1\ngroups: []\n"
    assert shcfg("export", "--out", "out", "--force").exit_code == 0
    assert hand.read_text(encoding="utf-8").startswith("# shcfg export: groups of ")
    again = shcfg("export", "--out", "out")
    assert again.exit_code == 0, again.output


def test_export_says_what_it_reads_in_plain_lines_off_a_terminal(shcfg: Shcfg) -> None:
    result = shcfg("export", "--out", "out")
    assert result.exit_code == 0, result.output
    requests = len(shcfg.sandbox.calls)
    assert f"Reading {shcfg.sandbox.url}..." in result.stderr
    assert f"Read {shcfg.sandbox.url}: {requests} requests in " in result.stderr
    assert "Reading" not in result.stdout


def test_read_progress_on_a_terminal_counts_requests_live() -> None:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    count = iter(range(5, 100))
    with ReadProgress("https://srv", lambda: next(count), console):
        pass
    text = stream.getvalue()
    # A redrawn spinner line with the count read at render time, then the summary line.
    assert "Reading https://srv 5 requests" in text
    assert "\r\x1b[2K" in text
    assert "Reading https://srv..." not in text
    assert "Read https://srv: " in text
