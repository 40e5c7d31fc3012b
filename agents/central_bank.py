"""The central bank as a policy actor (MODEL.md §7): a rate path, reserve-management purchases and,
when asked (``central_bank.backstop``), a duration backstop that buys what the pool cannot absorb and
keeps depletion below a cap. Its purchases are the price of independence."""

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

    def policy_rate(self, t_years: float) -> float:
        """Policy rate (decimal) along the announced path, not below the floor (or above for hikes)."""
        p = self.params
        start = p.policy_rate_pct / 100
        path = start - p.cuts_bp_per_yr / 1e4 * t_years
        floor = p.policy_floor_pct / 100
        return max(path, min(floor, start)) if p.cuts_bp_per_yr >= 0 else path

    def reserve_purchases_into_pool(self, dt: float) -> float:
        """The part of this week's reserve-management bill purchases that ends up as dry powder, $bn."""
        p = self.params
        return p.reserve_purchases_bn_per_month * 12 * dt * p.reserve_purchases_pool_share

    def cap_depletion(self, pool, book) -> None:
        """With the backstop on, buy duration from the pool's holders whenever depletion would exceed
        ``backstop_max_depletion`` (before pricing and again after the cascade)."""
        p = self.params
        if not p.backstop:
            return
        floor = (1.0 - p.backstop_max_depletion) * pool.initial_bn
        top_up = max(floor - pool.level_bn, 0.0)
        if top_up > 0:
            pool.add(top_up)
            book.record(top_up, "central_bank_purchases")
            self.purchases_bn += top_up
