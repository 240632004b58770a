"""The bundled SimpleHelp API emulator (see docs/sandbox.md)."""

from reconciler.sandbox.config import Call, SandboxConfig
from reconciler.sandbox.errors import SandboxError, SeedError
from reconciler.sandbox.faults import FAULT_KINDS
from reconciler.sandbox.schema import PERMISSIONS
from reconciler.sandbox.server import Sandbox, run_sandbox

__all__ = [
    "FAULT_KINDS",
    "PERMISSIONS",
    "Call",
    "Sandbox",
    "SandboxConfig",
    "SandboxError",
    "SeedError",
    "run_sandbox",
]
