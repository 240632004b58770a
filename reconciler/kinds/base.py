"""What every resource kind declares and provides, and the generic comparison.

A kind is one module: its manifest model (each field declared with an `Attr`, see
`kinds/attrs.py`), a class that satisfies `Kind`, and its registration in `REGISTRY`.
The contexts a kind works in are in `kinds/contexts.py`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from deepdiff import DeepDiff
from pydantic import BaseModel, SecretStr

from reconciler.errors import ShcfgError
from reconciler.kinds.attrs import Role, attrs_of, fields_with
from reconciler.kinds.contexts import ApplyContext, KindPlan, PlanContext, ReadContext
from reconciler.kinds.exporting import EnvNames, ExportPart
from reconciler.plan import Action, Change, FieldChange, Label, Phase, Undeclared, fingerprint

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Kind(Protocol):
    """A resource kind: one module in reconciler.kinds plus a line in REGISTRY.

    Declared once, read by the manifest root model, export, docs and the apply order:
    `noun` (one object, in messages), `section` (manifest key), `model` (its manifest
    model, fields declared with `Attr`), `attributes` (the model's fields this kind
    compares; None: all of them), `phase` (apply order of creates and updates),
    `depends_on` (kinds applied before it), `batched` (apply gets a whole level at once
    and fans out itself), `prune` (the `prune` switch that deletes undeclared objects, if
    any), `ignorable` (an `ignore` list exists), `export_file` (where export writes it;
    kinds sharing a section share it).
    """

    @property
    def name(self) -> str: ...
    @property
    def noun(self) -> str: ...
    @property
    def section(self) -> str: ...
    @property
    def model(self) -> type[BaseModel]: ...
    @property
    def attributes(self) -> tuple[str, ...] | None: ...
    @property
    def phase(self) -> Phase: ...
    @property
    def depends_on(self) -> tuple[str, ...]: ...
    @property
    def batched(self) -> bool: ...
    @property
    def prune(self) -> str | None: ...
    @property
    def ignorable(self) -> bool: ...
    @property
    def export_file(self) -> str: ...

    def read(self, ctx: ReadContext) -> Any:
        """Read the live state this kind needs, with as few requests as the API allows."""

    def plan(self, ctx: PlanContext) -> KindPlan:
        """Compare declared with live (ctx.live[self.name]) and list the changes."""

    def apply(self, changes: Sequence[Change], ctx: ApplyContext) -> None:
        """Apply changes of this kind that share one action and phase."""

    def snapshot(self, identity: str, live: Any) -> Any:
        """The live object a change touches, normalised (None when absent): fingerprinted."""

    def export(self, live: Mapping[str, Any], names: EnvNames) -> ExportPart:
        """The live objects (`live[self.name]`, read with `everything`) as manifest data."""

    def identities(self, live: Any) -> set[str]:
        """The identities of the live objects."""

    def live_id(self, identity: str, live: Any) -> int | None:
        """The server's uniqueID of a live object (None: absent, or the kind has none)."""

    def problems(self, ctx: PlanContext) -> list[tuple[tuple[str, str], str]]:
        """Declarations the live server refuses, as ((section, identity), message): the
        plan stops on them before any write."""


class Defaults:
    """What most kinds declare and answer: every attribute of the model compared, no
    dependency, one change per `apply` call, no `prune` switch, an `ignore` list; no
    uniqueIDs, nothing the server refuses. A kind states only what differs."""

    attributes: tuple[str, ...] | None = None
    depends_on: tuple[str, ...] = ()
    batched: bool = False
    prune: str | None = None
    ignorable: bool = True

    def live_id(self, identity: str, live: Any) -> int | None:
        return None

    def problems(self, ctx: PlanContext) -> list[tuple[tuple[str, str], str]]:
        return []


def declared_change(
    kind: Kind,
    action: Action,
    identity: str,
    fields: Sequence[FieldChange],
    labels: tuple[Label, ...] = (),
    **more: Any,
) -> Change:
    """A create or update of a declared object, in the kind's phase (`more`: live ID,
    rename, base, fingerprint; a create fingerprints the object's absence)."""
    more.setdefault("fingerprint", fingerprint(None))
    return Change(
        action=action,
        kind=kind.name,
        identity=identity,
        phase=kind.phase,
        fields=tuple(fields),
        labels=labels,
        **more,
    )


