"""Manifests: YAML files that declare the desired configuration of a SimpleHelp server."""

from reconciler.manifest.issues import Issue, Location, ManifestError
from reconciler.manifest.json_schema import manifest_json_schema
from reconciler.manifest.loader import LoadedManifest, load_manifests
from reconciler.manifest.models import (
    Group,
    Ignore,
    LdapSettings,
    Lifecycle,
    Machine,
    MachineGroup,
    Manifest,
    MfaSettings,
    Prune,
    Server,
    Technician,
)
from reconciler.manifest.secrets import SecretFileError, read_secret_file
from reconciler.manifest.validate import check_references

__all__ = [
    "Group",
    "Ignore",
    "Issue",
    "LdapSettings",
    "Lifecycle",
    "LoadedManifest",
    "Location",
    "Machine",
    "MachineGroup",
    "Manifest",
    "ManifestError",
    "MfaSettings",
    "Prune",
    "SecretFileError",
    "Server",
    "Technician",
    "check_references",
    "load_manifests",
    "manifest_json_schema",
    "read_secret_file",
]
