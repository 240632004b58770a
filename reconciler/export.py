"""`shcfg export`: the live configuration as manifests that `plan` then shows as no changes.

One file per kind, objects sorted by identity, attributes in a fixed order, so that two
exports of the same server differ only in the timestamp of the header. Write-only
passwords cannot be read back: they are not exported, and each file's footer lists the
environment variables a user may reference to set them. A readable secret
(`videoPassword`) becomes a `${env:...}` placeholder whose name export returns.
"""

from __future__ import annotations

import functools
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from reconciler import __version__
from reconciler.client.api import SimpleHelpClient
from reconciler.client.errors import NotFoundError
from reconciler.client.models import Machine, Technician, TechnicianGroup
from reconciler.errors import ShcfgError
from reconciler.kinds.base import Pool
from reconciler.kinds.groups import SCALARS
from reconciler.kinds.technicians import ATTRIBUTES, PROTECTED_FLAGS
from reconciler.manifest.models import LdapSettings, Manifest, MfaSettings

FILES = {
    "server": "server.yaml",
    "groups": "groups.yaml",
    "technicians": "technicians.yaml",
    "machines": "machines.yaml",
    "machineGroups": "machine-groups.yaml",
}
BATCH = 1000
_NESTED_FIELDS = {
    "ldapSettings": frozenset(LdapSettings.model_fields),
    "mfaSettings": frozenset(MfaSettings.model_fields),
}


@dataclass
class LiveServer:
    """Everything export reads, before it is shaped into manifests."""

    hostname: str
    restrictions: list[str]
    groups: list[TechnicianGroup]
    permissions: dict[int, dict[str, bool]]
    technicians: list[Technician]
    machines: list[Machine] = field(default_factory=list)
    notes: dict[str, tuple[str, str]] = field(default_factory=dict)
    properties: dict[str, dict[str, str]] = field(default_factory=dict)
    machine_groups: dict[tuple[str, ...], dict[str, str]] = field(default_factory=dict)


@dataclass
class Document:
    """One manifest file: its data, and the comment lines around it."""

    data: dict[str, Any]
    header: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)


