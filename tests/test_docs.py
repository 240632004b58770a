"""The docs a maintainer reads point at real files, headings, commands and flags.

Every page (README.md, docs/**/*.md, examples/**/README.md) is read as text: its relative
links must resolve inside the repository (a `#anchor` to a GitHub-style heading slug), and
every `shcfg COMMAND --flag` written in code must be one the CLI accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from reconciler.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [ROOT / "README.md", *(ROOT / "docs").rglob("*.md"), *(ROOT / "examples").rglob("README.md")]
)
PAGES = [p for p in PAGES if p.name != "CHANGELOG.md"]

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"`([^`]+)`")
# `shcfg NAME`, or a code span that begins with a command's name (`plan --out DIR`); a
# quoted "shcfg ..." is a string, not a command.
COMMAND = re.compile(r"(?:(?<![\w\"])shcfg[ \t]+|^)([a-z][a-z-]*)(?=\s|$)")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
# Text after any of these belongs to another command of the shell line.
SHELL_BREAK = re.compile(r"\|\s|&&|;|\|\||\$\(|\)")
REPO_PATH = re.compile(
    r"(?<![\w./-])((?:reconciler|tests|docs|examples|schemas|tools|bench)/[\w.*/-]*[\w*])"
)
OUTSIDE = re.compile(r"/work/|\.\./shared\b|(?<![\w.])shared/(api|design)/")


def _rel(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _lines(page: Path) -> list[tuple[int, str, bool]]:
    """(line number, text, inside a fenced code block) for every line of a page."""
    out: list[tuple[int, str, bool]] = []
    fenced = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        out.append((number, line, fenced))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading anchor of a page, numbered -1, -2 for repeats as GitHub does."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for _, line, fenced in _lines(page):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if fenced or not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def _code(page: Path) -> Iterator[tuple[int, str]]:
    """Code text of a page: each code span, and each command of a code block with its
    backslash-continued lines joined (numbered by its first line)."""
    pending, first = "", 0
    for number, line, fenced in _lines(page):
        if fenced:
            first = first or number
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            yield first, pending + line
            pending, first = "", 0
        else:
            for span in CODE_SPAN.findall(line):
                yield number, span


def _commands(text: str) -> Iterator[tuple[str, str]]:
    """(command name, the rest of its shell command) for each `shcfg NAME` in text."""
    for match in COMMAND.finditer(text):
        if match.start() == match.start(1) and match.group(1) not in cli.commands:
            continue
        rest = text[match.end() :]
        brk = SHELL_BREAK.search(rest)
        yield match.group(1), rest[: brk.start()] if brk else rest


def _options(command: click.Command) -> set[str]:
    names = {"--help"}
    for param in command.params:
        names.update(o for o in [*param.opts, *param.secondary_opts] if o.startswith("--"))
    return names


GLOBAL_OPTIONS = _options(cli)


def link_problems(page: Path, root: Path = ROOT) -> list[str]:
    """Relative links of a page that leave `root`, miss their file or their heading."""
    own = anchors(page)
    wrong: list[str] = []
    for number, line, fenced in _lines(page):
        for target in [] if fenced else LINK.findall(line):
            if re.match(r"[a-z]+:", target):
                continue
            where = f"{page.name}:{number}: {target}"
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.is_relative_to(root):
                wrong.append(f"{where} leaves the repository")
            elif not dest.exists():
                wrong.append(f"{where} does not exist")
            elif (
                anchor
                and dest.suffix == ".md"
                and anchor not in (own if dest == page else anchors(dest))
            ):
                wrong.append(f"{where}: no such heading")
    return wrong


def command_problems(page: Path) -> list[str]:
    """`shcfg NAME --flag` in a page's code that names no command or no option of it."""
    wrong: list[str] = []
    for number, text in _code(page):
        for name, rest in _commands(text):
            where = f"{page.name}:{number}: shcfg {name}"
            if name not in cli.commands:
                wrong.append(f"{where}: no such command")
                continue
            known = _options(cli.commands[name]) | GLOBAL_OPTIONS
            wrong += [f"{where} {f}: no such option" for f in FLAG.findall(rest) if f not in known]
    return wrong


def path_problems(page: Path, root: Path = ROOT) -> list[str]:
    """Repository paths a page names in code that are not in the tree, and paths outside it."""
    missing = [
        f"{page.name}:{number}: {path}"
        for number, text in _code(page)
        for path in REPO_PATH.findall(text)
        if not any(root.glob(path))
    ]
    outside = [
        f"{page.name}:{n}: {line.strip()}" for n, line, _ in _lines(page) if OUTSIDE.search(line)
    ]
    return missing + outside


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_relative_links_resolve(page: Path) -> None:
    wrong = link_problems(page)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_commands_and_flags_exist(page: Path) -> None:
    wrong = command_problems(page)
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_paths_are_in_the_repository(page: Path) -> None:
    """Cited files exist; no page cites a path outside the repository (`/work/`, `../shared`)."""
    wrong = path_problems(page)
    assert not wrong, "\n".join(wrong)


