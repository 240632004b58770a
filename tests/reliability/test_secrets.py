"""Secrets: canaries through the whole flow never appear anywhere; token file mode; TLS."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from reconciler.sandbox import Sandbox, SandboxConfig
from tests.e2e.conftest import SECRET_MANIFEST, TOKEN, Result, Shcfg
from tests.reliability.conftest import MakeShcfg

SECRETS = {"GROUP_PW": "canary-group-pw-5e1f0a", "ALICE_PW": "canary-alice-pw-77b2c9"}
CANARIES = (TOKEN, *SECRETS.values())


def test_canaries_never_appear_in_any_output_or_file(make_shcfg: MakeShcfg) -> None:
    shcfg = make_shcfg(seed={"technicians": [{"username": "old", "password": SECRETS["ALICE_PW"]}]})
    path = shcfg.manifest(SECRET_MANIFEST)
    token_file = shcfg.workdir / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    leaked_url = shcfg.sandbox.url + f"/api/v1/{TOKEN}/"
    results: list[Result] = [
        shcfg("validate", str(path), env=SECRETS),
        shcfg("plan", str(path), env=SECRETS),
        shcfg("plan", str(path), "--format", "json", env=SECRETS),
        shcfg("plan", str(path), "--format", "markdown", env=SECRETS),
        shcfg("plan", str(path), "--out", "saved.json", env=SECRETS),
        shcfg("apply", "--plan", "saved.json", "--auto-approve", env=SECRETS),
        shcfg("apply", str(path), "--auto-approve", "--rotate-secrets", env=SECRETS),
        shcfg("export", "--out", "exported", "--include-machines"),
        shcfg("plan", str(path), "--token-file", str(token_file), env=SECRETS),
        # errors: a missing secret, a URL with the token pasted into it, a wrong token
        shcfg("plan", str(path), env={"ALICE_PW": SECRETS["ALICE_PW"]}),
        shcfg("plan", str(path), "--url", leaked_url, env=SECRETS),
        shcfg("plan", str(path), env={**SECRETS, "SIMPLEHELP_API_TOKEN": TOKEN + "x"}),
        shcfg("validate", str(shcfg.manifest("version: 1\ngroups: {", name="bad.yaml"))),
        # the workflow's own refusals: a stale saved plan, a bad output path, a bad token file
        shcfg("apply", "--plan", "saved.json", "--auto-approve", env=SECRETS),
        shcfg("apply", "--plan", "saved.json", "--rotate-secrets", env=SECRETS),
        shcfg("plan", str(path), "--out", "manifest.yaml/x.json", env=SECRETS),
        shcfg("plan", str(path), "--token-file", "/dev/zero", env=SECRETS),
    ]
    codes = [r.exit_code for r in results]
    assert codes == [0] * 9 + [1] * 8, [r.output for r in results]
    assert all("Traceback" not in r.output for r in results)
    files = [p for p in shcfg.workdir.rglob("*") if p.is_file() and p != token_file]
    names = {p.relative_to(shcfg.workdir).parts[0] for p in files}
    assert {".shcfg", "saved.json", "exported", "manifest.yaml"} <= names
    for canary in CANARIES:
        for result in results:
            assert canary not in result.output
        for file in files:
            assert canary.encode() not in file.read_bytes(), file


@pytest.mark.parametrize(("mode", "warned"), [(0o600, False), (0o640, True), (0o604, True)])
def test_token_file_readable_by_others_warns(
    make_shcfg: MakeShcfg, mode: int, warned: bool
) -> None:
    shcfg = make_shcfg()
    token_file = shcfg.workdir / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(mode)
    result = shcfg("plan", str(shcfg.manifest("version: 1\n")), "--token-file", str(token_file))
    assert result.exit_code == 0, result.output
    assert ("is readable by other users (chmod 600 it)" in result.stderr) is warned


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("tls")
    files = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(str(files["ca"]))
    cert.cert_chain_pems[0].write_to_path(str(files["cert"]))
    cert.private_key_pem.write_to_path(str(files["key"]))
    return files


def test_tls_self_signed_refused_by_default_accepted_with_ca_bundle_insecure_warns(
    tls_files: dict[str, Path], tmp_path: Path
) -> None:
    config = SandboxConfig(token=TOKEN, tls_cert=tls_files["cert"], tls_key=tls_files["key"])
    with Sandbox(config) as sandbox:
        assert sandbox.url.startswith("https://")
        shcfg = Shcfg(sandbox, tmp_path)
        path = shcfg.manifest("version: 1\n")
        refused = shcfg("plan", str(path))
        assert refused.exit_code == 1
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
        assert "TLS certificate verification failed" in refused.stderr
        trusted = shcfg("plan", str(path), "--ca-bundle", str(tls_files["ca"]))
        assert trusted.exit_code == 0, trusted.output
        assert "WARNING" not in trusted.stderr
        insecure = shcfg("--insecure", "plan", str(path))
        assert insecure.exit_code == 0, insecure.output
        assert "WARNING: --insecure: TLS certificates are NOT verified" in insecure.stderr
    for result in (refused, trusted, insecure):
        assert TOKEN not in result.output