class EnvNames:
    """Environment variable names for secrets: unique, valid, derived from identities."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def make(self, kind: str, identity: str, attribute: str) -> str:
        slug = re.sub(r"[^A-Z0-9]+", "_", identity.upper()).strip("_") or "X"
        base = f"SHCFG_{kind}_{slug}_{attribute}"
        name, n = base, 2
        while name in self._taken:
            name, n = f"{base}_{n}", n + 1
        self._taken.add(name)
        return name


def export_manifests(
    client: SimpleHelpClient, out_dir: Path, *, include_machines: bool, concurrency: int
) -> tuple[list[Path], list[str]]:
    """Read the server and write one manifest per kind; return the files and env var names."""
    pool = Pool(concurrency)
    try:
        live = read_server(client, pool, include_machines=include_machines)
    finally:
        pool.close()
    documents, placeholders = build_documents(live, include_machines=include_machines)
    _check(documents)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, doc in documents.items():
        path = out_dir / FILES[kind]
        header = [
            f"shcfg export: {kind} of {client.url}",
            f"written {stamp} by shcfg {__version__}; `shcfg plan` against it shows no changes.",
            *doc.header,
        ]
        _write_atomic(path, dump_yaml(doc.data, header, doc.footer))
        written.append(path)
    return written, placeholders


def read_server(client: SimpleHelpClient, pool: Pool, *, include_machines: bool) -> LiveServer:
    """Read in three rounds, each one a batch of independent requests run in parallel."""
    first: list[Callable[[], Any]] = [
        client.server_hostname_get,
        client.server_tech_restrictions_get,
        client.groups_list,
        client.technicians_list,
    ]
    if include_machines:
        first.append(client.machines_list)
    hostname, restrictions, groups, technicians, *rest = _run(pool, first)
    live = LiveServer(hostname, list(restrictions), groups, {}, technicians)
    second: list[Callable[[], Any]] = [
        functools.partial(client.groups_permissions_get, g.uniqueID) for g in groups
    ]
    if not include_machines:
        live.permissions = dict(zip([g.uniqueID for g in groups], _run(pool, second), strict=True))
        return live
    live.machines = rest[0]
    ids = sorted(m.machineID for m in live.machines)
    batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
    paths = sorted(
        {
            tuple(m.groups[:end])
            for m in live.machines
            if m.groups
            for end in range(1, len(m.groups) + 1)
        }
    )
    second += [functools.partial(client.machines_notes_get, b) for b in batches]
    second += [functools.partial(client.machines_properties_get, b) for b in batches]
    second += [functools.partial(_group_keys, client, p) for p in paths]
    results = _run(pool, second)
    perms, results = results[: len(groups)], results[len(groups) :]
    live.permissions = dict(zip([g.uniqueID for g in groups], perms, strict=True))
    notes_pages, props_pages = results[: len(batches)], results[len(batches) : 2 * len(batches)]
    key_lists = results[2 * len(batches) :]
    for page in notes_pages:
        for note in page:
            if note.machineID:
                live.notes[note.machineID] = (note.notes or "", note.warnings or "")
    for page in props_pages:
        for entry in page:
            if entry.machineID:
                live.properties[entry.machineID] = {
                    p.key: p.value or "" for p in entry.properties or [] if p.key is not None
                }
    lookups = [(p, k) for p, keys in zip(paths, key_lists, strict=True) for k in keys or []]
    values = _run(
        pool,
        [functools.partial(client.machinegroups_properties_get, p, key=k) for p, k in lookups],
    )
    for (path, key), value in zip(lookups, values, strict=True):
        live.machine_groups.setdefault(path, {})[key] = str(value)
    return live


def _run(pool: Pool, calls: Iterable[Callable[[], Any]]) -> list[Any]:
    return pool.map(lambda call: call(), calls)


def _group_keys(client: SimpleHelpClient, path: tuple[str, ...]) -> list[str] | None:
    try:
        keys = client.machinegroups_properties_get(list(path))
    except NotFoundError:
        return None
    return keys if isinstance(keys, list) else []


def build_documents(
    live: LiveServer, *, include_machines: bool
) -> tuple[dict[str, Document], list[str]]:
    """Shape what was read into manifest documents (pure: no I/O)."""
    names = EnvNames()
    placeholders: list[str] = []
    docs = {
        "server": _server_doc(live),
        "groups": _groups_doc(live, names, placeholders),
        "technicians": _technicians_doc(live, names),
    }
    if include_machines:
        docs["machines"] = _machines_doc(live)
        docs["machineGroups"] = _machine_groups_doc(live)
    return docs, placeholders


def _server_doc(live: LiveServer) -> Document:
    server: dict[str, Any] = {}
    if live.hostname:
        server["hostname"] = _text(live.hostname)
    server["techRestrictions"] = sorted(_text(r) for r in live.restrictions)
    return Document({"version": 1, "server": server})


def _groups_doc(live: LiveServer, names: EnvNames, placeholders: list[str]) -> Document:
    items, write_only = [], []
    for group in sorted(live.groups, key=lambda g: g.name):
        data = group.model_dump(mode="json", exclude_none=True)
        item: dict[str, Any] = {"name": _text(group.name)}
        item.update({k: _plain(data[k]) for k in SCALARS if k in data})
        for key, known in _NESTED_FIELDS.items():
            if isinstance(data.get(key), dict):
                item[key] = {k: _plain(v) for k, v in data[key].items() if k in known}
        settings = data.get("passwordSettings")
        if isinstance(settings, dict):
            item["passwordSettings"] = {
                k: _plain(v) for k, v in sorted(settings.items()) if isinstance(v, bool | str)
            }
        item["permissions"] = dict(sorted(live.permissions.get(group.uniqueID, {}).items()))
        if group.videoPassword:
            env = names.make("GROUP", group.name, "VIDEO_PASSWORD")
            item["videoPassword"] = f"${{env:{env}}}"
            placeholders.append(env)
        write_only.append((names.make("GROUP", group.name, "PASSWORD"), group.name))
        items.append(item)
    return Document({"version": 1, "groups": items}, footer=_write_only_footer("group", write_only))


def _technicians_doc(live: LiveServer, names: EnvNames) -> Document:
    group_names = {g.uniqueID: g.name for g in live.groups}
    items, skipped, write_only = [], [], []
    for tech in sorted(live.technicians, key=lambda t: t.username):
        flag = next((f for f in PROTECTED_FLAGS if getattr(tech, f) is True), None)
        if flag:
            skipped.append(f"{tech.username} ({flag})")
            continue
        data = tech.model_dump(mode="json", exclude_none=True)
        item: dict[str, Any] = {"username": _text(tech.username)}
        item.update({k: _plain(data[k]) for k in ATTRIBUTES if k in data})
        if tech.groupIDs is not None:
            item["groups"] = sorted(
                _text(group_names[i]) for i in tech.groupIDs if i in group_names
            )
        write_only.append((names.make("TECH", tech.username, "PASSWORD"), tech.username))
        items.append(item)
    header = []
    if skipped:
        header.append("Not exported (never managed by shcfg): " + ", ".join(skipped) + ".")
    footer = _write_only_footer("technician", write_only)
    return Document({"version": 1, "technicians": items}, header=header, footer=footer)


def _machines_doc(live: LiveServer) -> Document:
    items = []
    for machine in sorted(live.machines, key=lambda m: m.machineID):
        mid = machine.machineID
        item: dict[str, Any] = {"machineID": _text(mid)}
        if isinstance(machine.monitoringEnabled, bool):
            item["monitoring"] = machine.monitoringEnabled
        notes, warnings = live.notes.get(mid, ("", ""))
        item["notes"] = _text(notes)
        item["warnings"] = _text(warnings)
        item["properties"] = {
            _text(k): _text(v) for k, v in sorted(live.properties.get(mid, {}).items())
        }
        items.append(item)
    header = ["Machines are registered by their agents: shcfg updates them, never creates them."]
    return Document({"version": 1, "machines": items}, header=header)


def _machine_groups_doc(live: LiveServer) -> Document:
    items = [
        {
            "path": [_text(p) for p in path],
            "properties": {_text(k): _text(v) for k, v in sorted(props.items())},
        }
        for path, props in sorted(live.machine_groups.items())
        if props
    ]
    header = [
        "Machine groups come from the machines' group paths; the API cannot list others.",
        "Properties cannot be removed through the API, only set.",
    ]
    return Document({"version": 1, "machineGroups": items}, header=header)


def _write_only_footer(noun: str, entries: list[tuple[str, str]]) -> list[str]:
    if not entries:
        return []
    lines = [
        f"Write-only {noun} passwords cannot be read back and are not exported. To set one",
        f"on apply, add `password: ${{env:NAME}}` to the {noun} and set NAME:",
    ]
    return lines + [f"  {env}  ({identity})" for env, identity in entries]


def _text(value: str) -> str:
    """A live string as a manifest string: a literal `${` is escaped as `$${`."""
    return value.replace("${", "$${")


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _check(documents: dict[str, Document]) -> None:
    """Refuse to write manifests that shcfg itself would reject."""
    for kind, doc in documents.items():
        try:
            Manifest.model_validate(doc.data)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ShcfgError(
                f"export: the server's {kind} cannot be expressed as a manifest: "
                f"{where}: {first['msg']}"
            ) from None


def _to_ruamel(value: Any) -> Any:
    if isinstance(value, dict):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _to_ruamel(v)
        return out
    if isinstance(value, list):
        seq = CommentedSeq(_to_ruamel(v) for v in value)
        if value and all(not isinstance(v, dict | list) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value


def dump_yaml(data: dict[str, Any], header: list[str], footer: list[str]) -> str:
    """Round-trip YAML with a header comment and an optional footer comment."""
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    doc = _to_ruamel(data)
    doc.yaml_set_start_comment("\n".join(header))
    stream = io.StringIO()
    yaml.dump(doc, stream)
    text = stream.getvalue()
    if footer:
        text += "\n" + "".join(f"# {line}\n" for line in footer)
    return text


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
