"""What reaches a reviewer's terminal: control characters shown, never executed; lone
surrogates from a server never crash an output; secrets masked in every rendered form."""

from __future__ import annotations

import json

import pytest

from reconciler.console import Output
from reconciler.plan import Action, Change, Phase, Plan
from reconciler.redact import MASK, Redactor, ShortSecretError
from reconciler.render import render_json, render_markdown, render_text
from tests.reliability.conftest import MakeShcfg, scripted

ESCAPES = ["mallory\x1b]0;pwned\x07", "eve\x1b[2J\x9b31m"]


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_control_characters_from_the_server_are_shown_not_executed(
    make_shcfg: MakeShcfg, fmt: str
) -> None:
    shcfg = make_shcfg(seed={"technicians": [{"username": name} for name in ESCAPES]})
    result = shcfg("plan", str(shcfg.manifest("version: 1\n")), "--format", fmt)
    assert result.exit_code == 0, result.output
    for raw in ("\x1b", "\x07", "\x9b"):
        assert raw not in result.output
    if fmt == "json":
        identities = {u["identity"] for u in json.loads(result.stdout)["undeclared"]}
        assert identities == set(ESCAPES)
    else:
        shown = result.stdout.replace("\\\\", "\\").replace("\\]", "]")
        assert "mallory\\x1b]0;pwned\\x07" in shown


def _refuse_with_escapes(body: bytes) -> tuple[int, dict[str, str], bytes]:
    """A hostile server: its refusal holds a terminal escape."""
    return 400, {}, json.dumps({"success": False, "reason": "no fly\x1b[2J here"}).encode()


def test_a_server_reason_with_escapes_is_shown_visibly_in_the_error(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg()
    path = shcfg.manifest("version: 1\ngroups:\n  - name: Ops\n")
    with scripted(shcfg.sandbox.url, {"groups/new": _refuse_with_escapes}) as proxy:
        result = shcfg("apply", str(path), "--auto-approve", env={"SIMPLEHELP_URL": proxy.url})
    assert result.exit_code == 1
    assert "\x1b" not in result.output
    assert "no fly\\x1b[2J here" in result.stdout


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_lone_surrogates_from_the_server_are_one_clear_error_in_any_format(
    make_shcfg: MakeShcfg, fmt: str
) -> None:
    """Refused at decode (docs/api-notes.md): a value that is not text is never compared,
    written back or printed; every output format ends in the same one-line error."""
    shcfg = make_shcfg(seed={"technicians": [{"username": "bad\udcffname"}]})
    result = shcfg("plan", str(shcfg.manifest("version: 1\n")), "--format", fmt)
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        "Error: technicians/list: HTTP 200: response holds a lone UTF-16 surrogate "
        "(not valid Unicode text)"
    ]
    assert result.stdout == ""


def _plan(identity: str) -> Plan:
    change = Change(action=Action.DELETE, kind="technicians", identity=identity, phase=Phase(50))
    return Plan(server="https://x.example.com:443", changes=[change])


SECRETS = [
    'pw"with\\quote_and*stars',
    "plain_token_123456",
    "unicode-é-😀-secret",
    "tab\there-ctl\x1b",
    "!@#$%^&*()_+{}",
]


@pytest.mark.parametrize("secret", SECRETS)
def test_every_rendered_form_of_a_secret_is_masked(secret: str) -> None:
    redactor = Redactor()
    redactor.add(secret)
    plan = _plan(f"x {secret} y")
    forms = [
        render_markdown(plan),
        render_json(plan),
        render_text(plan).plain,
        json.dumps(secret),
        json.dumps(secret, ensure_ascii=True),
        repr(secret),
        json.dumps({"reason": f"password {secret} is weak"}),
    ]
    for text in forms:
        masked = redactor.text(text)
        assert MASK in masked, text
        for piece in (secret, json.dumps(secret)[1:-1], secret.replace("_", "\\_")):
            assert piece not in masked


def test_output_masks_then_makes_controls_visible() -> None:
    output = Output()
    output.redactor.add("canary-secret-99")
    shown = output.safe("token canary-secret-99 then \x1b[2J and \udcff")
    assert shown == f"token {MASK} then \\x1b[2J and \\udcff"


def test_a_secret_too_short_to_mask_safely_is_refused() -> None:
    with pytest.raises(ShortSecretError, match="shorter than 8 characters"):
        Redactor().add("short")


def test_a_short_manifest_secret_is_one_clear_error(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg()
    path = shcfg.manifest("version: 1\ngroups:\n  - name: Ops\n    password: ${env:PW}\n")
    result = shcfg("plan", str(path), env={"PW": "abc"})
    assert result.exit_code == 1
    assert "shorter than 8 characters" in result.stderr
    assert "abc" not in result.output
    assert shcfg.sandbox.calls == []


def test_a_usage_error_echoing_what_was_typed_is_shown_visibly(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg()
    result = shcfg("plan", "--format", "\x1b]0;pwned\x07")
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert "\\x1b]0;pwned\\x07" in result.stderr
    assert "plan -h' for help." in result.stderr
