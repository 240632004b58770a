"""`shcfg export`: the live configuration as manifests that `plan` then shows as no changes.

Export reads through the kinds (`read_live` with `everything`: the same reads a plan
makes, for every object instead of the declared ones) and each kind shapes its own
entries (`Kind.export`); this module only assembles one document per file and writes it.
Objects are sorted by identity and attributes come in a fixed order, so that two exports
of the same server differ only in the timestamp of the header. Write-only passwords
cannot be read back: they are not exported, and each file's footer lists the environment
variables a user may reference to set them. A readable secret (`videoPassword`) becomes a
`${env:...}` placeholder whose name export returns.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from reconciler import __version__
from reconciler.client.api import SimpleHelpClient
from reconciler.errors import ShcfgError
from reconciler.files import write_atomic
from reconciler.kinds import REGISTRY
from reconciler.kinds.exporting import EnvNames
from reconciler.manifest.models import Manifest
from reconciler.reconcile import read_live

#: Kinds left out unless machines are exported (the biggest reads by far).
MACHINE_KINDS = ("machines", "machineGroups")


@dataclass
class Document:
    """One manifest file: its data, and the comment lines around it."""

    data: dict[str, Any]
    header: list[str] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)


def export_manifests(
    client: SimpleHelpClient,
    out_dir: Path,
    *,
    include_machines: bool = True,
    concurrency: int = 8,
) -> tuple[list[Path], list[str]]:
    """Read the server and write one manifest per kind; return the files and env var names."""
    kinds = [k for k in REGISTRY if include_machines or k not in MACHINE_KINDS]
    live = read_live(client, None, concurrency=concurrency, everything=True, kinds=kinds)
    documents, placeholders = build_documents(live, kinds)
    check_documents(documents)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, doc in documents.items():
        path = out_dir / name
        section = next(iter(set(doc.data) - {"version"}))
        header = [
            f"shcfg export: {section} of {client.url}",
            f"written {stamp} by shcfg {__version__}; `shcfg plan` against it shows no changes.",
            *doc.header,
        ]
        write_atomic(path, dump_yaml(doc.data, header, doc.footer))
        written.append(path)
    return written, placeholders


def build_documents(
    live: dict[str, Any], kinds: list[str]
) -> tuple[dict[str, Document], list[str]]:
    """Each kind's export part, assembled into one document per file (pure: no I/O).

    Kinds that share a section (the server's hostname and restrictions) share its file.
    """
    names = EnvNames()
    placeholders: list[str] = []
    documents: dict[str, Document] = {}
    for name in kinds:
        kind = REGISTRY[name]
        part = kind.export(live, names)
        doc = documents.setdefault(kind.export_file, Document({"version": 1}))
        if isinstance(part.data, dict):
            doc.data.setdefault(kind.section, {}).update(part.data)
        else:
            doc.data[kind.section] = part.data
        doc.header += part.header
        doc.footer += part.footer
        placeholders += part.placeholders
    return documents, placeholders


def check_documents(documents: dict[str, Document]) -> None:
    """Refuse to write manifests that shcfg itself would reject."""
    for name, doc in documents.items():
        try:
            Manifest.model_validate(doc.data)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ShcfgError(
                f"export: {name}: the server's configuration cannot be expressed as a "
                f"manifest: {where}: {first['msg']}"
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
