"""Many servers from one repository: plan and apply each server of `shcfg.yaml` side by side.

Each server has its own client, manifests (shared set + overlays + variables), lock, backup
and journal; what a server shows is buffered by a `ServerUi` and printed grouped by server
once all are done, so parallel servers never interleave. Apply is two phases: every server
is locked, read and planned; the plans are shown and confirmed once; then each applies.
A failure on one server does not stop the others unless `fail_fast`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.apply import ApplyResult, Notify
from reconciler.errors import ShcfgError
from reconciler.lock import ServerLock
from reconciler.plan import Change, Plan
from reconciler.project import ManifestSet
from reconciler.redact import Redactor
from reconciler.workflow import (
    Options,
    Prepared,
    Target,
    execute,
    load,
    prepare,
    prepare_saved,
    run_plan,
)


@dataclass(frozen=True)
class Member:
    """One server of the run: how to reach it, what it loads, its options and journal."""

    name: str
    target: Target | None
    sources: ManifestSet
    options: Options
    journal: Path | None = None
    url: str = ""
    # Why the server cannot be reached (its token variable unset): it fails alone.
    problem: str | None = None

    def reach(self) -> Target:
        """The target, or this server's failure."""
        if self.target is None:
            raise ShcfgError(self.problem or f"server {self.name}: no connection")
        return self.target


@dataclass
class ServerUi:
    """A server's side of the workflow's Ui: everything kept, in order, to print grouped."""

    redactor: Redactor
    stop: threading.Event
    events: list[tuple[str, Any]] = field(default_factory=list)
    plan: Plan | None = None

    def show_plan(self, plan: Plan) -> None:
        self.plan = plan
        self.events.append(("plan", plan))

    def warn(self, message: str) -> None:
        self.events.append(("warn", message))

    def note(self, message: str) -> None:
        self.events.append(("note", message))

    def confirm(self) -> bool:
        """The fleet asked once for every server before any applied."""
        return True

    @contextlib.contextmanager
    def applying(self, total: int) -> Iterator[tuple[Notify, threading.Event]]:
        def notify(event: str, change: Change, message: str) -> None:
            self.events.append((event, (change, message)))

        yield notify, self.stop


@dataclass
class Outcome:
    """What happened on one server."""

    name: str
    ui: ServerUi
    error: str | None = None
    result: ApplyResult | None = None
    attempted: bool = True
    url: str = ""
    # True once the error has been printed (apply prints before and after confirming).
    reported: bool = False

    @property
    def plan(self) -> Plan | None:
        return self.ui.plan

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.result is not None and not self.result.ok)


def _outcomes(
    members: list[Member], redactor: Redactor, stop: threading.Event | None = None
) -> dict[str, Outcome]:
    stop = stop or threading.Event()
    return {
        m.name: Outcome(m.name, ServerUi(redactor, stop), attempted=False, url=m.url)
        for m in members
    }


def _guarded(outcome: Outcome, redactor: Redactor, work: Callable[[], Any]) -> Any:
    """Run one server's work; its failure is recorded, redacted, and stops no one else."""
    outcome.attempted = True
    try:
        return work()
    except ShcfgError as exc:
        outcome.error = redactor.text(str(exc))
        return None


def plan_fleet(
    members: list[Member], redactor: Redactor, *, parallel: int, out_dir: Path | None
) -> dict[str, Outcome]:
    """Plan every server side by side; `out_dir` gets one saved plan per server (NAME.json)."""
    outcomes = _outcomes(members, redactor)

    def one(member: Member) -> None:
        outcome = outcomes[member.name]
        out = out_dir / f"{member.name}.json" if out_dir is not None else None
        _guarded(
            outcome,
            redactor,
            lambda: run_plan(member.sources, member.reach(), outcome.ui, member.options, out),
        )

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="server") as pool:
        list(pool.map(one, members))
    return outcomes


