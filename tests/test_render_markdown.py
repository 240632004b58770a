"""Markdown plans fit a pull-request comment and stay well-formed markdown when cut."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from reconciler.plan import Action, Change, FieldChange, Label, Phase, Plan, Undeclared
from reconciler.render.markdown import FULL_PLAN, LIMIT, escape, render_markdown

GITHUB_COMMENT_LIMIT = 65_536
_SUMMARY = re.compile(r"<details><summary>[^<>]*</summary>")
_MORE_CHANGES = re.compile(r"… ([\d,]+) more changes?\b")


def _machine(i: int, identity: str | None = None) -> Change:
    return Change(
        action=Action.CREATE,
        kind="machines",
        identity=identity or f"SG_{i:05d}",
        phase=Phase.MACHINES,
        fields=(
            FieldChange(path="notes", after=f"rack {i}, row {i % 7}"),
            FieldChange(path="properties.site", after="Leeds"),
        ),
    )


def _technician(i: int) -> Change:
    return Change(
        action=Action.CREATE,
        kind="technicians",
        identity=f"tech{i:04d}",
        phase=Phase.TECHNICIANS,
        fields=(FieldChange(path="password", sensitive=True),),
        labels=(Label.SETS_PASSWORD,),
    )


def _undeclared(count: int) -> list[Undeclared]:
    return [
        Undeclared(kind="machines", identity=f"LAPTOP-{i:05d}", reason="prune.machines is off")
        for i in range(count)
    ]


def _tokens(markdown: str) -> list[Token]:
    return MarkdownIt("commonmark").parse(markdown)


def _assert_well_formed(markdown: str) -> None:
    """Every section that opens closes, and no code block swallows the rest of the comment."""
    tokens = _tokens(markdown)
    html = [t.content.strip() for t in tokens if t.type == "html_block"]
    assert all(h == "</details>" or _SUMMARY.fullmatch(h) for h in html), html
    assert html.count("</details>") * 2 == len(html)
    assert all(t.info == "diff" for t in tokens if t.type == "fence")


def _shown_changes(markdown: str) -> int:
    """Changes listed in the diff blocks: one header line (`+`/`~`/`-` then kind) each."""
    fences = [t for t in _tokens(markdown) if t.type == "fence"]
    return sum(
        1 for f in fences for line in f.content.splitlines() if line[:2] in {"+ ", "~ ", "- "}
    )


def _left_out(markdown: str) -> int:
    last = [t for t in _tokens(markdown) if t.type == "inline"][-1].content
    assert FULL_PLAN in last
    match = _MORE_CHANGES.search(last)
    return int(match.group(1).replace(",", "")) if match else 0


def test_2200_undeclared_machines_fit_a_comment_folded_after_the_changes() -> None:
    plan = Plan(
        server="https://support.example.com:443",
        changes=[_machine(i) for i in range(3)],
        undeclared=_undeclared(2_200),
    )
    markdown = render_markdown(plan)
    assert len(markdown) < LIMIT < GITHUB_COMMENT_LIMIT
    _assert_well_formed(markdown)
    assert markdown.index("```diff") < markdown.index("<details><summary>Not declared")
    assert "<details><summary>Not declared, left alone (2200)</summary>" in markdown
    assert _shown_changes(markdown) == 3
    last = [t for t in _tokens(markdown) if t.type == "inline"][-1].content
    shown = markdown.count("- machines LAPTOP\\-")
    assert 0 < shown < 2_200
    assert f"{2_200 - shown:,} more undeclared objects not shown here" in last
    assert FULL_PLAN in last


def test_thousands_of_changes_are_cut_and_counted() -> None:
    changes = [_technician(i) for i in range(2_000)] + [_machine(i) for i in range(4_000)]
    plan = Plan(changes=changes, undeclared=_undeclared(100))
    markdown = render_markdown(plan)
    assert len(markdown) < LIMIT
    _assert_well_formed(markdown)
    assert _shown_changes(markdown) + _left_out(markdown) == 6_000
    assert "100 more undeclared objects" in markdown
    security = markdown.split("### :warning: Security impact")[1].split("<details>")[0]
    assert security.count("sets-password") == 50
    assert "- … 1,950 more" in security


def test_a_plan_under_the_limit_is_not_cut() -> None:
    plan = Plan(
        changes=[_machine(i) for i in range(20)],
        warnings=["machine 'SG_9' is not registered"],
        undeclared=_undeclared(5),
    )
    markdown = render_markdown(plan)
    assert FULL_PLAN not in markdown
    assert _shown_changes(markdown) == 20
    assert markdown.count("- machines LAPTOP\\-") == 5
    assert "- machine 'SG\\_9' is not registered" in markdown


def test_warnings_are_counted_in_the_headline_and_listed() -> None:
    plan = Plan(warnings=["machine 'SG_9' is not registered", "property 'x' cannot be removed"])
    markdown = render_markdown(plan)
    assert "**No changes, 2 warnings.**" in markdown
    assert markdown.index("### Warnings") < markdown.index("property 'x' cannot be removed")
    with_changes = render_markdown(Plan(changes=[_machine(1)], warnings=["w"]))
    assert "**Plan: 1 to create, 0 to update, 0 to delete; 1 warning.**" in with_changes
    assert "**No changes. The server matches the manifests.**" in render_markdown(Plan())


def test_dollar_signs_do_not_start_github_math() -> None:
    assert escape("$x$") == "\\$x\\$"


_IDENTITY = st.lists(
    st.sampled_from([*"ab`|<>/*_[]()$&\n-", "</details>", "```"]), min_size=1, max_size=20
).map("".join)


@settings(max_examples=60, deadline=None)
@given(
    identities=st.lists(_IDENTITY, min_size=1, max_size=300),
    undeclared=st.lists(_IDENTITY, max_size=300),
    limit=st.integers(min_value=2_000, max_value=20_000),
)
def test_any_plan_stays_within_the_limit_and_well_formed(
    identities: list[str], undeclared: list[str], limit: int
) -> None:
    plan = Plan(
        changes=[_machine(i, identity) for i, identity in enumerate(identities)],
        warnings=[f"warning about {identity}" for identity in identities[:60]],
        undeclared=[Undeclared(kind="groups", identity=u, reason="prune off") for u in undeclared],
    )
    markdown = render_markdown(plan, limit=limit)
    assert len(markdown) <= limit
    _assert_well_formed(markdown)
    left_out = _left_out(markdown) if FULL_PLAN in markdown else 0
    assert _shown_changes(markdown) + left_out == len(identities)
