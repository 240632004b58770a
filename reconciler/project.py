"""The project file, `shcfg.yaml`: which manifests make the whole set, and which servers.

Found in the working directory or above it, as git finds `.git`. Knowing the whole set is
what makes prune safe: a run over part of it must not delete what the other files declare.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from reconciler.errors import ShcfgError
from reconciler.manifest.issues import Issue, Location, ManifestError
from reconciler.manifest.variables import Variables

PROJECT_FILE = "shcfg.yaml"
MAX_PROJECT_BYTES = 1024 * 1024
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"

NonEmpty = Annotated[StrictStr, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ServerEntry(_Strict):
    """One server of a fleet. Tokens only by environment variable or file, never inline."""

    url: NonEmpty | None = None
    urlEnv: NonEmpty | None = None
    tokenEnv: NonEmpty | None = None
    tokenFile: NonEmpty | None = None
    manifests: list[NonEmpty] = Field(default_factory=list)
    vars: dict[NonEmpty, StrictStr] = Field(default_factory=dict)
    caBundle: NonEmpty | None = None
    backupQuery: NonEmpty | None = None
    concurrency: Annotated[StrictInt, Field(ge=1, le=64)] | None = None


class ProjectModel(_Strict):
    manifests: list[NonEmpty] = Field(min_length=1)
    backupQuery: NonEmpty | None = None
    concurrency: Annotated[StrictInt, Field(ge=1, le=64)] | None = None
    servers: dict[Annotated[StrictStr, Field(pattern=NAME_PATTERN)], ServerEntry] = Field(
        default_factory=dict
    )


@dataclass(frozen=True)
class Project:
    """A loaded project file; paths are resolved against the file's directory."""

    path: Path
    model: ProjectModel
    locations: dict[tuple[str | int, ...], Location] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def manifests(self) -> list[Path]:
        """The shared manifest set, for every server."""
        return [self._resolve(p) for p in self.model.manifests]

    def server_manifests(self, name: str) -> list[Path]:
        """The shared set plus the server's overlays, in that order."""
        return self.manifests + self.server_overlays(name)

    def server_overlays(self, name: str) -> list[Path]:
        """The server's own manifests, laid over the shared set."""
        return [self._resolve(p) for p in self.model.servers[name].manifests]

    def resolve(self, value: str) -> Path:
        """A path written in the project file (a token file, a CA bundle): relative to it."""
        return self._resolve(value)

    def where(self, *path: str | int) -> Location:
        """The best-known position of a key, for errors about values in the file."""
        while path and path not in self.locations:
            path = path[:-1]
        return self.locations.get(path, Location(str(self.path), 1, 1))

    def covers(self, paths: list[Path]) -> bool:
        """True when `paths` name exactly the whole shared set (order and spelling aside)."""
        return {_canonical(p) for p in paths} == {_canonical(p) for p in self.manifests}

    def _resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.root / path


@dataclass(frozen=True)
class ManifestSet:
    """What one run loads: paths, a server's overlays and variables, and, when the paths
    are only part of the project's set, the note that prune is off for this run."""

    paths: tuple[str, ...]
    overlays: tuple[str, ...] = ()
    variables: Variables | None = None
    partial: str | None = None


def manifest_set(
    paths: Sequence[str], project: Project | None, server: str | None = None
) -> ManifestSet:
    """The manifests of a run: `paths`, else the project's set (plus `server`'s overlays)."""
    entry = project.model.servers[server] if project is not None and server else None
    variables = Variables(server, entry.vars) if entry is not None and server else None
    overlays = tuple(str(p) for p in project.server_overlays(server)) if project and server else ()
    if not paths:
        if project is None:
            raise ShcfgError(
                f"no manifest given and no {PROJECT_FILE} found in {Path.cwd()} or above: "
                "pass one or more files or directories"
            )
        return ManifestSet(tuple(str(p) for p in project.manifests), overlays, variables)
    partial = None
    if project is not None and not project.covers([Path(p) for p in paths]):
        partial = (
            f"prune is off: these paths are not the whole manifest set of {PROJECT_FILE} "
            f"({project.path})"
        )
    return ManifestSet(tuple(paths), overlays if partial is None else (), variables, partial)


