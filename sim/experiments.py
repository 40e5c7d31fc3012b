"""Experiments at scale (Monte Carlo, sweeps, sensitivity): being built; see issue 'Experiments at scale'."""

COMMANDS: dict = {}


def add_parsers(sub, **_types) -> None:
    """Register the experiment subcommands (none yet)."""
