"""`shcfg init`: a starter project a new user can validate and plan at once.

It writes `shcfg.yaml` (which names the whole manifest set, so prune knows what "absent"
means), the JSON Schema editors complete and check manifests with (rendered from this
version of shcfg, so it never drifts), and either an empty manifest layout or, with
`--from-server`, the export of a server. Nothing that exists is overwritten without
`force`: the check names every such file before anything is written or read.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reconciler.errors import ShcfgError
from reconciler.files import check_directory, write_atomic
from reconciler.manifest.json_schema import render_schema
from reconciler.project import PROJECT_FILE

MANIFEST_DIR = "manifests"
SCHEMA_FILE = "shcfg-manifest.schema.json"
MODELINE = f"# yaml-language-server: $schema=../{SCHEMA_FILE}\n"

PROJECT_TEXT = f"""\
# shcfg project file: the whole manifest set of this project. `shcfg plan` and
# `shcfg apply` without paths use it, and prune deletes only what no file of the set
# declares. See docs/manifest.md.
manifests:
  - {MANIFEST_DIR}/
# backupQuery: server/backup     # the server's backup query (else $SIMPLEHELP_BACKUP_QUERY)
# concurrency: 8                 # requests in flight
# servers:                       # a fleet: one entry per server, tokens never inline
#   production:
#     url: https://support.example.com
#     tokenEnv: SIMPLEHELP_PRODUCTION_TOKEN
#     manifests: [overlays/production/]
"""

STARTER: dict[str, str] = {
    "server.yaml": """\
# Server-wide settings. What a manifest leaves out, shcfg leaves alone.
version: 1
# server:
#   hostname: support.example.com
#   techRestrictions: ['10\\.1\\..*']   # technicians log in only from these networks
#   keepAccessFrom: [10.1.0.5]          # never lock these addresses out
# prune:                                # delete what no manifest declares (all off)
#   technicians: false
#   groups: false
#   techRestrictions: false
#   machineProperties: false
# ignore:                               # never changed nor pruned (fnmatch globs)
#   technicians: [admin]
""",
    "groups.yaml": """\
# Technician groups: permissions, limits, LDAP and MFA settings.
version: 1
groups: []
#  - name: Helpdesk
#    permissions: {canUseSupport: true, canRunTools: false}
#    mfaSettings: {app: true, email: true}
#    password: ${env:HELPDESK_GROUP_PASSWORD}   # secrets by reference, never inline
""",
    "technicians.yaml": """\
# Technicians, by username; `groups` names groups declared in groups.yaml or on the server.
version: 1
technicians: []
#  - username: alice
#    displayName: Alice Smith
#    emailAddress: alice@example.com
#    groups: [Helpdesk]
#    password: ${env:ALICE_PASSWORD}
""",
    "machines.yaml": """\
# Machines register themselves (their agents do); shcfg manages their settings only.
version: 1
machines: []
#  - machineID: SG_1001
#    monitoring: true
#    notes: Front desk PC
#    properties: {AssetTag: A-1001}
machineGroups: []
#  - path: [United Kingdom, London]
#    properties: {site: LON}
""",
}

#: Exports the live server into a directory (forcing over what is there when asked).
Exporter = Callable[[Path, bool], list[Path]]


def init_project(root: Path, *, force: bool, exporter: Exporter | None = None) -> list[Path]:
    """Write the project into `root`; return the files written, in order.

    With an `exporter`, `manifests/` holds the export of the server instead of the
    empty layout; the existing-file check runs before the server is read.
    """
    manifests = root / MANIFEST_DIR
    names = [] if exporter is not None else [manifests / name for name in STARTER]
    targets = [root / PROJECT_FILE, root / SCHEMA_FILE, *names]
    existing = [path for path in targets if path.exists() or path.is_symlink()]
    if existing and not force:
        listed = ", ".join(str(path) for path in existing)
        raise ShcfgError(f"init: not overwriting existing {listed}; pass --force to replace")
    check_directory(manifests, "init")
    written = []
    if exporter is not None:
        written += exporter(manifests, force)
    else:
        for path in names:
            write_atomic(path, MODELINE + STARTER[path.name])
            written.append(path)
    write_atomic(root / SCHEMA_FILE, render_schema())
    write_atomic(root / PROJECT_FILE, PROJECT_TEXT)
    return [*written, root / SCHEMA_FILE, root / PROJECT_FILE]
