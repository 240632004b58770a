"""Load manifest files: YAML with positions, secret references, validation, merge.

Every problem is collected with its ``file:line:col`` and raised at once as one
``ManifestError``; the loader does no HTTP and knows nothing of the server.

Positions need ruamel's pure-Python round-trip parser, which takes about a second per megabyte.
So the loader first reads every file with libyaml (``fastyaml``), without positions; only if
that finds any issue at all does it load again the slow way, so that every issue still carries
its position. ``LoadedManifest.locations`` is worked out on first use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import TaggedScalar
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from reconciler.manifest import fastyaml, secrets
from reconciler.manifest.issues import Issue, Location, ManifestError
from reconciler.manifest.models import Ignore, Manifest, Policy, Prune, Server

MAX_NODES = 100_000
MAX_DEPTH = 64
# ruamel's scanner is quadratic in flow nesting depth; brackets beyond this are refused unparsed.
MAX_FLOW_BRACKETS = 256
_BRACKET = re.compile(r"[\[\]{}]")
SUFFIXES = (".yaml", ".yml")
REDACTED = "(sensitive)"

PathKey = tuple[Any, ...]
# (section in the YAML, identity attribute, singular noun for messages)
LIST_KINDS = (
    ("groups", "name", "group"),
    ("technicians", "username", "technician"),
    ("machines", "machineID", "machine"),
    ("machineGroups", "path", "machine group"),
)
_DUPLICATE_KEY = re.compile(r'found duplicate key "(.*?)" with value', re.DOTALL)


Locations = dict[tuple[str, str], Location]


@dataclass
class LoadedManifest:
    """The merged model plus what later stages need: positions, secret references, redaction."""

    model: Manifest
    secret_refs: dict[tuple[str, str, str], str]
    secret_values: frozenset[str]
    files: list[str]
    locate: Callable[[], Locations] = field(repr=False, compare=False)

    @cached_property
    def locations(self) -> Locations:
        """Where each object was declared; computed on first use, as only problems need it."""
        return self.locate()


class _Refused(Exception):
    """A document that is unsafe to expand (alias bomb, recursion, excessive nesting)."""


@dataclass
class _Doc:
    """One YAML document as plain data, with the position of every key and value."""

    file: str
    base_dir: Path
    data: Any
    keys: dict[PathKey, Location] = field(default_factory=dict)
    values: dict[PathKey, Location] = field(default_factory=dict)
    refs: dict[PathKey, str] = field(default_factory=dict)
    # False when read by fastyaml: every position is then a placeholder.
    positioned: bool = True

    def where(self, path: PathKey, *, key: bool = False) -> Location:
        """Position of ``path`` or of its nearest declared ancestor."""
        index = self.keys if key else self.values
        if path in index:
            return index[path]
        for cut in range(len(path) - 1, -1, -1):
            if path[:cut] in self.values:
                return self.values[path[:cut]]
        return Location(self.file, 1, 1)


def load_manifests(paths: Sequence[str | Path], *, resolve_secrets: bool = True) -> LoadedManifest:
    """Load, resolve, validate and merge manifests; raise ``ManifestError`` with every issue."""
    loaded = _load(paths, resolve_secrets, fast=fastyaml.AVAILABLE)
    if loaded is None:  # an issue in a file read without positions: find them all, positioned
        loaded = _load(paths, resolve_secrets, fast=False)
    assert loaded is not None
    return loaded


def _load(
    paths: Sequence[str | Path],
    resolve_secrets: bool,
    *,
    fast: bool,
    texts: dict[Path, str] | None = None,
) -> LoadedManifest | None:
    """One loading pass; ``None`` when a ``fast`` pass found any issue (it may lack a position).

    ``texts`` holds the files' contents already read (then kept, for ``locations``).
    """
    issues: list[Issue] = []
    files = _collect_files(paths, issues)
    texts = {} if texts is None else texts
    docs: list[_Doc] = []
    for path in files:
        docs.extend(_parse_file(path, issues, fast=fast, texts=texts))
    secret_values: set[str] = set()
    models: list[tuple[_Doc, Manifest]] = []
    for doc in docs:
        doc.data = _resolve_tree(doc, (), doc.data, resolve_secrets, secret_values, issues)
        model = _validate(doc, issues)
        if model is not None:
            models.append((doc, model))
    if files and not docs and not issues:
        issues.append(
            Issue(Location(str(files[0]), 1, 1), "no manifest documents (expected 'version: 1')")
        )
    loaded = None
    if models:
        loaded = _merge(models, issues)
        loaded.secret_values = frozenset(secret_values)
        loaded.files = [str(path) for path in files]
        if not all(doc.positioned for doc in docs):
            loaded.locate = partial(_locate, files, texts, resolve_secrets)
    if fast and (issues or loaded is None):
        return None
    if issues or loaded is None:
        order = {str(path): index for index, path in enumerate(files)}
        issues.sort(key=lambda i: _sort_key(i, order))
        raise ManifestError([_redact(issue, secret_values) for issue in issues])
    return loaded


def _locate(files: list[Path], texts: dict[Path, str], resolve_secrets: bool) -> Locations:
    """Positions of a fast load, from a positioned load of the same texts.

    Secrets are resolved again: an identity may be a reference.
    """
    try:
        loaded = _load(files, resolve_secrets, fast=False, texts=texts)
    except ManifestError:  # the round-trip parser refused what libyaml read: no positions
        return {}
    return loaded.locations if loaded is not None else {}


def _sort_key(issue: Issue, order: dict[str, int]) -> tuple[int, int, int]:
    if issue.location is None:
        return (-1, 0, 0)
    where = issue.location
    return (order.get(where.file, len(order)), where.line, where.col)


def _redact(issue: Issue, values: set[str]) -> Issue:
    message = issue.message
    for value in sorted((v for v in values if v), key=len, reverse=True):
        message = message.replace(value, REDACTED)
    return Issue(issue.location, message)


def _collect_files(paths: Sequence[str | Path], issues: list[Issue]) -> list[Path]:
    """Expand arguments to manifest files: directories recursively, sorted, each file once."""
    if not paths:
        issues.append(Issue(None, "no manifest paths given"))
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
            if not inside:
                issues.append(Issue(None, f"{path}: no *.yaml or *.yml files in this directory"))
        elif path.is_file():
            inside = [path]
        else:
            issues.append(Issue(None, f"{path}: no such file or directory"))
            continue
        for file in inside:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                found.append(file)
    return found


def _read(path: Path, issues: list[Issue]) -> str | None:
    name = str(path)
    try:
        raw = path.read_bytes()
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        issues.append(Issue(Location(name, line, col), "not valid UTF-8 text"))
    except OSError as exc:
        issues.append(Issue(None, f"{name}: cannot read: {exc.strerror or type(exc).__name__}"))
    return None


def _parse_file(
    path: Path, issues: list[Issue], *, fast: bool, texts: dict[Path, str]
) -> list[_Doc]:
    """Parse every document of one file; on a YAML error keep the documents before it."""
    name = str(path)
    if path not in texts:
        read = _read(path, issues)
        if read is None:
            return []
        texts[path] = read
    text = texts[path]
    deep = _too_many_brackets(text)
    if deep is not None:
        issues.append(Issue(Location(name, *deep), "document nested too deeply"))
        return []
    if fast:
        try:
            roots = fastyaml.load_all(text)
        except fastyaml.Unsupported:
            pass  # the round-trip parser below reads it, or words the error
        else:
            return _plain_docs(path, roots, issues)
    docs: list[_Doc] = []
    yaml = YAML(typ="rt")
    try:
        for root in yaml.load_all(text):
            if root is None:
                continue
            start = _node_location(name, root)
            try:
                _expanded_size(root, {}, set(), 0)
            except _Refused as exc:
                issues.append(Issue(start, str(exc)))
                continue
            doc = _Doc(name, path.parent, None)
            doc.values[()] = start
            doc.data = _convert(root, (), doc)
            docs.append(doc)
    except DuplicateKeyError as exc:
        match = _DUPLICATE_KEY.search(str(exc.problem))
        key = match.group(1) if match else "?"
        issues.append(Issue(_mark(name, exc), f"duplicate key {key!r}"))
    except MarkedYAMLError as exc:
        issues.append(Issue(_mark(name, exc), str(exc.problem or exc.context or "invalid YAML")))
    except YAMLError as exc:
        at = _position(name, text, getattr(exc, "position", None))
        issues.append(Issue(at, f"invalid YAML: {getattr(exc, 'reason', None) or exc}"))
    except RecursionError:
        issues.append(Issue(Location(name, 1, 1), "YAML nested too deeply"))
    except MemoryError:
        issues.append(Issue(Location(name, 1, 1), "YAML too large"))
    except Exception as exc:  # ruamel raises assorted errors on hostile input; never a traceback
        issues.append(
            Issue(Location(name, 1, 1), f"cannot parse YAML: {type(exc).__name__}: {exc}")
        )
    return docs


def _plain_docs(path: Path, roots: list[Any], issues: list[Issue]) -> list[_Doc]:
    """Documents read by fastyaml, checked for alias bombs like the round-trip ones."""
    name = str(path)
    docs = []
    for root in roots:
        if root is None:
            continue
        try:
            _expanded_size(root, {}, set(), 0)
        except _Refused as exc:
            issues.append(Issue(Location(name, 1, 1), str(exc)))
            continue
        docs.append(_Doc(name, path.parent, root, positioned=False))
    return docs


def _position(name: str, text: str, offset: object) -> Location:
    """File position of a character offset (errors of ruamel's reader carry only that)."""
    if not isinstance(offset, int) or offset < 0:
        return Location(name, 1, 1)
    line = text.count("\n", 0, offset) + 1
    return Location(name, line, offset - (text.rfind("\n", 0, offset) + 1) + 1)


def _too_many_brackets(text: str) -> tuple[int, int] | None:
    """Position (line, col) where unclosed ``[``/``{`` exceed the limit, counted without parsing.

    Brackets inside quoted strings count too: a deliberate over-approximation that only
    matters for hundreds of unbalanced brackets.
    """
    depth = 0
    for match in _BRACKET.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_FLOW_BRACKETS:
            start = match.start()
            line_start = text.rfind("\n", 0, start) + 1
            return text.count("\n", 0, start) + 1, start - line_start + 1
    return None


def _mark(name: str, exc: MarkedYAMLError) -> Location | None:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Location(name, 1, 1)
    return Location(name, mark.line + 1, mark.column + 1)


def _node_location(name: str, node: Any) -> Location:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return Location(name, 1, 1)
    return Location(name, lc.line + 1, lc.col + 1)


def _expanded_size(node: Any, memo: dict[int, int], active: set[int], depth: int) -> int:
    """Count nodes as if every alias were expanded, visiting each shared node once."""
    if isinstance(node, dict):
        children: Iterator[Any] = iter(node.values())
    elif isinstance(node, list):
        children = iter(node)
    else:
        return 1
    ident = id(node)
    if ident in memo:
        return memo[ident]
    if ident in active:
        raise _Refused("recursive alias: a node contains itself")
    if depth >= MAX_DEPTH:
        raise _Refused(f"document nested deeper than {MAX_DEPTH} levels")
    active.add(ident)
    total = 1 + (len(node) if isinstance(node, dict) else 0)
    for child in children:
        total += _expanded_size(child, memo, active, depth + 1)
        if total > MAX_NODES:
            raise _Refused("document too large after alias expansion")
    active.discard(ident)
    memo[ident] = total
    return total


def _plain_key(key: Any) -> Any:
    if isinstance(key, ScalarBoolean):
        return bool(key)
    if isinstance(key, str | int | float | bool) or key is None:
        return _convert_scalar(key)
    return str(key)


def _convert_scalar(node: Any) -> Any:
    if isinstance(node, TaggedScalar):
        return _convert_scalar(node.value)
    if isinstance(node, ScalarBoolean | bool):
        return bool(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def _convert(node: Any, path: PathKey, doc: _Doc) -> Any:
    """Turn ruamel's round-trip objects into plain Python, recording positions on the way."""
    lc = getattr(node, "lc", None)
    data = lc.data if lc is not None else {}
    if isinstance(node, dict):
        out: dict[Any, Any] = {}
        for key, value in node.items():
            plain = _plain_key(key)
            child = (*path, plain)
            pos = data.get(key)
            if pos:
                doc.keys[child] = Location(doc.file, pos[0] + 1, pos[1] + 1)
                doc.values[child] = Location(doc.file, pos[2] + 1, pos[3] + 1)
            out[plain] = _convert(value, child, doc)
        return out
    if isinstance(node, list):
        items = []
        for index, value in enumerate(node):
            child = (*path, index)
            pos = data.get(index)
            if pos:
                doc.values[child] = Location(doc.file, pos[0] + 1, pos[1] + 1)
            items.append(_convert(value, child, doc))
        return items
    return _convert_scalar(node)


def _resolve_tree(
    doc: _Doc,
    path: PathKey,
    node: Any,
    substitute: bool,
    secret_values: set[str],
    issues: list[Issue],
) -> Any:
    """Return ``node`` with secret references resolved; remember where each one was."""
    if isinstance(node, dict):
        return {
            key: _resolve_tree(doc, (*path, key), value, substitute, secret_values, issues)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [
            _resolve_tree(doc, (*path, index), value, substitute, secret_values, issues)
            for index, value in enumerate(node)
        ]
    if not isinstance(node, str) or "${" not in node:
        return node
    try:
        resolved = secrets.resolve(node, doc.base_dir, substitute=substitute)
    except secrets.SecretReferenceError as exc:
        issues.append(Issue(doc.where(path), f"{_format_path(path)}: {exc}"))
        return node
    if resolved.has_reference:
        doc.refs[path] = node
        secret_values.update(resolved.values)
    return resolved.text


def _format_path(path: PathKey) -> str:
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += f"[{str(part)!r}]"
    return out or "(document)"


def _validate(doc: _Doc, issues: list[Issue]) -> Manifest | None:
    """Validate one document, mapping each pydantic error back to its YAML position."""
    if not isinstance(doc.data, dict):
        issues.append(Issue(doc.where(()), "a manifest document must be a mapping"))
        return None
    try:
        return Manifest.model_validate(doc.data)
    except ValidationError as exc:
        grouped: dict[tuple[Location, str], list[str]] = {}
        for error in exc.errors(include_input=False, include_url=False):
            loc = tuple(error["loc"])
            known = _known_prefix(doc, loc)
            shown = loc if error["type"] == "missing" else known
            where = doc.where(known, key=error["type"] == "extra_forbidden")
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown attribute"
            messages = grouped.setdefault((where, _format_path(shown)), [])
            if message not in messages:
                messages.append(message)
        for (place, label), messages in grouped.items():
            issues.append(Issue(place, f"{label}: {'; or '.join(messages)}"))
        return None


def _known_prefix(doc: _Doc, loc: PathKey) -> PathKey:
    """The longest prefix of a pydantic ``loc`` that names a node in the document."""
    node = doc.data
    for depth, part in enumerate(loc):
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            node = node[part]
        else:
            return loc[:depth]
    return loc


_IDENTITY_ATTRIBUTE = {section: attribute for section, attribute, _ in LIST_KINDS}


def _identity(section: str, item: BaseModel) -> str:
    value = getattr(item, _IDENTITY_ATTRIBUTE[section])
    return "/".join(value) if isinstance(value, list) else str(value)


class _Merger:
    """Folds validated documents into one manifest, refusing objects declared twice."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        self.locations: dict[tuple[str, str], Location] = {}
        self.secret_refs: dict[tuple[str, str, str], str] = {}
        self.lists: dict[str, list[Any]] = {section: [] for section, _, _ in LIST_KINDS}
        self.server: dict[str, Any] = {}
        self.flags: dict[str, dict[str, tuple[Any, Location]]] = {
            "prune": {},
            "ignore": {},
            "policy": {},
        }
        self.exceptions: list[Any] = []

    def declare(self, key: tuple[str, str], where: Location, what: str) -> bool:
        first = self.locations.get(key)
        if first is not None:
            self.issues.append(Issue(where, f"{what} already declared at {first}"))
            return False
        self.locations[key] = where
        return True

    def add(self, doc: _Doc, model: Manifest) -> None:
        owners: dict[PathKey, tuple[str, str, str | None]] = {}
        for section, _, noun in LIST_KINDS:
            for index, item in enumerate(getattr(model, section)):
                ident = _identity(section, item)
                where = doc.where((section, index))
                if self.declare((section, ident), where, f"{noun} {ident!r}"):
                    self.lists[section].append(item)
                owners[(section, index)] = (section, ident, None)
        self._add_server(doc, model.server, owners)
        for index, waiver in enumerate(model.policyExceptions):
            self.exceptions.append(waiver)
            key = ("policyExceptions", f"{waiver.rule}:{waiver.target}")
            self.locations.setdefault(key, doc.where(("policyExceptions", index)))
        for section in ("prune", "ignore", "policy"):
            sub: BaseModel = getattr(model, section)
            for name in sorted(sub.model_fields_set):
                value = getattr(sub, name)
                where = doc.where((section, name), key=True)
                previous = self.flags[section].get(name)
                if previous is None:
                    self.flags[section][name] = (value, where)
                    self.locations[(section, name)] = where
                elif previous[0] != value:
                    self.issues.append(
                        Issue(where, f"{section}.{name} already set differently at {previous[1]}")
                    )
                owners[(section, name)] = (section, name, name)
        for path, original in doc.refs.items():
            self._record_ref(doc, path, original, owners)

    def _add_server(
        self, doc: _Doc, server: Server, owners: dict[PathKey, tuple[str, str, str | None]]
    ) -> None:
        for name in ("hostname", "keepAccessFrom"):
            value = getattr(server, name)
            if value is None:
                continue
            where = doc.where(("server", name), key=True)
            if self.declare(("server", name), where, f"server.{name}"):
                self.server[name] = value
            owners[("server", name)] = ("server", name, name)
        if server.techRestrictions is not None:
            merged = self.server.setdefault("techRestrictions", [])
            for index, pattern in enumerate(server.techRestrictions):
                where = doc.where(("server", "techRestrictions", index))
                if self.declare(
                    ("techRestrictions", pattern), where, f"tech restriction {pattern!r}"
                ):
                    merged.append(pattern)
                owners[("server", "techRestrictions", index)] = (
                    "techRestrictions",
                    pattern,
                    "pattern",
                )

    def _record_ref(
        self,
        doc: _Doc,
        path: PathKey,
        original: str,
        owners: dict[PathKey, tuple[str, str, str | None]],
    ) -> None:
        """Key a reference by the object and top-level field that contain it."""
        for cut in range(len(path), 0, -1):
            owner = owners.get(path[:cut])
            if owner is None:
                continue
            kind, ident, field_name = owner
            if field_name is None:
                if cut == len(path):
                    return
                field_name, top = str(path[cut]), path[: cut + 1]
            else:
                top = path[:cut]
            text = original if top == path else json.dumps(_original(doc, top), sort_keys=True)
            self.secret_refs[(kind, ident, field_name)] = text
            return

    def result(self) -> LoadedManifest:
        prune = Prune(**{name: value for name, (value, _) in self.flags["prune"].items()})
        ignore = Ignore(**{name: value for name, (value, _) in self.flags["ignore"].items()})
        policy = Policy(**{name: value for name, (value, _) in self.flags["policy"].items()})
        model = Manifest(
            version=1,
            server=Server(**self.server),
            prune=prune,
            ignore=ignore,
            policy=policy,
            policyExceptions=self.exceptions,
            **self.lists,
        )
        locations = self.locations
        return LoadedManifest(model, self.secret_refs, frozenset(), [], lambda: locations)


def _original(doc: _Doc, top: PathKey) -> Any:
    """The field's value as written, references unresolved, for ``secret_refs``."""
    node: Any = doc.data
    for part in top:
        node = node[part]
    return _unresolve(doc, top, node)


def _unresolve(doc: _Doc, path: PathKey, node: Any) -> Any:
    if path in doc.refs:
        return doc.refs[path]
    if isinstance(node, dict):
        return {k: _unresolve(doc, (*path, k), v) for k, v in node.items()}
    if isinstance(node, list):
        return [_unresolve(doc, (*path, i), v) for i, v in enumerate(node)]
    return node


def _merge(models: list[tuple[_Doc, Manifest]], issues: list[Issue]) -> LoadedManifest:
    merger = _Merger(issues)
    for doc, model in models:
        merger.add(doc, model)
    return merger.result()
