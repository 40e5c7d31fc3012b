"""The central bank as a policy actor: a rate path, reserve-management purchases and, when asked
(``central_bank.backstop``), a duration backstop that buys what the pool cannot absorb and keeps
depletion below a cap. Its purchases are the price of independence (MODEL.md §7)."""

from __future__ import annotations

import mesa

from sim.config import CentralBankConfig


class CentralBank(mesa.Agent):
    kind = "central_bank"

    def __init__(self, model, params: CentralBankConfig):
        super().__init__(model)
        self.name = "Central bank"
        self.params = params
        self.purchases_bn = 0.0        # backstop purchases (balance-sheet expansion)
        self.reserve_purchases_bn = 0.0

    def policy_rate(self, t_years: float) -> float:
        """Policy rate (decimal) along the announced path, not below the floor (or above for hikes)."""
        p = self.params
        start = p.policy_rate_pct / 100
        path = start - p.cuts_bp_per_yr / 1e4 * t_years
        floor = p.policy_floor_pct / 100
        return max(path, min(floor, start)) if p.cuts_bp_per_yr >= 0 else path