def unique(query: str, what: str, values: Iterable[Any]) -> None:
    """Refuse a server answer that repeats an identity or ID: a plan built on it could
    update or delete the wrong object."""
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ShcfgError(f"{query}: the server returned two {what} {value!r}")
        seen.add(value)


def match(
    live: Mapping[str, T], identity: str, renamed_from: str | None
) -> tuple[T | None, str | None]:
    """The live object a declaration names, by its identity or else by the identity it
    had before a rename; and that former identity when it is a rename."""
    if identity in live:
        return live[identity], None
    if renamed_from and renamed_from in live:
        return live[renamed_from], renamed_from
    return None, None


def prune_undeclared(
    kind: Kind,
    ctx: PlanContext,
    live: Mapping[str, Any],
    claimed: set[str],
    result: KindPlan,
    delete: Callable[[str, Any], Change],
    never: Callable[[Any], str | None] = lambda current: None,
) -> None:
    """Live objects no declaration claims: deleted when the kind's `prune` switch is on
    (unless `never` gives a reason not to), else listed as undeclared; ignored ones are
    left out of both."""
    prune = bool(kind.prune and getattr(ctx.manifest.model.prune, kind.prune))
    for identity, current in sorted(live.items()):
        if identity in claimed or ctx.ignored(kind.name, identity):
            continue
        reason = never(current)
        if prune and reason is None:
            result.changes.append(delete(identity, current))
        else:
            reason = reason or f"prune.{kind.prune} is off"
            result.undeclared.append(Undeclared(kind=kind.name, identity=identity, reason=reason))


def plan_declared(
    kind: Kind,
    ctx: PlanContext,
    live: Mapping[str, Any],
    declared: Iterable[tuple[str, str | None, M]],
    create: Callable[[M], Change],
    update: Callable[[M, Any, str | None], Change | None],
    delete: Callable[[str, Any], Change],
    never: Callable[[Any], str | None] = lambda current: None,
) -> KindPlan:
    """The plan of a kind whose objects have a renamable identity: each declaration
    (identity, former identity, object) is matched to its live object and created or
    updated (`update` returns None when nothing differs); the live objects left over are
    pruned or listed (`prune_undeclared`)."""
    result = KindPlan(live_count=len(live))
    claimed: set[str] = set()
    for identity, renamed_from, obj in declared:
        current, rename_from = match(live, identity, renamed_from)
        if current is None:
            result.changes.append(create(obj))
            continue
        claimed.add(rename_from or identity)
        change = update(obj, current, rename_from)
        if change is not None:
            result.changes.append(change)
    prune_undeclared(kind, ctx, live, claimed, result, delete, never)
    return result


def field_changes(
    ctx: PlanContext,
    kind: str,
    identity: str,
    pairs: Iterable[tuple[str, Any, Any]],
) -> list[FieldChange]:
    """FieldChanges for (path, before, after) triples, masking sensitive ones."""
    result = []
    for path, before, after in pairs:
        if ctx.sensitive(kind, identity, path):
            result.append(FieldChange(path=path, sensitive=True))
        else:
            result.append(FieldChange(path=path, before=before, after=after))
    return result


def same(have: Any, want: Any, *, unordered: bool = False) -> bool:
    """Equality as the API means it: booleans are not numbers; sets ignore order."""
    if unordered and isinstance(have, list) and isinstance(want, list):
        return len(have) == len(want) and _as_set(have) == _as_set(want)
    if isinstance(have, bool) or isinstance(want, bool):
        return have is want
    return bool(have == want)


def _as_set(values: list[Any]) -> set[Any] | list[Any]:
    """A set of hashable items (typed, so True and 1 stay apart); else the items sorted."""
    try:
        return {(type(v), v) for v in values}
    except TypeError:
        return sorted(values, key=repr)


