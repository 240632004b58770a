"""The workflow (octoDNS's Manager role): load → read → plan → guard → confirm → backup →
apply → journal, for manifests and for saved plans.

Everything a plan and its guards need (sessions included) is read in the read phase;
after it, nothing reads the server but apply's read-back of a write of unknown outcome.
What the user sees and answers goes through a `Ui`; the CLI provides one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from reconciler.apply import ApplyResult, Notify, apply_plan, new_context, run_backup
from reconciler.audit.policy import check_plan_policy, read_policy_state, refuse
from reconciler.client.api import SimpleHelpClient
from reconciler.errors import ShcfgError
from reconciler.files import check_writable
from reconciler.journal import Journal, owed_secrets
from reconciler.kinds.groups import ids_by_name
from reconciler.lock import ServerLock
from reconciler.manifest import LoadedManifest, Prune, load_manifests
from reconciler.plan import Plan
from reconciler.project import ManifestSet
from reconciler.reconcile import make_plan, make_refresh, read_live, secret_lookup
from reconciler.redact import Redactor
from reconciler.safety import (
    Protections,
    Session,
    check_plan,
    facts_of,
    may_stop_technicians,
    stopped_technicians,
)
from reconciler.saved import (
    check_secret_sources,
    check_still_valid,
    manifest_files,
    read_saved_plan,
    save_plan,
)

DEFAULT_STATE_DIR = Path(".shcfg")


class Ui(Protocol):
    """What the workflow shows and asks; the CLI implements it."""

    redactor: Redactor

    def show_plan(self, plan: Plan) -> None: ...

    def warn(self, message: str) -> None: ...

    def note(self, message: str) -> None: ...

    def confirm(self) -> bool:
        """True to apply; False cancels. May raise when nobody can be asked."""

    def applying(self, total: int) -> AbstractContextManager[tuple[Notify, Any]]:
        """Around the apply phase: a notify callback and the stop Event (Ctrl-C sets it)."""


@dataclass(frozen=True)
class Options:
    concurrency: int = 8
    force: bool = False
    rotate_secrets: bool = False


@dataclass(frozen=True)
class Target:
    """The server: its token (which also signs saved plans) and how to connect to it."""

    token: str
    connect: Callable[[], SimpleHelpClient]


@dataclass
class Prepared:
    """A plan that passed its guards, with what applying it needs."""

    plan: Plan
    client: SimpleHelpClient
    live: dict[str, Any]
    # The manifests with their secrets; None for a saved plan applied without them.
    loaded: LoadedManifest | None


def load(source: Sequence[str | Path] | ManifestSet, ui: Ui) -> LoadedManifest:
    """Load manifests; their secret values are masked in all output from now on.

    A `ManifestSet` that is only part of the project's set loads with prune off, and its
    plan says so.
    """
    sources = source if isinstance(source, ManifestSet) else ManifestSet(tuple(map(str, source)))
    if not sources.paths:
        raise ShcfgError("no manifest given: pass one or more files or directories")
    loaded = load_manifests(
        list(sources.paths), overlays=list(sources.overlays), variables=sources.variables
    )
    ui.redactor.add_all(loaded.secret_values)
    for warning in loaded.warnings:
        ui.warn(str(warning))
    if sources.partial is not None:
        loaded.model = loaded.model.model_copy(update={"prune": Prune()})
        loaded.plan_warnings.append(sources.partial)
    return loaded


def read_sessions(client: SimpleHelpClient) -> list[Session]:
    """Live support and access sessions: a technician in one is not deleted or disabled."""
    sessions: list[Any] = [*client.support_sessions_list(), *client.access_sessions_list()]
    return [(str(s.technicianUsername), str(s.sessionID)) for s in sessions]


def read(
    client: SimpleHelpClient, manifest: LoadedManifest, concurrency: int, *, sessions: bool
) -> tuple[dict[str, Any], list[Session] | None]:
    """The read phase: live state, and the sessions when a plan may need them."""
    if not sessions:
        return read_live(client, manifest, concurrency=concurrency), None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sessions") as side:
        active = side.submit(read_sessions, client)
        live = read_live(client, manifest, concurrency=concurrency)
        return live, active.result()


@contextlib.contextmanager
def _closed_on_error(client: SimpleHelpClient) -> Iterator[None]:
    try:
        yield
    except BaseException:
        client.close()
        raise


def prepare(loaded: LoadedManifest, client: SimpleHelpClient, ui: Ui, options: Options) -> Prepared:
    """Read, plan, show, guard."""
    with _closed_on_error(client):
        model = loaded.model
        needed = may_stop_technicians(model) and not options.force
        live, sessions = read(client, loaded, options.concurrency, sessions=needed)
        policy = read_policy_state(loaded, live, client, concurrency=options.concurrency)
        plan = make_plan(loaded, live, server=client.url, rotate_secrets=options.rotate_secrets)
        plan.warnings[:0] = loaded.plan_warnings
        violations = check_plan_policy(loaded, policy, plan)
        ui.show_plan(plan)
        refuse(violations)
        facts = facts_of(plan, model, sessions)
        check_plan(plan, Protections.of(model), facts, force=options.force)
    return Prepared(plan, client, live, loaded)


def prepare_saved(
    path: Path,
    client: SimpleHelpClient,
    token: str,
    ui: Ui,
    options: Options,
    sources: ManifestSet | None = None,
) -> Prepared:
    """Verify a saved plan, read the server as it is now, check the plan still holds.

    `sources` says how a fleet server's manifests load (overlays, variables); without it
    the plan's own list of files is read.
    """
    with _closed_on_error(client):
        saved = read_saved_plan(path, token)
        plan = saved.plan
        if client.url != plan.server:
            raise ShcfgError(
                f"{path}: the plan was made against {plan.server}, not {client.url}: refusing"
            )
        files = manifest_files(saved, path)
        loaded = None
        if files and all(f.is_file() for f in files):
            loaded = load(sources or [str(f) for f in files], ui)
            check_secret_sources(saved, loaded, path)
        elif saved.needs_secrets():
            missing = next((f for f in files if not f.is_file()), "")
            raise ShcfgError(
                f"{path}: the plan sets secrets, which come from its manifests, but {missing} "
                "is not there (manifest paths are relative to the plan file)"
            )
        reviewed = saved.reviewed([str(f) for f in files])
        needed = bool(stopped_technicians(plan)) and not options.force
        live, sessions = read(client, reviewed, options.concurrency, sessions=needed)
        check_still_valid(saved, live, path)
        ui.show_plan(plan)
        # Guards judge the server as it is now: counts, restrictions and sessions.
        now = make_plan(reviewed, live, server=plan.server)
        protections = Protections.of(reviewed.model)
        if loaded is not None:
            protections = protections | Protections.of(loaded.model)
        facts = facts_of(now, reviewed.model, sessions)
        check_plan(plan, protections, facts, force=options.force)
    return Prepared(plan, client, live, loaded)


def run_plan(
    paths: Sequence[str] | ManifestSet, target: Target, ui: Ui, options: Options, out: Path | None
) -> Plan:
    """`shcfg plan`: show the plan (and save it, signed, to `out`)."""
    if out is not None:
        check_writable(out, "--out")
    loaded = load(paths, ui)
    prepared = prepare(loaded, target.connect(), ui, options)
    prepared.client.close()
    if out is not None:
        save_plan(prepared.plan, loaded, out, target.token, ui.redactor.text)
    return prepared.plan


def run_apply(
    source: Sequence[str] | ManifestSet | Path,
    target: Target,
    ui: Ui,
    options: Options,
    *,
    journal: Path | None,
    backup: bool,
) -> ApplyResult | None:
    """`shcfg apply`: manifests (a sequence of paths) or a saved plan (a Path).

    Returns None when there was nothing to apply.
    """
    saved = isinstance(source, Path)
    if saved and options.rotate_secrets:
        raise ShcfgError(
            "--rotate-secrets does not apply to a saved plan: the plan already lists the "
            "passwords it sets; make one with `shcfg plan --rotate-secrets --out FILE`"
        )
    if journal is not None:
        check_writable(journal, "--journal")
    client = target.connect()
    with _closed_on_error(client), ServerLock(_state_dir(journal), client.url):
        if isinstance(source, Path):
            prepared = prepare_saved(source, client, target.token, ui, options)
        else:
            prepared = prepare(load(source, ui), client, ui, options)
        return execute(prepared, ui, options, journal=journal, backup=backup)


def _state_dir(journal: Path | None) -> Path:
    return journal.parent if journal is not None else DEFAULT_STATE_DIR


def _warn_owed_secrets(ui: Ui, journal: Path | None, plan: Plan) -> None:
    """A password an earlier apply never confirmed cannot be seen in a plan: say so."""
    setting = {c.key for c in plan.changes if c.field("password") is not None}
    owed = [f"{k} {name!r}" for k, name in owed_secrets(journal) if (k, name) not in setting]
    if owed:
        ui.warn(
            f"an earlier apply did not confirm the password of {', '.join(owed)} "
            "(see the journal); run apply with --rotate-secrets to set it."
        )


def _no_secrets(kind: str, identity: str, path: str) -> Any:
    raise ShcfgError(f"{kind} {identity!r}: {path} needs the manifests, which are not loaded")


def execute(
    prepared: Prepared, ui: Ui, options: Options, *, journal: Path | None, backup: bool
) -> ApplyResult | None:
    """Confirm, back up, apply; the journal records each step (redacted like the terminal)."""
    plan, client, loaded = prepared.plan, prepared.client, prepared.loaded
    try:
        _warn_owed_secrets(ui, journal, plan)
        if not plan.has_changes:
            return None
        if not ui.confirm():
            raise ShcfgError("apply cancelled")
        log = Journal(journal, ui.redactor.text)
        log.write("start", server=client.url, changes=len(plan.changes), checksum=plan.checksum())
        if backup:
            run_backup(client, log)
            ui.note("Configuration backup requested on the server.")
        else:
            ui.warn("--no-backup: the server configuration is NOT backed up before changes.")
            log.write("backup", outcome="skipped")
        group_ids = ids_by_name(prepared.live)
        secrets = secret_lookup(loaded) if loaded is not None else _no_secrets
        context = new_context(client, secrets, group_ids, options.concurrency)
        refresh = None
        if loaded is not None:
            refresh = make_refresh(
                client, loaded, plan, options.concurrency, options.rotate_secrets
            )
        try:
            with ui.applying(len(plan.changes)) as (notify, stop):
                return apply_plan(
                    plan, context, journal=log, refresh=refresh, notify=notify, stop=stop
                )
        finally:
            context.pool.shutdown(cancel_futures=True)
    finally:
        client.close()
