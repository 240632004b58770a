"""Secret references: resolution, escaping, bookkeeping, and never leaking a value."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reconciler.errors import ShcfgError
from reconciler.manifest import ManifestError, load_manifests
from reconciler.manifest.secrets import (
    SecretFileError,
    SecretReferenceError,
    read_secret_file,
    resolve,
)
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


def test_an_environment_secret_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    """Non-UTF-8 bytes in the environment decode to lone surrogates, which no server
    takes: sent, they left a technician created without its password."""
    environ = {"PW": os.fsdecode(b"abc\xff\xfedefgh")}
    with pytest.raises(
        SecretReferenceError, match=r"^environment variable PW is not valid UTF-8 text$"
    ):
        resolve("${env:PW}", tmp_path, environ=environ)
    assert resolve("${env:PW}", tmp_path, environ={"PW": "pässwörd-ok"}).values == ["pässwörd-ok"]


def test_loader_resolves_and_records(
    write: WriteFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALICE_PASSWORD", SECRET)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "group.txt").write_text("group-pw\n\n")
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
    assert group.password is not None and group.password.get_secret_value() == "group-pw\n"
    assert loaded.model.machines[0].properties == {"key": f"x-{SECRET}", "plain": "v"}
    assert loaded.secret_refs == {
        ("groups", "Helpdesk", "password"): "${file:../secrets/group.txt}",
        ("technicians", "alice", "password"): "${env:ALICE_PASSWORD}",
        ("machines", "m1", "properties"): '{"key": "x-${env:ALICE_PASSWORD}", "plain": "v"}',
    }
    assert loaded.secret_values == frozenset({SECRET, "group-pw\n"})


def test_server_hostname_reference_is_keyed(
    write: WriteFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOST", "h.example.com")
    path = write("s.yaml", "version: 1\nserver:\n  hostname: ${env:HOST}\n")
    loaded = load_manifests([path])
    assert loaded.model.server.hostname == "h.example.com"
    assert loaded.secret_refs == {("server", "hostname", "hostname"): "${env:HOST}"}


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


IDENTITIES = """
version: 1
server:
  keepAccessFrom: ['${env:SIMPLEHELP_API_TOKEN}']
  techRestrictions: ['x-${env:SIMPLEHELP_API_TOKEN}']
groups:
  - name: ${env:SIMPLEHELP_API_TOKEN}
  - name: g
    renamedFrom: ${file:/proc/self/environ}
technicians:
  - username: ${env:SIMPLEHELP_API_TOKEN}
  - username: t
    renamedFrom: ${env:SIMPLEHELP_API_TOKEN}
    groups: [g, '${env:SIMPLEHELP_API_TOKEN}']
machines:
  - machineID: ${env:SIMPLEHELP_API_TOKEN}
machineGroups:
  - path: [UK, '${env:SIMPLEHELP_API_TOKEN}']
ignore:
  technicians: ['${env:SIMPLEHELP_API_TOKEN}']
