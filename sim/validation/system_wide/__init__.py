"""The Oxford INET system-wide stress test (Farmer, Kleinnijenhuis, Nahai-Williamson & Wetzer 2020,
BoE SWP 861), reproduced on the cascade engine: banks, hedge funds and asset managers; overlapping
portfolios, interbank exposures, funding runs and repo margin calls, each switchable.

:func:`inet_system_wide` runs one configuration on one seed; :func:`validate_system_wide` runs the
peer's experiments FF10 and FF11 and compares every point with the peer's own runs. README.md in
this folder maps each module to the sections of the peer's specification.
"""

from sim.validation.system_wide.config import PeerConfig
from sim.validation.system_wide.config import Crediting
from sim.validation.system_wide.experiments import ff10_config, ff11_config
from sim.validation.system_wide.system_wide import SystemWideRun, economy_for, inet_system_wide, run_chain
from sim.validation.system_wide.validate import validate_system_wide

__all__ = ["Crediting", "PeerConfig", "SystemWideRun", "economy_for", "ff10_config", "ff11_config",
           "inet_system_wide", "run_chain", "validate_system_wide"]
