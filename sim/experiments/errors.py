"""The error of a bad experiment spec or option."""

from __future__ import annotations

from sim.config import ConfigError


class SpecError(ConfigError):
    """A bad experiment spec or experiment option (exit status 2, message shown as is)."""
