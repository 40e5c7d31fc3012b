"""Private-credit funds: lend to neoclouds and software companies, face redemptions with gates.

Quarterly redemption requests (MODEL.md §6.3), as a share of NAV:

    r = base + phi * max(0, -NAV return over the last quarter)

paid after a lag, at most ``gate`` of NAV per quarter; the fund pays from cash, then sells its
most liquid holdings first (Treasuries, then IG bonds). Loans cannot be sold: a request the fund
cannot meet stays queued and the gate binds.
"""

from __future__ import annotations

import numpy as np

from agents.base import Holder


class PrivateCreditFund(Holder):
    kind = "private_credit"

    def __init__(self, model, name: str):
        super().__init__(model, name)
        self.software_principal_bn = 0.0
        self.other_loans_bn = 0.0
        self.redemption_queue: list[tuple[int, int, float]] = []   # (due step, investor row or -1, value $bn)
        self.gated_quarters = 0
        self.gate_bound_this_quarter = False
        self.paid_this_quarter = 0.0


def redemption_request_share(nav_now: np.ndarray, nav_quarter_ago: np.ndarray, base: float,
                             sensitivity: float) -> np.ndarray:
    """Share of NAV investors ask back: a base rate plus phi times the quarter's loss."""
    ret = np.divide(nav_now, nav_quarter_ago, out=np.ones_like(nav_now), where=nav_quarter_ago > 0) - 1.0
    return np.clip(base + sensitivity * np.maximum(0.0, -ret), 0.0, 1.0)


def software_book_value(principal: float, saas_price: float, pd_slope: float, lgd: float) -> float:
    """Software loans marked to the saas index: expected loss rises as software equity falls."""
    loss_rate = min(1.0, pd_slope * max(0.0, 1.0 - saas_price)) * lgd
    return principal * (1.0 - loss_rate)
