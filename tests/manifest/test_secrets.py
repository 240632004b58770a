"""Secret references: resolution, escaping, bookkeeping, and never leaking a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.manifest import ManifestError, load_manifests
from reconciler.manifest.secrets import SecretReferenceError, resolve
from tests.manifest.conftest import WriteFn

SECRET = "hunter2-Sup3rSecret"


def test_resolve_env_file_embedded_and_escape(tmp_path: Path) -> None:
    (tmp_path / "pw.txt").write_text("from-file\n")
    result = resolve("a=${env:A} b=${file:pw.txt} c=$${env:A}", tmp_path, environ={"A": "from-env"})
    assert result.text == "a=from-env b=from-file c=${env:A}"
    assert result.has_reference
    assert result.values == ["from-env", "from-file"]


def test_escape_alone_is_not_a_reference(tmp_path: Path) -> None:
    result = resolve("cost: $${x}", tmp_path, environ={})
    assert (result.text, result.has_reference) == ("cost: ${x}", False)


def test_without_substitution_text_is_kept(tmp_path: Path) -> None:
    result = resolve("${env:MISSING} $${", tmp_path, environ={}, substitute=False)
    assert (result.text, result.has_reference, result.values) == ("${env:MISSING} $${", True, [])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("${env:NOPE}", "environment variable NOPE is not set"),
        ("${file:nope.txt}", "cannot read secret file 'nope.txt'"),
        ("${vault:x}", "invalid reference"),
        ("${env:1BAD}", "invalid environment variable name '1BAD'"),
        ("${env:A", "invalid reference"),
    ],
)
def test_bad_references(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SecretReferenceError, match="^" + message.replace("(", r"\(")):
        resolve(text, tmp_path, environ={})


def test_loader_resolves_and_records(
    write: WriteFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALICE_PASSWORD", SECRET)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "group.txt").write_text("grp-pw\n\n")
    path = write(
        "m/site.yaml",
        """
        version: 1
        groups:
          - name: Helpdesk
            password: ${file:../secrets/group.txt}
        technicians:
          - username: alice
            password: ${env:ALICE_PASSWORD}
        machines:
          - machineID: m1
            properties: {key: "x-${env:ALICE_PASSWORD}", plain: v}
        """,
    )
    loaded = load_manifests([path])
    tech = loaded.model.technicians[0]
    assert tech.password is not None and tech.password.get_secret_value() == SECRET
    group = loaded.model.groups[0]
    assert group.password is not None and group.password.get_secret_value() == "grp-pw\n"
    assert loaded.model.machines[0].properties == {"key": f"x-{SECRET}", "plain": "v"}
    assert loaded.secret_refs == {
        ("groups", "Helpdesk", "password"): "${file:../secrets/group.txt}",
        ("technicians", "alice", "password"): "${env:ALICE_PASSWORD}",
        ("machines", "m1", "properties"): '{"key": "x-${env:ALICE_PASSWORD}", "plain": "v"}',
    }
    assert loaded.secret_values == frozenset({SECRET, "grp-pw\n"})


def test_server_and_restriction_references_are_keyed(
    write: WriteFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST", "h.example.com")
    path = write(
        "s.yaml",
        """
        version: 1
        server:
          hostname: ${env:HOST}
          techRestrictions: ['${env:HOST}']
        """,
    )
    loaded = load_manifests([path])
    assert loaded.secret_refs == {
        ("server", "hostname", "hostname"): "${env:HOST}",
        ("techRestrictions", "h.example.com", "pattern"): "${env:HOST}",
    }


def test_no_resolution_keeps_references(write: WriteFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALICE_PASSWORD", raising=False)
    path = write(
        "n.yaml",
        "version: 1\ntechnicians: [{username: alice, password: '${env:ALICE_PASSWORD}'}]\n",
    )
    loaded = load_manifests([path], resolve_secrets=False)
    password = loaded.model.technicians[0].password
    assert password is not None and password.get_secret_value() == "${env:ALICE_PASSWORD}"
    assert loaded.secret_refs == {("technicians", "alice", "password"): "${env:ALICE_PASSWORD}"}
    assert loaded.secret_values == frozenset()


def test_missing_secret_points_at_the_scalar(
    write: WriteFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ALICE_PASSWORD", raising=False)
    path = write(
        "x.yaml",
        """
        version: 1
        technicians:
          - username: alice
            password: ${env:ALICE_PASSWORD}
        """,
    )
    with pytest.raises(ManifestError) as info:
        load_manifests([path])
    assert str(info.value) == (
        f"{path}:4:15: technicians[0].password: environment variable ALICE_PASSWORD is not set"
    )


def test_secret_values_never_appear_in_errors(
    write: WriteFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S", SECRET)
    monkeypatch.setenv("NUM", SECRET)
    path = write(
        "leak.yaml",
        """
        version: 1
        server:
          keepAccessFrom: ['${env:S}']
          techRestrictions: ['${env:S}', '${env:S}']
        groups:
          - name: g
            maxFileSize: ${env:NUM}
            passwordSettings: {p: '${env:S}'}
        technicians:
          - username: ${env:S}
          - username: ${env:S}
        """,
    )
    with pytest.raises(ManifestError) as info:
        load_manifests([path])
    text = str(info.value)
    assert len(info.value.issues) == 3
    assert SECRET not in text
    assert SECRET not in repr(info.value.issues)
    assert "(sensitive)" in text


def test_secret_in_duplicate_identity_is_redacted(
    write: WriteFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S", SECRET)
    path = write("dup.yaml", "version: 1\ntechnicians: [{username: '${env:S}'}]\n")
    with pytest.raises(ManifestError) as info:
        load_manifests([path, path.parent / "dup.yaml", write("b.yaml", path.read_text())])
    assert str(info.value).endswith(f"technician '(sensitive)' already declared at {path}:2:15")
    assert SECRET not in str(info.value)
