"""Validation against published peers, each reproduced with the model's own engine.

* :mod:`sim.validation.firesale`: the Oxford INET fire-sale stress test (one channel, 48 banks).
* :mod:`sim.validation.system_wide`: the Oxford INET system-wide stress test (banks, hedge funds,
  asset managers; four contagion channels).
"""

from sim.validation.firesale import *  # noqa: F401,F403
from sim.validation.firesale import __all__ as _firesale_all
from sim.validation.system_wide import (Crediting, PeerConfig, SystemWideRun, inet_system_wide,
                                        validate_system_wide)

__all__ = list(_firesale_all) + ["Crediting", "PeerConfig", "SystemWideRun", "inet_system_wide",
                                 "validate_system_wide"]