def nested_changes(have: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """Declared keys of a settings object whose live value differs (lists are sets).

    A cheap equality check first; deepdiff only for the objects that differ.
    """
    declared = {key: have.get(key) for key in want}
    if all(same(declared[k], v, unordered=True) for k, v in want.items()):
        return []
    diff = DeepDiff(declared, want, ignore_order=True, ignore_type_in_groups=[(int, float)])
    return sorted(str(key) for key in diff.affected_root_keys)


def compared(kind: Kind, *roles: Role) -> tuple[str, ...]:
    """The kind's attributes declared with one of `roles`."""
    return _owned(kind.model, kind.attributes, roles)


@functools.cache
def _owned(
    model: type[BaseModel], attributes: tuple[str, ...] | None, roles: tuple[Role, ...]
) -> tuple[str, ...]:
    names = fields_with(model, *roles)
    return names if attributes is None else tuple(n for n in names if n in attributes)


def declared_value(obj: BaseModel, name: str) -> Any:
    """A declared attribute as the API shows it (settings objects as dicts)."""
    value = getattr(obj, name)
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    return value


def create_pairs(kind: Kind, obj: BaseModel) -> list[tuple[str, Any, Any]]:
    """(path, None, value) for every declared value, set and settings attribute."""
    pairs = []
    for name in compared(kind, Role.VALUE, Role.SET, Role.SETTINGS):
        want = declared_value(obj, name)
        if want is not None:
            pairs.append((name, None, sorted(want) if isinstance(want, list) else want))
    return pairs


class Lookup(Protocol):
    """A live object's attributes by manifest name (a dict, or a kind's own record)."""

    def get(self, key: str, /) -> Any: ...


@functools.cache
def _value_roles(
    model: type[BaseModel], attributes: tuple[str, ...] | None
) -> tuple[tuple[str, Role], ...]:
    roles = (Role.VALUE, Role.SET, Role.SETTINGS)
    declared = attrs_of(model)
    return tuple((n, declared[n].role) for n in _owned(model, attributes, roles))  # type: ignore[union-attr]


def update_pairs(
    kind: Kind, obj: BaseModel, current: Lookup
) -> tuple[list[tuple[str, Any, Any]], dict[str, Any]]:
    """Declared attributes whose live value differs, and the live settings objects apply
    merges into (a server that replaces a settings object keeps undeclared keys)."""
    pairs: list[tuple[str, Any, Any]] = []
    base: dict[str, Any] = {}
    for name, role in _value_roles(kind.model, kind.attributes):
        want = getattr(obj, name)
        if want is None:
            continue
        have = current.get(name)
        if type(have) is type(want) and have == want:  # the common case, decided cheaply
            continue
        if role is Role.SETTINGS:
            if isinstance(want, BaseModel):
                want = want.model_dump(exclude_none=True)
            have_map = have if isinstance(have, dict) else {}
            changed = nested_changes(have_map, want)
            if changed:
                base[name] = have_map
                pairs += [(f"{name}.{sub}", have_map.get(sub), want[sub]) for sub in changed]
        elif not same(have, want, unordered=role is Role.SET):
            pairs.append((name, have, sorted(want) if isinstance(want, list) else want))
    return pairs, base


def secret_fields(
    kind: Kind, obj: BaseModel, current: Mapping[str, Any] | None, *, rotate: bool
) -> list[FieldChange]:
    """Sensitive fields to send: all declared ones on create (`current` None); on update a
    write-only one only with `rotate`, a readable one when it differs (or `rotate` when
    the server does not return it)."""
    result = []
    for name in compared(kind, Role.WRITE_ONLY, Role.READABLE_SECRET):
        want = getattr(obj, name)
        if want is None:
            continue
        if current is not None:
            readable = name in fields_with(kind.model, Role.READABLE_SECRET)
            have = current.get(name) if readable else None
            secret = want.get_secret_value() if isinstance(want, SecretStr) else want
            if not (rotate if not isinstance(have, str) else have != secret):
                continue
        result.append(FieldChange(path=name, sensitive=True))
    return result