"""


@pytest.mark.parametrize("resolve_secrets", [True, False])
def test_identities_refuse_secret_references(
    write: WriteFn, monkeypatch: pytest.MonkeyPatch, resolve_secrets: bool
) -> None:
    monkeypatch.setenv("SIMPLEHELP_API_TOKEN", SECRET)
    path = write("ids.yaml", IDENTITIES)
    with pytest.raises(ManifestError) as info:
        load_manifests([path], resolve_secrets=resolve_secrets)
    refused = "a secret reference cannot be an identity or a name pattern"
    assert [str(issue).split(f": {refused}")[0] for issue in info.value.issues] == [
        f"{path}:3:20: server.keepAccessFrom[0]",
        f"{path}:4:22: server.techRestrictions[0]",
        f"{path}:6:11: groups[0].name",
        f"{path}:8:18: groups[1].renamedFrom",
        f"{path}:10:15: technicians[0].username",
        f"{path}:12:18: technicians[1].renamedFrom",
        f"{path}:13:17: technicians[1].groups[1]",
        f"{path}:15:16: machines[0].machineID",
        f"{path}:17:16: machineGroups[0].path[1]",
        f"{path}:19:17: ignore.technicians[0]",
    ]
    text = str(info.value) + repr(info.value.issues)
    assert SECRET not in text
    assert "PATH=" not in text  # /proc/self/environ was never read


def test_secret_shorter_than_8_characters_is_refused(
    write: WriteFn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHORT", "pw12345")
    (tmp_path / "short.txt").write_text("abc\n")
    path = write(
        "short.yaml",
        """
        version: 1
        technicians:
          - username: alice
            password: ${env:SHORT}
          - username: bob
            password: ${file:short.txt}
        """,
    )
    with pytest.raises(ManifestError) as info:
        load_manifests([path])
    assert [str(issue) for issue in info.value.issues] == [
        f"{path}:4:15: technicians[0].password: the value of ${{env:SHORT}} is shorter than 8 "
        "characters: too short to redact safely; use a longer secret",
        f"{path}:6:15: technicians[1].password: the value of ${{file:short.txt}} is shorter than "
        "8 characters: too short to redact safely; use a longer secret",
    ]
    assert "pw12345" not in str(info.value) and "abc" not in str(info.value)


def test_eight_characters_are_enough(write: WriteFn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EIGHT", "pw123456")
    path = write("ok.yaml", "version: 1\ntechnicians: [{username: a, password: '${env:EIGHT}'}]\n")
    assert load_manifests([path]).secret_values == frozenset({"pw123456"})


def test_literal_secret_loads_with_a_warning(write: WriteFn) -> None:
    path = write(
        "literal.yaml",
        """
        version: 1
        groups:
          - name: g
            videoPassword: ${env:NOT_NEEDED}
            password: hunter2
        technicians:
          - username: alice
            password: hunter2
        """,
    )
    loaded = load_manifests([path], resolve_secrets=False)
    password = loaded.model.technicians[0].password
    assert password is not None and password.get_secret_value() == "hunter2"
    advice = (
        "a secret written in the manifest; reference it with ${env:NAME} or ${file:PATH} instead"
    )
    assert [str(w) for w in loaded.warnings] == [
        f"{path}:5:15: groups[0].password: {advice}",
        f"{path}:8:15: technicians[0].password: {advice}",
    ]
    assert "hunter2" not in str(loaded.warnings)


def test_reference_only_manifest_has_no_warnings(write: WriteFn, tmp_path: Path) -> None:
    (tmp_path / "pw.txt").write_text("long-enough-secret\n")
    path = write(
        "ok.yaml", "version: 1\ntechnicians: [{username: a, password: '${file:pw.txt}'}]\n"
    )
    assert load_manifests([path]).warnings == []


def test_secret_file_must_be_a_small_regular_file(write: WriteFn, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "dir").mkdir()
    (tmp_path / "big.txt").write_bytes(b"x" * (64 * 1024 + 1))
    (tmp_path / "cap.txt").write_bytes(b"y" * (64 * 1024))
    (tmp_path / "link").symlink_to(tmp_path / "fifo")
    names = ["fifo", "dir", "/dev/zero", "/dev/null", "big.txt", "link"]
    items = "".join(
        f"  - machineID: m{i}\n    notes: '${{file:{n}}}'\n" for i, n in enumerate(names)
    )
    path = write(
        "files.yaml",
        "version: 1\nmachines:\n" + items + "  - {machineID: ok, notes: '${file:cap.txt}'}\n",
    )
    started = time.monotonic()
    with pytest.raises(ManifestError) as info:
        load_manifests([path])
    assert time.monotonic() - started < 5
    reasons = [str(issue).split("cannot read secret file ")[1] for issue in info.value.issues]
    assert reasons == [
        "'fifo': is a FIFO (named pipe), not a regular file",
        "'dir': is a directory, not a regular file",
        "'/dev/zero': is a character device, not a regular file",
        "'/dev/null': is a character device, not a regular file",
        "'big.txt': larger than 64 KiB: not a secret",
        "'link': is a FIFO (named pipe), not a regular file",
    ]


def test_read_secret_file_for_the_token(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("tok-en-value\n")
    assert read_secret_file(token) == "tok-en-value\n"
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(SecretFileError) as info:
        read_secret_file(tmp_path / "pipe")
    assert isinstance(info.value, ShcfgError)
    assert str(info.value) == f"{tmp_path / 'pipe'}: is a FIFO (named pipe), not a regular file"
    with pytest.raises(SecretFileError, match="cannot read: No such file or directory"):
        read_secret_file(tmp_path / "missing")
    (tmp_path / "bin").write_bytes(b"\xff\xfe")
    with pytest.raises(SecretFileError, match="not valid UTF-8 text"):
        read_secret_file(tmp_path / "bin")
