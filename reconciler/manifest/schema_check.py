"""Validate one document against the manifest model, each error at its YAML position."""

from __future__ import annotations

from pydantic import ValidationError

from reconciler.manifest.documents import Document, PathKey, format_path
from reconciler.manifest.issues import Issue, Location
from reconciler.manifest.models import Manifest


def validate_document(doc: Document, issues: list[Issue]) -> Manifest | None:
    """The document's model, or ``None`` with every pydantic error mapped to its position."""
    if not isinstance(doc.data, dict):
        issues.append(Issue(doc.where(()), "a manifest document must be a mapping"))
        return None
    try:
        return Manifest.model_validate(doc.data)
    except ValidationError as exc:
        grouped: dict[tuple[Location, str], list[str]] = {}
        for error in exc.errors(include_input=False, include_url=False):
            loc = tuple(error["loc"])
            if _about_refused(doc, loc):
                continue
            known = _known_prefix(doc, loc)
            shown = loc if error["type"] == "missing" else known
            where = doc.where(known, key=error["type"] == "extra_forbidden")
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown attribute"
            messages = grouped.setdefault((where, format_path(shown)), [])
            if message not in messages:
                messages.append(message)
        for (place, label), messages in grouped.items():
            issues.append(Issue(place, f"{label}: {'; or '.join(messages)}"))
        return None


def _about_refused(doc: Document, loc: PathKey) -> bool:
    """An error inside, or about the list holding, a value already refused."""
    return any(
        loc[: len(path)] == path or (len(loc) > 1 and path[: len(loc)] == loc)
        for path in doc.refused
    )


def _known_prefix(doc: Document, loc: PathKey) -> PathKey:
    """The longest prefix of a pydantic ``loc`` that names a node in the document."""
    node = doc.data
    for depth, part in enumerate(loc):
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            node = node[part]
        else:
            return loc[:depth]
    return loc
