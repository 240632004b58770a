"""Loading manifests: the full shape, positions of every error, merge, directories."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reconciler.errors import ShcfgError
from reconciler.manifest import Location, ManifestError, load_manifests
from tests.manifest.conftest import WriteFn

FULL = r"""
version: 1
server:
  hostname: support.example.com
  techRestrictions:
    - '10\.0\..*'
  keepAccessFrom: [10.0.0.1, "::1"]
groups:
  - name: Helpdesk
    allowAnonymousLogins: false
    max_groupShSessions: 10
    max_groupSgSessions: 11
    max_userShSessions: 2
    max_userSgSessions: 3
    sessionSpeedLimitKbps: 0
    maxFileSize: 104857600
    requestAccessTimeout: 30000
    fpsDelay: 40
    groupSpecificHostname: help.example.com
    defaultSgServiceName: svc
    videoPassword: video
    ldapSettings:
      enabled: false
      advanced: true
      baseDN: dc=example,dc=com
      filter: (objectClass=person)
      memberOfGroups: [staff]
    mfaSettings:
      email: false
      app: true
      rememberMachine: true
      emailCodeLength: 6
      emailSubject: Your code
      emailBody: Code is here
    passwordSettings: {allowed: true, policy: strong}
    permissions: {canRunTools: true}
    password: grouppw
    lifecycle: {preventDestroy: true}
  - name: Tier2
    renamedFrom: Level2
technicians:
  - username: alice
    renamedFrom: asmith
    displayName: Alice Smith
    emailAddress: alice@example.com
    enabled: true
    allowLocallyAuthenticatedLogins: true
    groups: [Helpdesk]
    password: alicepw
    lifecycle: {preventDestroy: false}
machines:
  - machineID: SG_1234
    monitoring: true
    notes: Front desk PC
    warnings: Do not reboot during opening hours
    properties: {License: ABC-123}
    lifecycle: {preventDestroy: true}
machineGroups:
  - path: [United Kingdom, London]
    properties: {site: LON}
prune:
  technicians: true
  groups: true
  techRestrictions: true
  machineProperties: false
ignore:
  technicians: [admin, "svc-*"]
  groups: [Legacy*]
  machines: ["SG_9*"]
  machineGroups: ["Test/*"]
