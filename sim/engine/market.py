"""Market clearing with price impact: the price arithmetic every cascade shares.

One clearing per asset per round: the round's net sales move the price once (order-independent),
every holder is re-marked at the new price, and sellers are paid at the execution price (by default
the mid-point of the old and the new price). Two impact laws:

* ``ImpactLaw.LINEAR`` (Greenwood, Landier & Thesmar 2015):      p_new = p * max(1 - lambda * q, 1e-6)
* ``ImpactLaw.EXPONENTIAL`` (Cifuentes, Ferrucci & Shin 2005):   p_new = p * exp(-lambda * q)

``q`` is the net quantity sold in the round (negative: net bought) and ``lambda`` the impact per
unit. The model's weekly markets use the exponential law with lambda_k = p_k / depth_k (selling
$depth moves the log price by one); the INET peers use lambda = beta / Q (market size in units).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from sim.engine import fixed


class ImpactLaw(StrEnum):
    LINEAR = "linear"
    EXPONENTIAL = "exponential"


class ExecutionPrice(StrEnum):
    """The price a round's sellers are paid: mid-point of old and new (default), the new or the old."""

    MID = "mid"
    NEW = "new"
    OLD = "old"


IMPACT_LAWS: tuple[str, ...] = tuple(law.value for law in ImpactLaw)

#: Prices never fall below this fraction of their pre-round level in one clearing (linear law).
MIN_PRICE_RATIO = 1e-6


@dataclass(frozen=True)
class Clearing:
    """Result of one clearing: prices before and after, and the execution (mid-point) prices."""

    old_prices: np.ndarray
    new_prices: np.ndarray
    execution_prices: np.ndarray

    @property
    def factor(self) -> np.ndarray:
        """p_new / p_old of each asset."""
        return self.new_prices / self.old_prices

    @property
    def returns(self) -> np.ndarray:
        """Simple price return of each asset in this clearing."""
        return self.factor - 1.0

    def paid(self, execution: ExecutionPrice = ExecutionPrice.MID) -> np.ndarray:
        """The prices sellers are paid under an ``execution`` rule."""
        if execution == ExecutionPrice.MID:
            return self.execution_prices
        return self.new_prices if execution == ExecutionPrice.NEW else self.old_prices


def impact_factor(quantity_sold: np.ndarray, impact_per_unit: np.ndarray, law: str = ImpactLaw.EXPONENTIAL
                  ) -> np.ndarray:
    """Ratio p_new / p_old for each asset given the net quantity sold (negative = net bought)."""
    q = np.asarray(quantity_sold, dtype=float)
    lam = np.asarray(impact_per_unit, dtype=float)
    if law == ImpactLaw.EXPONENTIAL:
        return fixed.exp(-lam * q)
    if law == ImpactLaw.LINEAR:
        return np.maximum(1.0 - lam * q, MIN_PRICE_RATIO)
    raise ValueError(f"unknown impact law {law!r}; allowed: {', '.join(IMPACT_LAWS)}")


def clear(prices: np.ndarray, quantity_sold: np.ndarray, impact_per_unit: np.ndarray,
          law: str = ImpactLaw.EXPONENTIAL) -> Clearing:
    """Clear one round: ``quantity_sold`` is either (K,) net totals or an (N, K) order book summed over N."""
    p_old = np.asarray(prices, dtype=float)
    q = np.asarray(quantity_sold, dtype=float)
    if q.ndim == 2:
        q = q.sum(axis=0)
    p_new = p_old * impact_factor(q, impact_per_unit, law)
    return Clearing(old_prices=p_old.copy(), new_prices=p_new, execution_prices=0.5 * (p_old + p_new))
