"""`${var:NAME}` and overlays, through the loader: values, identities, errors with places."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from reconciler.manifest import ManifestError, load_manifests
from reconciler.manifest.variables import Variables

SHARED = """\
version: 1
server:
  hostname: ${var:hostname}
groups:
  - name: Helpdesk
    allowAnonymousLogins: false
    mfaSettings: {app: true, email: false}
    permissions: {canRunTools: true, canChat: true}
technicians:
  - username: alice
    displayName: Alice (${var:site})
    groups: [Helpdesk]
"""
PROD = Variables("prod", {"hostname": "support.example.com", "site": "LON"})


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_variables_are_the_servers_values_and_not_secret(tmp_path: Path) -> None:
    write(tmp_path / "m/a.yaml", SHARED + "  - username: ${var:site}-kiosk\n")
    loaded = load_manifests([tmp_path / "m"], variables=PROD)
    assert loaded.model.server.hostname == "support.example.com"
    assert loaded.model.technicians[0].displayName == "Alice (LON)"
    assert loaded.model.technicians[1].username == "LON-kiosk"  # identities may use them
    assert loaded.secret_values == frozenset() and loaded.secret_refs == {}


def test_an_undefined_variable_names_the_server_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "m/a.yaml", SHARED)
    with pytest.raises(ManifestError) as caught:
        load_manifests([tmp_path / "m"], variables=Variables("dr", {"hostname": "dr.example"}))
    message = str(caught.value)
    assert f"{tmp_path / 'm/a.yaml'}:11:" in message
    assert "server dr has no variable 'site'" in message
    assert message.count("\n") == 0  # one issue, not echoed again by the secret resolver


def test_a_variable_without_a_server_is_an_error_naming_the_place(tmp_path: Path) -> None:
    write(tmp_path / "m/a.yaml", SHARED)
    with pytest.raises(ManifestError) as caught:
        load_manifests([tmp_path / "m"])
    assert f"{tmp_path / 'm/a.yaml'}:3:" in str(caught.value)
    assert "no server selected: variables come from shcfg.yaml servers:" in str(caught.value)


def test_an_escaped_reference_stays_literal(tmp_path: Path) -> None:
    write(tmp_path / "a.yaml", "version: 1\nserver: {hostname: '$${var:x}'}\n")
    assert load_manifests([tmp_path / "a.yaml"]).model.server.hostname == "${var:x}"


def test_an_overlay_adds_objects_and_sets_attributes_key_by_key(tmp_path: Path) -> None:
    write(tmp_path / "m/a.yaml", SHARED)
    write(
        tmp_path / "o/prod.yaml",
        """\
        version: 1
        server: {hostname: override.example.com}
        groups:
          - name: Helpdesk
            mfaSettings: {email: true}
            permissions: {canChat: false}
          - name: ${var:site} Local
        """,
    )
    loaded = load_manifests([tmp_path / "m"], overlays=[tmp_path / "o"], variables=PROD)
    helpdesk, local = loaded.model.groups
    assert loaded.model.server.hostname == "override.example.com"
    assert helpdesk.allowAnonymousLogins is False
    assert helpdesk.mfaSettings is not None
    assert (helpdesk.mfaSettings.app, helpdesk.mfaSettings.email) == (True, True)
    assert helpdesk.permissions == {"canRunTools": True, "canChat": False}
    assert local.name == "LON Local"


def test_twice_in_the_shared_set_or_in_two_overlays_stays_an_error(tmp_path: Path) -> None:
    shared = write(tmp_path / "m/a.yaml", SHARED)
    first = write(tmp_path / "o/1.yaml", "version: 1\ngroups:\n  - name: Helpdesk\n")
    second = write(tmp_path / "o/2.yaml", "version: 1\ngroups:\n  - name: Helpdesk\n")
    with pytest.raises(ManifestError) as caught:
        load_manifests([shared], overlays=[first, second], variables=PROD)
    assert f"{second}:3:5: group 'Helpdesk' already declared at {first}:3:5" in str(caught.value)
    with pytest.raises(ManifestError) as twice:
        load_manifests([shared, first], variables=PROD)
    assert f"already declared at {shared}:5:5" in str(twice.value)


def test_an_overlay_cannot_break_the_objects_schema(tmp_path: Path) -> None:
    shared = write(tmp_path / "m/a.yaml", SHARED)
    overlay = write(tmp_path / "o/1.yaml", "version: 1\ngroups:\n  - {name: Helpdesk, nope: 1}\n")
    with pytest.raises(ManifestError) as caught:
        load_manifests([shared], overlays=[overlay], variables=PROD)
    assert f"{overlay}:3:" in str(caught.value)