def current_project() -> Project | None:
    """The project file of the working directory (or above), loaded; None when there is none."""
    path = find_project()
    return load_project(path) if path is not None else None


def _canonical(path: Path) -> Path:
    return Path(os.path.normpath(path.resolve()))


def find_project(start: Path | None = None) -> Path | None:
    """The nearest `shcfg.yaml` in `start` (default: the working directory) or above it."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def load_project(path: Path) -> Project:
    """Read and check a project file; every problem is reported at file:line:col."""
    name = str(path)
    text = _read_text(path)
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name, 1, 1)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ManifestError([Issue(where, f"project file: {problem}")]) from None
    if not isinstance(data, CommentedMap):
        raise ManifestError([Issue(Location(name, 1, 1), "project file: expected a mapping")])
    locations: dict[tuple[str | int, ...], Location] = {}
    _collect_locations(name, data, (), locations)
    issues = _inline_tokens(data, locations, name)
    plain = _plain(data)
    try:
        model = ProjectModel.model_validate(plain)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            where = _nearest(locations, loc, name)
            dotted = ".".join(str(part) for part in loc) or "(top level)"
            issues.append(Issue(where, f"project file: {dotted}: {error['msg']}"))
        raise ManifestError(issues) from None
    project = Project(path=path, model=model, locations=locations)
    issues += _server_issues(project)
    if issues:
        raise ManifestError(issues)
    return project


def _read_text(path: Path) -> str:
    """Only a regular file of sane size: a FIFO or a device named here must not hang us."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ManifestError(
                [Issue(Location(str(path), 1, 1), "project file: not a regular file")]
            )
        if info.st_size > MAX_PROJECT_BYTES:
            raise ManifestError(
                [Issue(Location(str(path), 1, 1), "project file: larger than 1 MiB")]
            )
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else exc.strerror
        raise ManifestError(
            [Issue(Location(str(path), 1, 1), f"project file: cannot read: {reason}")]
        ) from None


def _collect_locations(
    name: str, node: Any, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], Location]
) -> None:
    if isinstance(node, CommentedMap):
        for key in node:
            line, col = node.lc.key(key)
            out[(*path, str(key))] = Location(name, line + 1, col + 1)
            _collect_locations(name, node[key], (*path, str(key)), out)
    elif isinstance(node, CommentedSeq):
        for index, item in enumerate(node):
            line, col = node.lc.item(index)
            out[(*path, index)] = Location(name, line + 1, col + 1)
            _collect_locations(name, item, (*path, index), out)


def _nearest(
    locations: dict[tuple[str | int, ...], Location], loc: tuple[Any, ...], name: str
) -> Location:
    key = tuple(str(part) if not isinstance(part, int) else part for part in loc)
    while key and key not in locations:
        key = key[:-1]
    return locations.get(key, Location(name, 1, 1))


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _inline_tokens(
    data: CommentedMap, locations: dict[tuple[str | int, ...], Location], name: str
) -> list[Issue]:
    """An inline token would sit in git beside the manifests: refuse it, by name only."""
    issues = []
    servers = data.get("servers")
    candidates: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    if isinstance(servers, dict):
        candidates += [(("servers", str(k)), v) for k, v in servers.items()]
    for path, entry in candidates:
        if isinstance(entry, dict) and "token" in entry:
            issues.append(
                Issue(
                    _nearest(locations, (*path, "token"), name),
                    "project file: a token is never written inline; "
                    "use tokenEnv: VARIABLE or tokenFile: PATH",
                )
            )
            entry.pop("token")
    return issues


def _server_issues(project: Project) -> list[Issue]:
    issues = []
    for name, entry in project.model.servers.items():
        if (entry.url is None) == (entry.urlEnv is None):
            issues.append(
                Issue(project.where("servers", name), f"server {name}: give url or urlEnv")
            )
        if (entry.tokenEnv is None) == (entry.tokenFile is None):
            issues.append(
                Issue(
                    project.where("servers", name),
                    f"server {name}: give tokenEnv or tokenFile (tokens are never inline)",
                )
            )
    return issues
