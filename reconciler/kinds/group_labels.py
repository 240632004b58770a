"""The security labels of a group change (docs/safety.md): what a reviewer must see."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.kinds.group_permissions import PREFIX
from reconciler.plan import FieldChange, Label


def labels(fields: Sequence[FieldChange], *, created: bool) -> tuple[Label, ...]:
    """Labels of a group's field changes, each once, in the order they first apply."""
    found: list[Label] = []
    # On create a nested settings object is one field holding the whole object.
    flat = [
        (f"{fc.path}.{sub}", None, value)
        for fc in fields
        if isinstance(fc.after, dict)
        for sub, value in fc.after.items()
    ]
    flat += [(fc.path, fc.before, fc.after) for fc in fields]
    for path, before, after in flat:
        if path.startswith(PREFIX) and after is True and before is not True:
            found.append(Label.GRANTS_PERMISSION)
        elif path.startswith("ldapSettings"):
            found.append(Label.CHANGES_LDAP)
        elif (
            path in ("mfaSettings.app", "mfaSettings.email") and after is False and not created
        ) or (path == "mfaSettings.rememberMachine" and after is True):
            found.append(Label.WEAKENS_MFA)
        elif path == "allowAnonymousLogins" and after is True:
            found.append(Label.ENABLES_ANONYMOUS_LOGINS)
        elif path in ("password", "videoPassword"):
            found.append(Label.SETS_PASSWORD)
    return tuple(dict.fromkeys(found))