"""


def errors_of(paths: list[Path], **kwargs: bool) -> list[str]:
    with pytest.raises(ManifestError) as info:
        load_manifests(paths, **kwargs)
    assert str(info.value) == "\n".join(str(i) for i in info.value.issues)
    return [str(issue) for issue in info.value.issues]


def test_full_manifest_loads_every_attribute(write: WriteFn) -> None:
    path = write("full.yaml", FULL)
    loaded = load_manifests([path])
    model = loaded.model
    assert model.server.hostname == "support.example.com"
    assert model.server.techRestrictions == [r"10\.0\..*"]
    assert model.server.keepAccessFrom == ["10.0.0.1", "::1"]
    group = model.groups[0]
    assert group.max_userSgSessions == 3
    assert group.ldapSettings is not None and group.ldapSettings.memberOfGroups == ["staff"]
    assert group.mfaSettings is not None and group.mfaSettings.emailCodeLength == 6
    assert group.passwordSettings == {"allowed": True, "policy": "strong"}
    assert group.password is not None and group.password.get_secret_value() == "grouppw"
    assert group.videoPassword is not None and group.videoPassword.get_secret_value() == "video"
    assert group.lifecycle is not None and group.lifecycle.preventDestroy is True
    assert model.groups[1].renamedFrom == "Level2"
    tech = model.technicians[0]
    assert (tech.username, tech.groups, tech.enabled) == ("alice", ["Helpdesk"], True)
    assert model.machines[0].properties == {"License": "ABC-123"}
    assert model.machineGroups[0].path == ["United Kingdom", "London"]
    assert model.prune.technicians and not model.prune.machineProperties
    assert model.ignore.technicians == ["admin", "svc-*"]
    assert loaded.files == [str(path)]
    name = str(path)
    assert loaded.locations[("groups", "Helpdesk")] == Location(name, 8, 5)
    assert loaded.locations[("technicians", "alice")] == Location(name, 41, 5)
    assert loaded.locations[("machines", "SG_1234")] == Location(name, 51, 5)
    assert loaded.locations[("machineGroups", "United Kingdom/London")] == Location(name, 58, 5)
    assert loaded.locations[("server", "hostname")] == Location(name, 3, 3)
    assert loaded.locations[("techRestrictions", r"10\.0\..*")] == Location(name, 5, 7)
    assert loaded.locations[("server", "keepAccessFrom")] == Location(name, 6, 3)


def test_location_and_issue_formatting() -> None:
    assert str(Location("a.yaml", 3, 5)) == "a.yaml:3:5"
    assert issubclass(ManifestError, ShcfgError)


def test_type_errors_point_at_the_value(write: WriteFn) -> None:
    path = write(
        "t.yaml",
        """
        version: 1
        technicians:
          - username: a
          - username: b
          - username: c
            enabled: "yes"
        groups:
          - name: g
            maxFileSize: true
            max_groupShSessions: -1
        """,
    )
    assert errors_of([path]) == [
        f"{path}:6:14: technicians[2].enabled: Input should be a valid boolean",
        f"{path}:9:18: groups[0].maxFileSize: Input should be a valid integer",
        f"{path}:10:26: groups[0].max_groupShSessions: Input should be greater than or equal to 0",
    ]


def test_unknown_and_missing_fields_point_at_the_key(write: WriteFn) -> None:
    path = write(
        "u.yaml",
        """
        version: 1
        technicians:
          - displayName: x
            colour: red
        """,
    )
    assert errors_of([path]) == [
        f"{path}:3:5: technicians[0].username: Field required",
        f"{path}:4:5: technicians[0].colour: unknown attribute",
    ]


def test_version_is_required_in_each_document(write: WriteFn) -> None:
    path = write("v.yaml", "version: 1\n---\ngroups: []\n---\nversion: true\n")
    assert errors_of([path]) == [
        f"{path}:3:1: version: Field required",
        f"{path}:5:10: version: Input should be 1",
    ]


def test_set_like_lists_refuse_duplicates(write: WriteFn) -> None:
    path = write(
        "d.yaml",
        """
        version: 1
        server:
          techRestrictions: [a, a]
          keepAccessFrom: [not-an-ip]
        technicians:
          - username: x
            groups: [g, g]
        """,
    )
    assert errors_of([path]) == [
        f"{path}:3:21: server.techRestrictions: duplicate tech restriction 'a'",
        f"{path}:4:19: server.keepAccessFrom: 'not-an-ip' is not an IP address",
        f"{path}:7:13: technicians[0].groups: duplicate group 'g'",
    ]


def test_empty_identities_and_paths_are_refused(write: WriteFn) -> None:
    path = write(
        "e.yaml",
        """
        version: 1
        groups: [{name: ""}]
        machineGroups:
          - path: []
          - path: [a, ""]
        """,
    )
    errors = errors_of([path])
    assert errors[0].startswith(f"{path}:2:17: groups[0].name: String should have at least 1")
    assert errors[1].startswith(f"{path}:4:11: machineGroups[0].path: List should have at least")
    assert errors[2].startswith(f"{path}:5:15: machineGroups[1].path[1]: String should have")


def test_duplicate_key(write: WriteFn) -> None:
    path = write("k.yaml", "version: 1\ngroups: []\ngroups: []\n")
    assert errors_of([path]) == [f"{path}:3:1: duplicate key 'groups'"]


def test_yaml_syntax_error(write: WriteFn) -> None:
    path = write("s.yaml", "version: 1\ngroups: [a\n")
    [error] = errors_of([path])
    assert error.startswith(f"{path}:3:1: ")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"version: 1\n\xff\xfe")
    assert errors_of([path]) == [f"{path}:2:1: not valid UTF-8 text"]


def test_document_must_be_a_mapping(write: WriteFn) -> None:
    path = write("m.yaml", "- version: 1\n")
    assert errors_of([path]) == [f"{path}:1:1: a manifest document must be a mapping"]


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    missing = tmp_path / "nope.yaml"
    assert errors_of([missing, empty]) == [
        f"{missing}: no such file or directory",
        f"{empty}: no *.yaml or *.yml files in this directory",
    ]


def test_only_empty_documents(write: WriteFn) -> None:
    path = write("c.yaml", "# nothing yet\n")
    assert errors_of([path]) == [f"{path}:1:1: no manifest documents (expected 'version: 1')"]


def test_directory_is_read_recursively_and_sorted(write: WriteFn, tmp_path: Path) -> None:
    write("b/techs.yml", "version: 1\ntechnicians: [{username: bob}]\n")
    write("a.yaml", "version: 1\ntechnicians: [{username: alice}]\n")
    write("b/ignored.txt", "not yaml: [")
    loaded = load_manifests([tmp_path])
    assert [t.username for t in loaded.model.technicians] == ["alice", "bob"]
    assert loaded.files == [str(tmp_path / "a.yaml"), str(tmp_path / "b/techs.yml")]


def test_directories_skip_dot_directories_and_dot_files(write: WriteFn, tmp_path: Path) -> None:
    write(".github/workflows/ci.yaml", "on: push\n")
    write(".pre-commit-config.yaml", "repos: []\n")
    write("sub/.hidden/x.yml", "nope: [\n")
    write("sub/.draft.yaml", "nope: [\n")
    write("z.yaml", "version: 1\ngroups: [{name: z}]\n")
    write("sub/a.yml", "version: 1\ngroups: [{name: a}]\n")
    dot = write(".explicit.yaml", "version: 1\ngroups: [{name: dot}]\n")
    loaded = load_manifests([tmp_path, dot])
    assert loaded.files == [str(tmp_path / "sub/a.yml"), str(tmp_path / "z.yaml"), str(dot)]
    assert [g.name for g in loaded.model.groups] == ["a", "z", "dot"]


def test_files_lists_every_file_read_in_order(write: WriteFn, tmp_path: Path) -> None:
    empty = write("b/empty.yaml", "# nothing yet\n")
    second = write("b/techs.yaml", "version: 1\ntechnicians: [{username: bob}]\n")
    first = write("first.yaml", "version: 1\n")
    loaded = load_manifests([first, tmp_path / "b", first])
    assert loaded.files == [str(first), str(empty), str(second)]


def test_a_special_file_named_explicitly_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    assert errors_of([tmp_path / "pipe.yaml"]) == [
        f"{tmp_path / 'pipe.yaml'}: not a regular file or a directory"
    ]


def test_same_file_twice_is_loaded_once(write: WriteFn, tmp_path: Path) -> None:
    path = write("a.yaml", "version: 1\ngroups: [{name: g}]\n")
    loaded = load_manifests([path, tmp_path])
    assert len(loaded.model.groups) == 1


def test_multi_document_merge(write: WriteFn) -> None:
    path = write(
        "multi.yaml",
        """
        version: 1
        server: {hostname: h.example.com, techRestrictions: [a]}
        groups: [{name: g1}]
        prune: {groups: true}
        ---
        version: 1
        server: {techRestrictions: [b]}
        groups: [{name: g2}]
        prune: {groups: true, technicians: true}
        ignore: {machines: [x*]}
        """,
    )
    model = load_manifests([path]).model
    assert [g.name for g in model.groups] == ["g1", "g2"]
    assert model.server.hostname == "h.example.com"
    assert model.server.techRestrictions == ["a", "b"]
    assert model.server.keepAccessFrom is None
    assert model.prune.groups and model.prune.technicians and not model.prune.techRestrictions
    assert model.ignore.machines == ["x*"]


def test_duplicates_across_files_name_both_places(write: WriteFn) -> None:
    a = write(
        "a.yaml",
        """
        version: 1
        server:
          hostname: one
          techRestrictions: [r]
        technicians:
          - username: alice
        machineGroups:
          - path: [UK, London]
        prune: {groups: true}
        """,
    )
    b = write(
        "b.yaml",
        """
        version: 1
        server:
          hostname: two
          techRestrictions: [r]
        technicians:
          - username: alice
        machineGroups:
          - path: [UK, London]
        prune: {groups: false}
        """,
    )
    assert errors_of([a, b]) == [
        f"{b}:3:3: server.hostname already declared at {a}:3:3",
        f"{b}:4:22: tech restriction 'r' already declared at {a}:4:22",
        f"{b}:6:5: technician 'alice' already declared at {a}:6:5",
        f"{b}:8:5: machine group 'UK/London' already declared at {a}:8:5",
        f"{b}:9:9: prune.groups already set differently at {a}:9:9",
    ]


def test_yaml_features_are_plain_data(write: WriteFn) -> None:
    path = write(
        "f.yaml",
        """
        version: 1
        groups:
          - &base {name: a, allowAnonymousLogins: &no false}
          - <<: *base
            name: b
            permissions: {canRunTools: *no}
        machines:
          - machineID: m
            notes: !custom tagged
        """,
    )
    model = load_manifests([path]).model
    assert model.groups[1].allowAnonymousLogins is False
    assert model.groups[1].permissions == {"canRunTools": False}
    assert model.machines[0].notes == "tagged"


def test_timestamps_and_floats_are_not_strings(write: WriteFn) -> None:
    path = write("ts.yaml", "version: 1\nmachines: [{machineID: m, notes: 2020-01-01}]\n")
    assert errors_of([path]) == [f"{path}:2:34: machines[0].notes: Input should be a valid string"]


def test_union_errors_are_one_issue(write: WriteFn) -> None:
    path = write("p.yaml", "version: 1\ngroups: [{name: g, passwordSettings: {x: 1}}]\n")
    [error] = errors_of([path])
    assert error.startswith(f"{path}:2:42: groups[0].passwordSettings.x: Input should be")
    assert "valid boolean" in error and "valid string" in error


def test_alias_bomb_is_refused_fast(write: WriteFn) -> None:
    lines = ["version: 1", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    path = write("bomb.yaml", "\n".join(lines) + "\n")
    started = time.monotonic()
    assert errors_of([path]) == [f"{path}:1:1: document too large after alias expansion"]
    assert time.monotonic() - started < 2


def test_big_manifests_without_aliases_load(tmp_path: Path) -> None:
    """An export of a bench-size server: only what aliases add counts against the limit."""
    machines = tmp_path / "machines.yaml"
    machines.write_text(
        "version: 1\nmachines:\n"
        + "".join(
            f"  - machineID: SG_{i:05}\n    monitoring: true\n    notes: Desk {i}\n"
            f"    properties: {{License: WIN-{i:05}, AssetTag: A-{i}}}\n"
            for i in range(10_000)
        ),
        encoding="utf-8",
    )
    technicians = tmp_path / "technicians.yaml"
    technicians.write_text(
        "version: 1\ntechnicians:\n"
        + "".join(
            f"  - username: technician-{i:05}\n    displayName: Technician Number {i:05}\n"
            f"    emailAddress: technician-{i:05}@example.com\n    enabled: true\n"
            for i in range(20_000)
        ),
        encoding="utf-8",
    )
    assert technicians.stat().st_size > 1_700_000
    loaded = load_manifests([machines, technicians])
    assert (len(loaded.model.machines), len(loaded.model.technicians)) == (10_000, 20_000)


def test_aliases_under_the_limit_load(write: WriteFn) -> None:
    perms = "{" + ", ".join(f"p{i}: true" for i in range(50)) + "}"
    groups = "".join(f"  - {{name: g{i}, permissions: *p}}\n" for i in range(1, 900))
    path = write(
        "shared.yaml", f"version: 1\ngroups:\n  - {{name: g0, permissions: &p {perms}}}\n{groups}"
    )
    assert len(load_manifests([path]).model.groups) == 900


def test_deep_nesting_is_refused(write: WriteFn) -> None:
    shallow = write("deep.yaml", "version: 1\nx: " + "[" * 80 + "]" * 80 + "\n")
    assert errors_of([shallow]) == [f"{shallow}:1:1: document nested deeper than 64 levels"]
    very = write("deeper.yaml", "x: " + "[" * 5000 + "]" * 5000 + "\n")
    assert errors_of([very]) == [f"{very}:1:260: document nested too deeply"]
    blocks = write("blocks.yaml", "- " * 2000 + "a\n")
    assert errors_of([blocks]) == [f"{blocks}:1:1: YAML nested too deeply"]


def test_split_distinguished_name_warns(write: WriteFn) -> None:
    path = write(
        "dn.yaml",
        """
        version: 1
        groups:
          - name: Field
            ldapSettings:
              memberOfGroups: [cn=field,ou=groups,dc=example,dc=com]
          - name: Quoted
            ldapSettings:
              memberOfGroups: ["cn=field,ou=groups,dc=example,dc=com", cn=solo, staff]
        """,
    )
    loaded = load_manifests([path])
    assert loaded.model.groups[0].ldapSettings is not None
    assert len(loaded.model.groups[0].ldapSettings.memberOfGroups or []) == 4
    assert [str(w) for w in loaded.warnings] == [
        f"{path}:5:24: groups[0].ldapSettings.memberOfGroups[0]: items 'cn=field', 'ou=groups'… "
        "look like one LDAP distinguished name split at its commas; quote the whole DN: "
        "['cn=...,ou=...,dc=...']"
    ]


def test_the_example_organisation_loads_without_warnings() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples" / "org"
    loaded = load_manifests([examples], resolve_secrets=False)
    assert loaded.warnings == []
    field = next(g for g in loaded.model.groups if g.name == "Field Engineers")
    assert field.ldapSettings is not None
    assert field.ldapSettings.memberOfGroups == ["cn=field,ou=groups,dc=example,dc=com"]
