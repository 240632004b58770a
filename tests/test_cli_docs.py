"""Every command has help text and is documented (as sqlite-utils checks its own CLI)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from reconciler.cli import cli

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs"
DOCS = (DOCS_DIR / "cli.md").read_text(encoding="utf-8")


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


def test_every_cited_erratum_links_the_errata_table() -> None:
    """A reader of "erratum N" can follow it to docs/api-notes.md's table."""
    docs = DOCS_DIR.rglob("*.md")
    for page in (p for p in docs if p.name != "api-notes.md"):
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\berrat(um|a)\b", line, re.IGNORECASE):
                assert "api-notes.md#errata-of-the-reference" in line, f"{page}:{number}"
