"""Neoclouds: rent GPUs, borrow against them from private-credit funds, live by their covenant.

Covenant (MODEL.md §6.2): loan L, fleet of u units of used-GPU capacity at price P,

    haircut(P) = slope * max(0, 1 - P / P_ref)
    LTV        = L / (u * P * (1 - haircut))         breach when LTV > ltv_max

A breach is cured with cash, then by selling GPUs into the used-GPU market, else the neocloud
defaults and its lenders seize and liquidate the fleet.
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
    collateral = units * price * (1.0 - hc)
    with np.errstate(divide="ignore", invalid="ignore"):
        ltv = np.where(collateral > 0, loan / np.where(collateral > 0, collateral, 1.0), np.where(loan > 0, np.inf, 0.0))
    return ltv


def cure_amounts(loan: np.ndarray, units: np.ndarray, cash: np.ndarray, price: float, hc: float,
                 ltv_max: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How a breach is cured: (cash prepayment, GPU units to sell, cannot-cure mask).

    Prepaying c lowers L; selling s units at price P and prepaying with the proceeds lowers L by
    s*P and collateral by s*P*(1-hc). To restore L' <= tau * u' * P with tau = ltv_max * (1 - hc):
    first cash, then units s = (L - c - tau*u*P) / (P * (1 - tau)).
    """
    tau = ltv_max * (1.0 - hc)
    excess = np.maximum(loan - tau * units * price, 0.0)
    prepay = np.minimum(cash, excess)
    still = excess - prepay
    denom = price * (1.0 - tau)
    sell = np.divide(still, denom, out=np.zeros_like(still), where=denom > 0) if denom > 0 else np.where(still > 0, np.inf, 0.0)
    cannot = sell > units + 1e-12
    return prepay, np.minimum(sell, units), cannot
