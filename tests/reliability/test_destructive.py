"""Destructive changes via the CLI: thresholds, active sessions, keepAccessFrom, preventDestroy.

The count thresholds (more than 10 objects and 25 %) are those of a project whose
`shcfg.yaml` names the whole manifest set; without one, stricter limits apply.
"""

from __future__ import annotations

from reconciler.client.api import SimpleHelpClient
from tests.e2e.conftest import TOKEN, Shcfg
from tests.reliability.conftest import MakeShcfg

TECHS = [{"username": f"tech{i:02}"} for i in range(12)]
PRUNE_ALL = """\
version: 1
technicians:
  - username: tech00
prune: {technicians: true}
"""


def _project(shcfg: Shcfg, *manifests: str) -> None:
    """A project file naming the whole set: the count thresholds apply, not the unscoped ones."""
    listed = "".join(f"  - {name}\n" for name in manifests or ("manifest.yaml",))
    (shcfg.workdir / "shcfg.yaml").write_text(f"manifests:\n{listed}", encoding="utf-8")


def _one_error_block(stderr: str) -> list[str]:
    lines = stderr.strip().splitlines()
    assert lines and all(line.startswith("Error: ") for line in lines), stderr
    assert "Traceback" not in stderr
    return lines


def test_delete_threshold_refused_without_force_naming_the_numbers(
    make_shcfg: MakeShcfg,
) -> None:
    shcfg = make_shcfg(seed={"technicians": TECHS})
    path = shcfg.manifest(PRUNE_ALL)
    _project(shcfg)
    for args in (("plan",), ("apply", "--auto-approve")):
        refused = shcfg(*args, str(path))
        assert refused.exit_code == 1
        (line,) = _one_error_block(refused.stderr)
        assert "refusing to delete 11 of 12 technicians (92%, more than 10 and 25%)" in line
        assert "--force" in line
    assert shcfg.writes() == []
    forced = shcfg("apply", str(path), "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    assert [t["obj"]["username"] for t in shcfg.sandbox.snapshot()["technicians"]] == ["tech00"]


def test_deletes_under_either_limit_pass(make_shcfg: MakeShcfg) -> None:
    # 10 deletes of 12 (83%) is not more than 10 objects: allowed.
    shcfg = make_shcfg(seed={"technicians": TECHS})
    _project(shcfg)
    path = shcfg.manifest(
        PRUNE_ALL.replace("  - username: tech00\n", "  - username: tech00\n  - username: tech01\n")
    )
    assert shcfg("plan", str(path)).exit_code == 0


SESSIONS = {
    "technicians": [{"username": "bob"}, {"username": "carol"}],
    "supportSessions": [{"sessionID": "SUP-77", "technicianUsername": "bob"}],
    "accessSessions": [{"sessionID": "ACC-12", "technicianUsername": "carol"}],
}


def test_technician_in_a_session_is_not_deleted_or_disabled_without_force(
    make_shcfg: MakeShcfg,
) -> None:
    shcfg = make_shcfg(seed=SESSIONS)
    path = shcfg.manifest(
        """\
        version: 1
        technicians:
          - username: carol
            enabled: false
        prune: {technicians: true}
        """
    )
    refused = shcfg("apply", str(path), "--auto-approve")
    assert refused.exit_code == 1
    lines = _one_error_block(refused.stderr)
    assert any("'bob' is in active session 'SUP-77'" in line for line in lines)
    assert any("'carol' is in active session 'ACC-12'" in line for line in lines)
    assert shcfg.writes() == []
    forced = shcfg("apply", str(path), "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    techs = shcfg.sandbox.snapshot()["technicians"]
    assert [(t["obj"]["username"], t["obj"]["enabled"]) for t in techs] == [("carol", False)]


def test_restrictions_that_lock_out_keep_access_from_are_refused_even_with_force(
    make_shcfg: MakeShcfg,
) -> None:
    shcfg = make_shcfg(seed={"techRestrictions": [r"10\.0\..*"]})
    typo = shcfg.manifest(
        """\
        version: 1
        server:
          techRestrictions: ['10\\.0\\.1\\..*', '172\\.16\\..*']
          keepAccessFrom: [10.0.0.5, 172.16.3.4]
        prune: {techRestrictions: true}
        """
    )
    for extra in ((), ("--force",)):
        refused = shcfg("apply", str(typo), "--auto-approve", *extra)
        assert refused.exit_code == 1
        (line,) = _one_error_block(refused.stderr)
        assert "would lock out 10.0.0.5 (server.keepAccessFrom)" in line
    assert shcfg.writes() == []
    fixed = shcfg.manifest(typo.read_text().replace("1\\.", ""), name="fixed.yaml")
    typo.unlink()
    applied = shcfg("apply", str(fixed), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert sorted(shcfg.sandbox.snapshot()["techRestrictions"]) == [r"10\.0\..*", r"172\.16\..*"]


def test_prevent_destroy_fails_a_plan_that_deletes_the_object(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg(seed={"technicians": [{"username": "alice"}, {"username": "bob"}]})
    path = shcfg.manifest(
        """\
        version: 1
        technicians:
          - username: alice
        prune: {technicians: true}
        """
    )
    saved = shcfg("plan", str(path), "--out", "plan.json")
    assert saved.exit_code == 0, saved.output
    # bob is declared protected after the plan was reviewed: the saved plan may not delete him.
    protected = "  - username: bob\n    lifecycle: {preventDestroy: true}\n"
    path.write_text(path.read_text().replace("prune:", protected + "prune:"))
    for extra in ((), ("--force",)):
        refused = shcfg("apply", "--plan", "plan.json", "--auto-approve", *extra)
        assert refused.exit_code == 1
        (line,) = _one_error_block(refused.stderr)
        assert "technicians 'bob' has lifecycle.preventDestroy but the plan deletes it" in line
    assert shcfg.writes() == []


def test_a_refused_plan_is_still_shown_first(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg(seed={"technicians": TECHS})
    refused = shcfg("plan", str(shcfg.manifest(PRUNE_ALL)))
    assert refused.exit_code == 1
    assert '- technicians "tech11"' in refused.stdout
    assert "Plan: 0 to create, 0 to update, 11 to delete." in refused.stdout


KEEP = """\
version: 1
server:
  techRestrictions: ['192\\.168\\..*', '172\\.16\\..*']
  keepAccessFrom: [10.0.0.5]
"""


def test_saved_plan_lock_out_guard_uses_the_restrictions_on_the_server_at_apply(
    make_shcfg: MakeShcfg,
) -> None:
    """At plan time a live pattern the manifests leave alone lets 10.0.0.5 in; it is gone
    by apply time, so the saved plan would now lock that address out."""
    shcfg = make_shcfg(seed={"techRestrictions": [r"10\.0\..*", r"192\.168\..*"]})
    path = shcfg.manifest(KEEP)
    assert shcfg("plan", str(path), "--out", "plan.json").exit_code == 0
    with SimpleHelpClient(shcfg.sandbox.url, TOKEN) as client:
        client.server_tech_restrictions_remove([r"10\.0\..*"])
    shcfg.sandbox.reset_calls()
    refused = shcfg("apply", "--plan", "plan.json", "--auto-approve", "--force")
    assert refused.exit_code == 1
    (line,) = _one_error_block(refused.stderr)
    assert "would lock out 10.0.0.5 (server.keepAccessFrom)" in line
    assert shcfg.writes() == []


def test_saved_plan_delete_threshold_uses_the_live_count_at_apply(make_shcfg: MakeShcfg) -> None:
    """11 deletes of 50 (22%) pass at plan time; 20 accounts later gone, 11 of 30 do not."""
    techs = [{"username": f"tech{i:02}"} for i in range(50)]
    shcfg = make_shcfg(seed={"technicians": techs})
    kept = "".join(f"  - username: tech{i:02}\n" for i in range(39))
    path = shcfg.manifest(f"version: 1\ntechnicians:\n{kept}prune: {{technicians: true}}\n")
    _project(shcfg)
    assert shcfg("plan", str(path), "--out", "plan.json").exit_code == 0
    ids = {
        t["obj"]["username"]: t["obj"]["uniqueID"] for t in shcfg.sandbox.snapshot()["technicians"]
    }
    with SimpleHelpClient(shcfg.sandbox.url, TOKEN) as client:
        for i in range(20):
            client.technicians_remove(ids[f"tech{i:02}"])
    shcfg.sandbox.reset_calls()
    refused = shcfg("apply", "--plan", "plan.json", "--auto-approve")
    assert refused.exit_code == 1
    (line,) = _one_error_block(refused.stderr)
    assert "refusing to delete 11 of 30 technicians (37%" in line
    assert shcfg.writes() == []


def test_saved_plan_session_guard_reads_sessions_at_apply(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg(seed={"technicians": [{"username": "bob"}, {"username": "carol"}]})
    path = shcfg.manifest(
        "version: 1\ntechnicians:\n  - username: carol\nprune: {technicians: true}\n"
    )
    assert shcfg("plan", str(path), "--out", "plan.json").exit_code == 0
    # bob starts helping a customer after the plan was reviewed
    shcfg.sandbox.store.support_sessions.append({"sessionID": "SUP-9", "technicianUsername": "bob"})
    shcfg.sandbox.reset_calls()
    refused = shcfg("apply", "--plan", "plan.json", "--auto-approve")
    assert refused.exit_code == 1
    (line,) = _one_error_block(refused.stderr)
    assert "'bob' is in active session 'SUP-9'" in line
    assert shcfg.writes() == []
    reads = [c.query for c in shcfg.sandbox.calls]
    assert reads.count("support/sessions/list") == 1


ONLY_BOB = "version: 1\ntechnicians:\n  - username: bob\nprune: {technicians: true}\n"


def test_without_a_project_file_deleting_every_object_of_a_kind_is_refused(
    make_shcfg: MakeShcfg,
) -> None:
    shcfg = make_shcfg(seed={"technicians": [{"username": "alice"}]})
    path = shcfg.manifest("version: 1\nprune: {technicians: true}\n")
    refused = shcfg("apply", str(path), "--auto-approve")
    assert refused.exit_code == 1
    (line,) = _one_error_block(refused.stderr)
    assert "refusing to delete 1 of 1 technicians (all of them)" in line
    assert "project file (shcfg.yaml)" in line and "--force" in line
    assert '- technicians "alice"' in refused.stdout
    assert shcfg.writes() == []
    forced = shcfg("apply", str(path), "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    assert shcfg.sandbox.snapshot()["technicians"] == []


def test_without_a_project_file_more_than_half_is_refused_half_is_not(
    make_shcfg: MakeShcfg,
) -> None:
    shcfg = make_shcfg(seed={"technicians": [{"username": u} for u in ("al", "bob", "cy")]})
    refused = shcfg("plan", str(shcfg.manifest(ONLY_BOB)))
    assert refused.exit_code == 1
    (line,) = _one_error_block(refused.stderr)
    assert "refusing to delete 2 of 3 technicians (67%, more than 50%)" in line
    two = ONLY_BOB.replace("bob\n", "bob\n  - username: cy\n")
    assert shcfg("plan", str(shcfg.manifest(two))).exit_code == 0


def test_with_a_project_file_the_count_thresholds_apply(make_shcfg: MakeShcfg) -> None:
    """2 of 3 (refused without a project file) is not more than 10 objects: allowed."""
    shcfg = make_shcfg(seed={"technicians": [{"username": u} for u in ("al", "bob", "cy")]})
    path = shcfg.manifest(ONLY_BOB)
    _project(shcfg)
    applied = shcfg("apply", str(path), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert [t["obj"]["username"] for t in shcfg.sandbox.snapshot()["technicians"]] == ["bob"]


def test_replacing_every_tech_restriction_needs_no_project_file(make_shcfg: MakeShcfg) -> None:
    """Decision 15: a replacement loses no pattern, so the unscoped guard lets it through."""
    shcfg = make_shcfg(seed={"techRestrictions": [r"10\.0\..*"]})
    path = shcfg.manifest(
        """\
        version: 1
        server:
          techRestrictions: ['172\\.16\\..*']
        prune: {techRestrictions: true}
        """
    )
    applied = shcfg("apply", str(path), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert shcfg.sandbox.snapshot()["techRestrictions"] == [r"172\.16\..*"]


LONDON_PARIS_BERLIN = [r"10\.1\..*", r"10\.2\..*", r"10\.3\..*"]


def test_one_file_of_a_set_may_not_drop_most_tech_restrictions(make_shcfg: MakeShcfg) -> None:
    """Decision 15: restrictions concatenate across files, so one file of the set declares
    only some; without a project file, a plan that loses more than half is refused."""
    shcfg = make_shcfg(seed={"techRestrictions": LONDON_PARIS_BERLIN})
    path = shcfg.manifest(
        """\
        version: 1
        server:
          techRestrictions: ['10\\.1\\..*']
        prune: {techRestrictions: true}
        """
    )
    refused = shcfg("apply", str(path), "--auto-approve")
    assert refused.exit_code == 1
    (line,) = _one_error_block(refused.stderr)
    assert "refusing to delete 2 of 3 techRestrictions (67%, more than 50%)" in line
    assert shcfg.writes() == []
    _project(shcfg)
    assert shcfg("apply", str(path), "--auto-approve").exit_code == 0
    assert shcfg.sandbox.snapshot()["techRestrictions"] == [r"10\.1\..*"]


def test_emptying_the_tech_restrictions_is_refused_without_force(make_shcfg: MakeShcfg) -> None:
    """No pattern left lets every address in: that is deleting all of them."""
    shcfg = make_shcfg(seed={"techRestrictions": [r"10\.0\..*"]})
    path = shcfg.manifest(
        "version: 1\nserver:\n  techRestrictions: []\nprune: {techRestrictions: true}\n"
    )
    refused = shcfg("plan", str(path))
    assert refused.exit_code == 1
    (line,) = _one_error_block(refused.stderr)
    assert "refusing to delete 1 of 1 techRestrictions (all of them)" in line
    forced = shcfg("apply", str(path), "--auto-approve", "--force")
    assert forced.exit_code == 0, forced.output
    assert shcfg.sandbox.snapshot()["techRestrictions"] == []
