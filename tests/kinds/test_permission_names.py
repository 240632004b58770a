"""Permission names are checked against the server's before any write (issue 10).

`groups/permissions/get` answers with every permission the server knows, so plan reads
one group's answer whenever a declared group has `permissions` and refuses an unknown
name at its manifest position, with a did-you-mean.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import Shcfg

SEED = {"groups": [{"name": "Helpdesk"}, {"name": "Other"}]}

EXISTING = """\
version: 1
groups:
  - name: Helpdesk
    permissions: {canRunTool: true}
"""
NEW = """\
version: 1
groups:
  - name: Other
  - name: New
    permissions:
      canUseChat: true
      canRunTool: true
"""


@pytest.mark.parametrize(("text", "line", "group"), [(EXISTING, 3, "Helpdesk"), (NEW, 4, "New")])
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_unknown_permission_is_refused_at_its_place_before_any_write(
    seeded: Callable[[dict[str, Any]], Shcfg],
    text: str,
    line: int,
    group: str,
    command: str,
) -> None:
    shcfg = seeded(SEED)
    path = shcfg.manifest(text)
    extra = ["--auto-approve"] if command == "apply" else []
    result = shcfg(command, str(path), *extra)
    assert result.exit_code == 1, result.output
    assert (
        f"manifest.yaml:{line}:" in result.stderr
        and f"group {group!r}: unknown permission 'canRunTool' (did you mean 'canRunTools'?)"
        in result.stderr
    ), result.stderr
    assert "Traceback" not in result.output
    assert shcfg.writes() == []
    assert "New" not in shcfg.groups()


def test_known_permissions_of_a_new_group_pass_and_are_applied(
    seeded: Callable[[dict[str, Any]], Shcfg],
) -> None:
    shcfg = seeded(SEED)
    path = shcfg.manifest(NEW.replace("canRunTool:", "canRunTools:"))
    shcfg.sandbox.reset_calls()
    result = shcfg("apply", str(path), "--auto-approve")
    assert result.exit_code == 0, result.output
    reads = [c.query for c in shcfg.sandbox.calls if c.query == "groups/permissions/get"]
    assert len(reads) == 1  # one existing group's answer names them all
    assert shcfg.groups()["New"]["permissions"] == {"canUseChat": True, "canRunTools": True}


@pytest.mark.parametrize("wrong", [True, False])
def test_a_server_without_groups_checks_the_new_groups_answer_before_setting_them(
    seeded: Callable[[dict[str, Any]], Shcfg], wrong: bool
) -> None:
    """No group to read names from at plan: apply reads the created group's answer and,
    for an unknown name, removes the group again instead of leaving it without them."""
    shcfg = seeded({})
    name = "canRunTool" if wrong else "canRunTools"
    text = (
        f"version: 1\ngroups:\n  - name: New\n    permissions: {{canUseChat: true, {name}: true}}\n"
    )
    result = shcfg("apply", str(shcfg.manifest(text)), "--auto-approve")
    reads = [c.query for c in shcfg.sandbox.calls if c.query == "groups/permissions/get"]
    assert reads == ["groups/permissions/get"]
    if wrong:
        assert result.exit_code == 1, result.output
        assert "unknown permission 'canRunTool' (did you mean 'canRunTools'?)" in result.stdout
        assert "groups/permissions/set" not in shcfg.writes()
        assert shcfg.groups() == {}
    else:
        assert result.exit_code == 0, result.output
        assert shcfg.groups()["New"]["permissions"] == {"canUseChat": True, "canRunTools": True}