def validate_fleet(
    sets: dict[str, ManifestSet], redactor: Redactor, *, resolve_secrets: bool = True
) -> dict[str, Outcome]:
    """Load every server's resulting set (shared + overlays + variables) and check it;
    without `resolve_secrets`, secret references are checked for syntax only."""
    from reconciler.audit.policy import check_declared
    from reconciler.manifest import ManifestError, check_references, load_manifests

    stop = threading.Event()
    outcomes = {name: Outcome(name, ServerUi(redactor, stop)) for name in sets}
    for name, sources in sets.items():
        outcome = outcomes[name]

        def check(sources: ManifestSet = sources, outcome: Outcome = outcome) -> None:
            loaded = load_manifests(
                list(sources.paths),
                resolve_secrets=resolve_secrets,
                overlays=list(sources.overlays),
                variables=sources.variables,
            )
            redactor.add_all(loaded.secret_values)
            for warning in loaded.warnings:
                outcome.ui.warn(str(warning))
            issues = check_references(loaded) + check_declared(loaded)
            if issues:
                raise ManifestError(issues)
            model = loaded.model
            outcome.ui.note(
                f"Valid: {len(loaded.files)} file(s), {len(model.groups)} group(s), "
                f"{len(model.technicians)} technician(s), {len(model.machines)} machine(s), "
                f"{len(model.machineGroups)} machine group(s)."
            )

        _guarded(outcome, redactor, check)
    return outcomes


def apply_fleet(
    members: list[Member],
    redactor: Redactor,
    confirm: Callable[[dict[str, Outcome]], bool],
    *,
    parallel: int,
    plans: Path | None,
    backup: bool,
    fail_fast: bool,
    stop: threading.Event | None = None,
) -> dict[str, Outcome]:
    """Lock and plan every server, `confirm` once for all, then apply each.

    With `plans` (a directory of saved plans), each server applies `plans/NAME.json`.
    Setting `stop` (Ctrl-C; or the first failure with `fail_fast`) lets the requests in
    flight finish and starts nothing more: servers not started are not attempted.
    """
    outcomes = _outcomes(members, redactor, stop)
    prepared: dict[str, Prepared] = {}
    guard = threading.Lock()  # an ExitStack is not thread-safe
    with contextlib.ExitStack() as locks, ThreadPoolExecutor(parallel, "server") as pool:

        def ready(member: Member) -> None:
            outcome = outcomes[member.name]
            if outcome.ui.stop.is_set():
                return

            def work() -> None:
                loaded = load(member.sources, outcome.ui) if plans is None else None
                target = member.reach()
                client = target.connect()
                try:
                    with guard:
                        locks.enter_context(ServerLock(_state_dir(member.journal), client.url))
                except BaseException:
                    client.close()
                    raise
                if plans is None:
                    assert loaded is not None
                    prepared[member.name] = prepare(loaded, client, outcome.ui, member.options)
                else:
                    path = plans / f"{member.name}.json"
                    prepared[member.name] = prepare_saved(
                        path,
                        client,
                        target.token,
                        outcome.ui,
                        member.options,
                        member.sources,
                    )

            _guarded(outcome, redactor, work)
            if outcome.failed and fail_fast:
                outcome.ui.stop.set()

        list(pool.map(ready, members))
        approved = False
        try:
            approved = _approved(outcomes, prepared, confirm)
        finally:  # cancelled, or nobody to ask: no server is applied, every client closed
            if not approved:
                for item in prepared.values():
                    item.client.close()
        if not approved:
            raise ShcfgError("apply cancelled")

        def run(member: Member) -> None:
            outcome = outcomes[member.name]
            item = prepared.get(member.name)
            if item is None:
                return
            if outcome.ui.stop.is_set():
                item.client.close()
                outcome.attempted = False
                return
            outcome.result = _guarded(
                outcome,
                redactor,
                lambda: execute(
                    item, outcome.ui, member.options, journal=member.journal, backup=backup
                ),
            )
            if outcome.failed and fail_fast:
                outcome.ui.stop.set()

        list(pool.map(run, members))
    return outcomes


def _approved(
    outcomes: dict[str, Outcome],
    prepared: dict[str, Prepared],
    confirm: Callable[[dict[str, Outcome]], bool],
) -> bool:
    if not any(item.plan.has_changes for item in prepared.values()):
        return True
    return confirm(outcomes)


def _state_dir(journal: Path | None) -> Path:
    return journal.parent if journal is not None else Path(".shcfg")


def exit_code(outcomes: dict[str, Outcome], *, detailed: bool) -> int:
    """1 if any server failed, else 2 if any has changes (when asked), else 0."""
    if any(o.failed for o in outcomes.values()):
        return 1
    if detailed and any(o.plan is not None and o.plan.has_changes for o in outcomes.values()):
        return 2
    return 0
