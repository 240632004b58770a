"""Every command has help text and is documented (as sqlite-utils checks its own CLI)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_has_help_and_is_documented(name: str) -> None:
    command = cli.commands[name]
    assert command.help and command.help.strip()
    assert f"`shcfg {name}" in DOCS
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"  shcfg {name}" in result.output, "no example"
    for param in command.params:
        if (
            param.name
            and getattr(param, "help", None) is None
            and param.param_type_name == "option"
        ):
            assert param.opts[0] in DOCS, f"{name} {param.opts[0]} has no help and no docs"
