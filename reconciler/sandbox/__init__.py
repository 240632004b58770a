"""The bundled SimpleHelp API emulator (see docs/sandbox.md)."""

from reconciler.sandbox.config import Call, SandboxConfig
from reconciler.sandbox.errors import SandboxError, SeedError
from reconciler.sandbox.faults import FAULT_KINDS
from reconciler.sandbox.readings import ALL_READINGS, READINGS
from reconciler.sandbox.schema import PERMISSIONS
from reconciler.sandbox.server import Sandbox, run_sandbox

__all__ = [
    "ALL_READINGS",
    "FAULT_KINDS",
    "PERMISSIONS",
    "READINGS",
    "Call",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SeedError",
    "run_sandbox",
]
