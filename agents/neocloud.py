"""Neoclouds: rent GPUs, borrow against them from private-credit funds, live by their covenant.

Covenant (MODEL.md §6.2): loan L, fleet of u units of used-GPU capacity at price P,

    haircut(P) = slope * max(0, 1 - P / P_ref)
    LTV        = L / (u * P * (1 - haircut))         breach when LTV > advance rate + headroom

A breach is cured with cash at once, then by selling GPUs into the used-GPU market, spread over a
waiver period of ``cure_weeks``; a neocloud whose loan exceeds its fleet's market value (LTV > 1
before haircut), or that could not cure even by selling the whole fleet, defaults and its lenders
seize and liquidate the fleet.
"""

from __future__ import annotations

import numpy as np

from agents.base import Holder


class Neocloud(Holder):
    kind = "neocloud"

    def __init__(self, model, name: str):
        super().__init__(model, name)
        self.covenant_breaches = 0


def haircut(price: float, reference_price: float, slope: float) -> float:
    """Haircut that widens as the used-GPU price falls below its level at origination."""
    return slope * max(0.0, 1.0 - price / reference_price)


def loan_to_value(loan: np.ndarray, units: np.ndarray, price: float, hc: float) -> np.ndarray:
    """LTV on haircut collateral; infinite where nothing is pledged but a loan is owed."""
    collateral = units * (price * (1.0 - hc))
    # as sim.arrays.divide_where_positive, whose fill would have to be built every call (0.7% of a run)
    if np.logical_and.reduce(collateral > 0, axis=None):     # the usual case: a plain divide (same numbers)
        return np.divide(loan, collateral)
    return np.divide(loan, collateral, out=np.where(loan > 0, np.inf, 0.0), where=collateral > 0)


def cure_amounts(loan: np.ndarray, units: np.ndarray, cash: np.ndarray, price: float, hc: float,
                 ltv_max: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How a breach is cured: (cash prepayment, GPU units to sell, cannot-cure mask).

    Prepaying c lowers L; selling s units at price P and prepaying with the proceeds lowers L by
    s*P and collateral by s*P*(1-hc). To restore L' <= tau * u' * P with tau = ltv_max * (1 - hc):
    first cash, then units s = (L - c - tau*u*P) / (P * (1 - tau)).
    """
    tau = ltv_max * (1.0 - hc)
    excess = np.maximum(loan - tau * units * price, 0.0)
    prepay = np.minimum(cash, excess)
    still = excess - prepay
    denom = np.broadcast_to(price * (1.0 - tau), still.shape)
    sell = np.where(denom > 0, still / np.where(denom > 0, denom, 1.0), np.where(still > 0, np.inf, 0.0))
    cannot = sell > units + 1e-12
    return prepay, np.minimum(sell, units), cannot
