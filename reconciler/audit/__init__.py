"""Security posture: `shcfg audit` findings and the manifests' `policy:` (docs/audit.md).

Kept free of imports: the manifest models import ``reconciler.audit.policy_model``, and
that must not pull in the rest of the package (which itself imports the manifests).
"""