def test_slug_follows_github() -> None:
    """The anchor rule the link check relies on, on headings these docs use."""
    assert slug("Errata of the reference") == "errata-of-the-reference"
    assert slug("`shcfg apply --plan`: saved plans") == "shcfg-apply---plan-saved-plans"
    assert slug("Why? (and [how](x.md))") == "why-and-how"


def test_checks_catch_a_broken_page(tmp_path: Path) -> None:
    """Each check reports what it exists to catch, and passes its correct form."""
    (tmp_path / "other.md").write_text("# Real heading\n", encoding="utf-8")
    page = tmp_path / "p.md"
    page.write_text(
        "# Top\n\n"
        "`shcfg plan --out DIR` `shcfg plan --no-such` `shcfg nothing`\n"
        "```\nshcfg apply --auto-approve \\\n  --bogus | grep --count x\n```\n"
        "[a](#top) [b](#nope) [c](other.md#real-heading) [d](other.md#fake) [e](gone.md)\n"
        "[f](../outside.md) `docs/cli.md` `docs/nowhere.md` see /work/shared/api\n",
        encoding="utf-8",
    )
    assert command_problems(page) == [
        "p.md:3: shcfg plan --no-such: no such option",
        "p.md:3: shcfg nothing: no such command",
        "p.md:5: shcfg apply --bogus: no such option",
    ]
    assert [w.split(": ", 1)[1] for w in link_problems(page, tmp_path)] == [
        "#nope: no such heading",
        "other.md#fake: no such heading",
        "gone.md does not exist",
        "../outside.md leaves the repository",
    ]
    problems = path_problems(page, ROOT)
    assert problems[0] == "p.md:9: docs/nowhere.md" and "/work/" in problems[1]
    assert len(problems) == 2


def test_package_map_names_every_module() -> None:
    """docs/architecture.md's package map names each module of the tree (issue 15): a file
    of a package in its package's row or by `package/file.py`, a top-level file in a row."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cell = re.match(r"\| `reconciler/([\w/]*)`", line)
        if cell:
            rows[cell.group(1)] = rows.get(cell.group(1), "") + line
    top = "".join(v for k, v in rows.items() if not k.endswith("/"))
    missing = []
    for module in sorted((ROOT / "reconciler").rglob("*.py")):
        rel = module.relative_to(ROOT / "reconciler")
        if rel.name in {"__init__.py", "__main__.py"}:
            continue
        package = f"{rel.parent}/" if rel.parent != Path() else ""
        named = f"`{rel.name}`" in (rows.get(package, "") if package else top)
        if not (named or f"{rel}`" in text):
            missing.append(str(rel))
    assert not missing, f"not in docs/architecture.md's package map: {missing}"


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_cli_reference_row_lists_every_option(name: str) -> None:
    """docs/cli.md's rows for a command name each of its options (either side of a switch)."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    rows = " ".join(re.findall(rf"^\| `shcfg {name}\b([^`]*)`", text, re.MULTILINE))
    missing = [
        param.opts[0]
        for param in cli.commands[name].params
        if param.opts[0].startswith("--")
        and param.opts[0] not in GLOBAL_OPTIONS
        and not any(re.search(rf"{o}(?![\w-])", rows) for o in [*param.opts, *param.secondary_opts])
    ]
    assert not missing, f"docs/cli.md row of shcfg {name} lacks {missing}"


def test_cited_test_names_exist() -> None:
    """A test a page names as proof (`test_requests_in_flight_never_exceed_...`) exists."""
    defined = set(
        re.findall(
            r"def (test_\w+)",
            "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py")),
        )
    )
    cited = {
        (f"{_rel(page)}:{number}", name)
        for page in PAGES
        for number, text in _code(page)
        for name in re.findall(r"(?<![\w/.])(test_\w+)(?![\w.])", text)
    }
    missing = sorted(c for c in cited if c[1] not in defined)
    assert not missing, missing


def test_cited_make_targets_exist() -> None:
    """`make bench`, `make schemas`...: every target a page runs is in the Makefile."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w.-]+):", makefile, re.MULTILINE))
    missing = sorted(
        {
            f"{_rel(page)}:{number}: make {name}"
            for page in PAGES
            for number, text in _code(page)
            for name in re.findall(r"(?<![\w-])make[ \t]+([a-z][\w-]*)", text)
            if name not in targets
        }
    )
    assert not missing, missing
