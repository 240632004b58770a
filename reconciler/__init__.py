"""shcfg: configuration-as-code for SimpleHelp servers."""

__version__ = "0.1.0"
