"""Sums in the peer's order and arithmetic, so that knife-edge comparisons come out as in the peer.

Some of the peer's tests compare quantities that are equal by design: a hedge fund sells exactly what
next step's margin call will ask, at an unmoved price, and the call then compares the cash raised
with the principal, without tolerance. Which side wins is decided by rounding, so a faithful run
must add the same numbers in the same order with the same algorithm. The peer adds left to right,
both in its own loops and through Python's ``sum()`` (its runs predate Python 3.12, whose ``sum()``
of floats compensates rounding: the peer's hedge-fund defaults under "C alone", 22.1 a run, are
reproduced with plain left-to-right sums and not with compensated ones).

Securities are added in the peer's ledger order (:data:`.universe.LEDGER_ORDER`).
"""

from __future__ import annotations

from functools import reduce
from operator import add
from typing import Iterable

import numpy as np


def ledger_sum(values: np.ndarray) -> float:
    """Left-to-right sum from 0.0 of an array (``np.add.accumulate`` is strictly sequential)."""
    if len(values) == 0:
        return 0.0
    return float(np.add.accumulate(values)[-1])


def peer_sum(values: Iterable[float]) -> float:
    """Left-to-right sum of any iterable of numbers (never compensated)."""
    return reduce(add, values, 0.0)
