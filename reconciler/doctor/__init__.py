"""``shcfg doctor``: a read-only first-contact check of a server (docs/doctor.md).

The checks run in order; one that needs an earlier one that failed is skipped. The
server is usable when none failed: ``run`` returns that, the CLI turns it into the
exit code.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from reconciler.client.api import SimpleHelpClient
from reconciler.doctor.api import (
    AFTER_TOKEN,
    check_backup,
    check_permissions,
    check_reads,
    check_token,
)
from reconciler.doctor.checks import Check, render_json, render_lines, usable
from reconciler.doctor.network import Target, Tls, check_dns, check_tcp, check_tls, check_url
from reconciler.doctor.record import Recorder
from reconciler.doctor.version import VERSION_PATH, check_version, fetch_page
from reconciler.errors import ShcfgError
from reconciler.files import check_writable

DEFAULT_BACKUP_QUERY = "server/backup"
CONNECT_TIMEOUT = 5.0
TokenReader = Callable[[str | None], str]

__all__ = ["Check", "diagnose", "run", "run_checks"]


def _skipped(names: tuple[str, ...], why: str) -> list[Check]:
    return [Check(name, "skip", why) for name in names]


def run_checks(
    conn: dict[str, Any], *, probe_backup: bool, rec: Recorder, read_token: TokenReader
) -> tuple[list[Check], Target | None]:
    """All checks in order. ``read_token`` is the CLI's (token file or environment)."""
    url_check, target = check_url(conn.get("url") or os.environ.get("SIMPLEHELP_URL"))
    checks = [url_check]
    rest = ("dns", "tcp", "tls", "token", "version", *AFTER_TOKEN)
    if target is None:
        return checks + _skipped(rest, "needs a valid URL"), None
    timeout = float(conn.get("timeout") or 30.0)
    connect = min(CONNECT_TIMEOUT, timeout)
    tls = Tls(conn.get("ca_bundle"), bool(conn.get("insecure")))
    for name, check in (
        ("dns", lambda: check_dns(target)),
        ("tcp", lambda: check_tcp(target, connect)),
        ("tls", lambda: check_tls(target, tls, connect)),
    ):
        checks.append(check())
        if checks[-1].status == "fail":
            following = rest[rest.index(name) + 1 :]
            return checks + _skipped(following, f"needs {name}"), target
    checks += _api_checks(conn, target, tls, timeout, probe_backup, rec, read_token)
    return checks, target


def _api_checks(
    conn: dict[str, Any],
    target: Target,
    tls: Tls,
    timeout: float,
    probe_backup: bool,
    rec: Recorder,
    read_token: TokenReader,
) -> list[Check]:
    backup_query = (
        conn.get("backup_query")
        or os.environ.get("SIMPLEHELP_BACKUP_QUERY")
        or DEFAULT_BACKUP_QUERY
    ).strip("/")
    version = _version_check(target, tls, timeout, rec)
    try:
        token = read_token(conn.get("token_file"))
    except ShcfgError as exc:
        token_check = Check("token", "fail", str(exc), "the API needs a token")
        return [token_check, version, *_skipped(AFTER_TOKEN, "needs a token")]
    rec.token = token
    with warnings.catch_warnings(), _quiet_insecure_log(tls.insecure):
        # --insecure was announced once by the CLI; the library repeats it per request.
        warnings.simplefilter("ignore")
        try:
            client = SimpleHelpClient(
                target.base_url,
                token,
                ca_bundle=tls.ca_bundle,
                insecure=tls.insecure,
                timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
                retries=1,
                backup_query=backup_query,
                pool_size=1,
            )
        except ShcfgError as exc:
            return [
                Check("token", "fail", str(exc)),
                version,
                *_skipped(AFTER_TOKEN, "needs token"),
            ]
        with client:
            return _with_client(client, rec, version, probe_backup, backup_query)


@contextlib.contextmanager
def _quiet_insecure_log(insecure: bool) -> Iterator[None]:
    """The client logs a warning about insecure mode: doctor already said it."""
    log = logging.getLogger("reconciler.client.transport")
    level = log.level
    if insecure:
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _with_client(
    client: SimpleHelpClient, rec: Recorder, version: Check, probe_backup: bool, backup_query: str
) -> list[Check]:
    token_check = check_token(client, rec)
    if token_check.status == "fail":
        return [token_check, version, *_skipped(AFTER_TOKEN, "needs token")]
    reads = check_reads(client, rec)
    checks = [token_check, version, *reads.checks, check_permissions(reads)]
    if not probe_backup:
        why = "not probed: pass --probe-backup (it writes a backup file on the server)"
        checks.append(Check("backup", "skip", why))
    elif not usable(checks):
        checks.append(Check("backup", "skip", "not probed: an earlier check failed"))
    else:
        checks.append(check_backup(client, rec, backup_query))
    return checks


def _version_check(target: Target, tls: Tls, timeout: float, rec: Recorder) -> Check:
    try:
        page = fetch_page(target, tls, timeout)
    except ShcfgError as exc:
        return check_version(None, str(exc))
    text = page.body.decode("utf-8", "replace")
    rec.page(VERSION_PATH, page.status, page.content_type, text)
    return check_version(page, None)


def diagnose(conn: dict[str, Any], *, probe_backup: bool, record: str | None) -> list[Check]:
    """Run every check and write ``record``; printing is the caller's (one server's
    document, or one part of the fleet's)."""
    from reconciler.cli import OUTPUT, read_token
    from reconciler.cli.options import warn_insecure

    if record:  # before any check: a run never ends "usable" and then exit 1
        check_writable(Path(record), "--record")
    rec = Recorder()
    if conn.get("insecure"):
        warn_insecure()
    checks, target = run_checks(conn, probe_backup=probe_backup, rec=rec, read_token=read_token)
    if record:
        rec.write(Path(record), target.base_url if target else None, checks)
        OUTPUT.print(f"Wrote the transcript to {record}.", err=True)
    return checks


def run(
    conn: dict[str, Any],
    *,
    fmt: str,
    probe_backup: bool,
    record: str | None,
) -> bool:
    """Run every check, print them (text or JSON), write ``record``; True when usable."""
    from reconciler.cli import OUTPUT

    checks = diagnose(conn, probe_backup=probe_backup, record=record)
    if fmt == "json":
        OUTPUT.write(render_json(checks) + "\n")
    else:
        for line, style in render_lines(checks):
            OUTPUT.print(line, style=style)
    return usable(checks)
