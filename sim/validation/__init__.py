"""Validation against published peers, each reproduced with the model's own engine.

* :mod:`sim.validation.firesale`: the Oxford INET fire-sale stress test (one channel, 48 banks).
"""

from sim.validation.firesale import *  # noqa: F401,F403
from sim.validation.firesale import __all__ as _firesale_all

__all__ = list(_firesale_all)
