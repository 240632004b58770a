"""The one base class of every failure shcfg expects and reports to the user."""


class ShcfgError(Exception):
    """An expected failure: the CLI prints ``str(e)`` on one line and exits 1."""
