"""The body of `shcfg audit`: read, evaluate, place, render; the exit code by --fail-on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from reconciler.audit.findings import Finding, Place, Report, Severity
from reconciler.audit.render import render_json, render_markdown, render_sarif, render_text
from reconciler.audit.rules import evaluate
from reconciler.audit.state import AuditState, empty_manifest, from_live, from_manifest
from reconciler.errors import ShcfgError
from reconciler.manifest import LoadedManifest
from reconciler.project import PROJECT_FILE, ManifestSet, find_project

EXIT_OK, EXIT_FINDINGS = 0, 2


def run_audit(
    conn: dict[str, Any],
    *,
    fmt: str,
    fail_on: str,
    manifests: tuple[str, ...],
    max_admins: int,
    concurrency: int,
) -> int:
    """Audit the live server (when one is configured) and/or the manifests; print the
    report; return 2 when a finding at or above ``fail_on`` exists, else 0."""
    from reconciler.cli import OUTPUT

    live = not manifests or bool(conn.get("url") or os.environ.get("SIMPLEHELP_URL"))
    sources = ManifestSet(manifests) if manifests else None
    report, fallback = build_report(
        conn, sources=sources, live=live, max_admins=max_admins, concurrency=concurrency
    )
    if fmt == "json":
        OUTPUT.write(render_json(report))
    elif fmt == "markdown":
        OUTPUT.write(render_markdown(report))
    elif fmt == "sarif":
        OUTPUT.write(render_sarif(report, fallback=fallback))
    else:
        OUTPUT.print(render_text(report))
    return exit_code(report, fail_on)


def exit_code(report: Report, fail_on: str) -> int:
    """2 when a finding at or above ``fail_on`` exists, else 0."""
    threshold = Severity(fail_on).rank
    return EXIT_FINDINGS if any(f.severity.rank >= threshold for f in report.findings) else EXIT_OK


def build_report(
    conn: dict[str, Any],
    *,
    sources: ManifestSet | None,
    live: bool,
    max_admins: int,
    concurrency: int,
) -> tuple[Report, str]:
    """The report of the live server (``live``) and/or the manifest set ``sources`` (a
    server's overlays and variables included), and where unplaced findings point."""
    from reconciler.cli import OUTPUT
    from reconciler.manifest import load_manifests

    loaded = None
    if sources is not None:
        # Secret references are checked, not resolved: an audit needs no password.
        loaded = load_manifests(
            list(sources.paths),
            resolve_secrets=False,
            overlays=list(sources.overlays),
            variables=sources.variables,
        )
        OUTPUT.redactor.add_all(loaded.secret_values)
        for warning in loaded.warnings:
            OUTPUT.print(f"Warning: {warning}", err=True, style="bold yellow")
    findings: list[Finding] = []
    server = version = None
    if live:
        state = read_live_state(conn, concurrency)
        server, version = state[0], state[1].version
        findings += evaluate(state[1], source="live", max_admins=max_admins)
    if loaded is not None:
        findings += evaluate(from_manifest(loaded), source="manifests", max_admins=max_admins)
        findings = [_placed(f, loaded) for f in findings]
    report = Report.of(
        findings, server=server, version=version, files=loaded.files if loaded else []
    )
    return report, fallback_file(loaded)


def read_live_state(conn: dict[str, Any], concurrency: int) -> tuple[str, AuditState]:
    """The server's URL and its normalised state, read with the plan's read path."""
    from reconciler.cli import make_client, read_token
    from reconciler.reconcile import read_live

    client = make_client(conn, read_token(conn.get("token_file")), concurrency)
    try:
        live = read_live(client, empty_manifest(), concurrency=concurrency)
        version = server_version(client.url, conn)
        return client.url, from_live(client, live, version=version, concurrency=concurrency)
    finally:
        client.close()


def server_version(url: str, conn: dict[str, Any]) -> str | None:
    """The version the public /allversions page names (as doctor reads it), else None."""
    from reconciler.doctor.network import Tls, check_url
    from reconciler.doctor.version import fetch_page, page_version

    _, target = check_url(url)
    if target is None:
        return None
    try:
        page = fetch_page(
            target,
            Tls(conn.get("ca_bundle"), bool(conn.get("insecure"))),
            float(conn.get("timeout") or 30.0),
        )
    except ShcfgError:
        return None
    return page_version(page.body) if page.status == 200 else None


def _placed(finding: Finding, loaded: LoadedManifest) -> Finding:
    where = loaded.locations.get((finding.kind, finding.object))
    if where is None:
        return finding
    return finding.model_copy(update={"place": Place(file=where.file, line=where.line)})


def fallback_file(loaded: LoadedManifest | None) -> str:
    """Where a finding no manifest declares points: the project file, else the first
    manifest, else `shcfg.yaml`."""
    project = find_project()
    if project is not None:
        return str(project)
    if loaded is not None and loaded.files:
        return loaded.files[0]
    return str(Path(PROJECT_FILE))
