"""Load manifest files: the one entry point that runs the stages in order.

files → parse (with guards) → warnings → secret references → validation → merge. Every
problem is collected with its ``file:line:col`` and raised at once as one ``ManifestError``;
the loader does no HTTP and knows nothing of the server.

Positions cost a slow parse (about a second per megabyte), so a first pass reads every file
with libyaml, without positions. Only if that pass finds any issue or warning does the loader
run again the slow way, so that each one carries its position; ``LoadedManifest.locations``
is worked out on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path

from reconciler.manifest import fastyaml
from reconciler.manifest.documents import Document
from reconciler.manifest.files import collect_files, read_text
from reconciler.manifest.issues import Issue, Location, ManifestError
from reconciler.manifest.merge import Locations, SecretRefs, merge
from reconciler.manifest.models import Manifest
from reconciler.manifest.parse import parse_documents
from reconciler.manifest.schema_check import validate_document
from reconciler.manifest.secrets import resolve_document
from reconciler.manifest.variables import Variables, substitute_document
from reconciler.manifest.warnings import document_warnings
from reconciler.redact import MASK


@dataclass
class LoadedManifest:
    """The merged model plus what later stages need: positions, secret references, redaction.

    ``files`` lists every file read, in the order read; ``warnings`` are problems that do
    not stop a load (a literal password, a split LDAP DN), for the commands to print.
    """

    model: Manifest
    secret_refs: SecretRefs
    secret_values: frozenset[str]
    files: list[str]
    locate: Callable[[], Locations] = field(repr=False, compare=False)
    warnings: list[Issue] = field(default_factory=list)
    # Lines every plan of these manifests carries (prune turned off for a partial run).
    plan_warnings: list[str] = field(default_factory=list)

    @cached_property
    def locations(self) -> Locations:
        """Where each object was declared; computed on first use, as only problems need it."""
        return self.locate()


@dataclass(frozen=True)
class Sources:
    """What one load reads: the shared set, a server's overlays on top, its variables."""

    paths: Sequence[str | Path]
    overlays: Sequence[str | Path] = ()
    variables: Variables | None = None


def load_manifests(
    paths: Sequence[str | Path],
    *,
    resolve_secrets: bool = True,
    overlays: Sequence[str | Path] = (),
    variables: Variables | None = None,
) -> LoadedManifest:
    """Load, resolve, validate and merge manifests; raise ``ManifestError`` with every issue.

    ``overlays`` (a server's own manifests) may add objects and set attributes of objects
    the shared ``paths`` declare; ``variables`` fill in ``${var:NAME}``.
    """
    sources = Sources(paths, overlays, variables)
    loaded = _load(sources, resolve_secrets, fast=fastyaml.AVAILABLE)
    if loaded is None:  # an issue in a file read without positions: find them all, positioned
        loaded = _load(sources, resolve_secrets, fast=False)
    assert loaded is not None
    return loaded


def _load(
    sources: Sources,
    resolve_secrets: bool,
    *,
    fast: bool,
    texts: dict[Path, str] | None = None,
) -> LoadedManifest | None:
    """One loading pass; ``None`` when a ``fast`` pass found any issue or warning.

    ``texts`` holds the files' contents already read (then kept, for ``locations``).
    """
    issues: list[Issue] = []
    warnings: list[Issue] = []
    shared = collect_files(sources.paths, issues)
    overlay_files = collect_files(sources.overlays, issues) if sources.overlays else []
    files = shared + [path for path in overlay_files if path not in shared]
    texts = {} if texts is None else texts
    docs: list[Document] = []
    for path in files:
        if path not in texts:
            text = read_text(path, issues)
            if text is None:
                continue
            texts[path] = text
        docs.extend(parse_documents(path, texts[path], issues, fast=fast))
    secret_values: set[str] = set()
    models = []
    for doc in docs:
        warnings += document_warnings(doc)
        substitute_document(doc, sources.variables, issues)
        resolve_document(doc, resolve_secrets, secret_values, issues)
        model = validate_document(doc, issues)
        if model is not None:
            models.append((doc, model))
    if files and not docs and not issues:
        issues.append(
            Issue(Location(str(files[0]), 1, 1), "no manifest documents (expected 'version: 1')")
        )
    overlaid = {str(path) for path in overlay_files if path not in shared}
    merged = merge(models, issues, overlays=overlaid) if models else None
    if fast and (issues or warnings or merged is None):
        return None
    order = {str(path): index for index, path in enumerate(files)}
    if issues or merged is None:
        raise ManifestError(_tidy(issues, order, secret_values))
    locations = merged.locations
    locate: Callable[[], Locations] = lambda: locations  # noqa: E731
    if not all(doc.positioned for doc in docs):
        locate = partial(_locate, sources, texts, resolve_secrets)
    return LoadedManifest(
        model=merged.model,
        secret_refs=merged.secret_refs,
        secret_values=frozenset(secret_values),
        files=[str(path) for path in files],
        locate=locate,
        warnings=_tidy(warnings, order, secret_values),
    )


def _locate(sources: Sources, texts: dict[Path, str], resolve_secrets: bool) -> Locations:
    """Positions of a fast load, from a positioned load of the same texts.

    Secrets are resolved again: a value may be a reference.
    """
    try:
        loaded = _load(sources, resolve_secrets, fast=False, texts=texts)
    except ManifestError:  # the round-trip parser refused what libyaml read: no positions
        return {}
    return loaded.locations if loaded is not None else {}


def _tidy(issues: list[Issue], order: dict[str, int], secret_values: set[str]) -> list[Issue]:
    """Issues in file order, then by position, with every secret value redacted."""
    values = sorted((v for v in secret_values if v), key=len, reverse=True)

    def redact(issue: Issue) -> Issue:
        message = issue.message
        for value in values:
            message = message.replace(value, MASK)
        return Issue(issue.location, message)

    def key(issue: Issue) -> tuple[int, int, int]:
        if issue.location is None:
            return (-1, 0, 0)
        where = issue.location
        return (order.get(where.file, len(order)), where.line, where.col)

    return [redact(issue) for issue in sorted(issues, key=key)]
