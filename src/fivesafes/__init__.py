"""fivesafes: use confidential data for statistics without leaking it."""

__version__ = "0.1.0"
