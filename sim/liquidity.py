"""Liquidity: the dry-powder pool and the cost of capital it sets.

The pool W is the idle investable cash of outside investors. Each week all funding demand clears
against it: A = min(F, W) is absorbed, the shortfall S = F - A must be raised by rotating out of
other assets (crowding out) or is not raised at all. Depletion x = 1 - W / W0 raises the term
premium and the IG spread convexly:

    h(x)  = max(x, 0)^gamma / (1 - max(x, 0) + eps)           (depletion pressure)
    tp    = tp0 + a_tp * h(x) + b_tp * S_ann                    (term premium)
    s     = s0 + a_s * h(x) + b_s * S_ann + c_s * credit_loss   (IG spread)

with S_ann an exponential moving average of the annualised shortfall in $tn/yr. See MODEL.md §2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import Config
from sim.engine import fixed

WEEKS_PER_YEAR = 52.0


def depletion(pool_bn: float, initial_bn: float) -> float:
    """x = 1 - W/W0: 0 at the start, 1 when the pool is empty, negative while it fills."""
    if initial_bn <= 0:
        return 1.0 if pool_bn <= 0 else 0.0
    return 1.0 - pool_bn / initial_bn


def pressure(x: float, gamma: float, eps: float) -> float:
    """Convex depletion pressure h(x); zero while the pool is at or above its starting size."""
    xp = min(max(x, 0.0), 1.0)
    return fixed.power(xp, gamma) / (1.0 - xp + eps)


def signed_pressure(x: float, gamma: float, eps: float) -> float:
    """Pressure that also turns negative while the pool fills (the articles' symmetry): used for the
    liquidity beta of speculative assets, which gain when capital is abundant."""
    if x >= 0:
        return pressure(x, gamma, eps)
    return -fixed.power(min(-x, 1.0), gamma)


def absorb(demand_bn: np.ndarray, pool_bn: float) -> tuple[np.ndarray, float]:
    """Pro-rata absorption of funding requests by the pool: returns (absorbed per request, shortfall)."""
    demand = np.asarray(demand_bn, dtype=float)
    total = float(np.add.reduce(demand))
    if total <= 0:
        return np.zeros_like(demand), 0.0
    absorbed_total = min(total, max(pool_bn, 0.0))
    return demand * (absorbed_total / total), total - absorbed_total


@dataclass
class CostOfCapital:
    """Yields and spreads in decimals (0.042 = 4.2%)."""

    policy_rate: float
    term_premium: float
    ig_spread: float

    @property
    def ust10y(self) -> float:
        return self.policy_rate + self.term_premium


class DryPowderPool:
    """The pool and the cost of capital: state plus the update rules of MODEL.md §2."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.initial_bn = cfg.dry_powder.initial_bn
        self.level_bn = cfg.dry_powder.initial_bn
        r = cfg.rates
        cb = cfg.central_bank
        self.tp0 = r.ust10y_pct / 100 - cb.policy_rate_pct / 100
        self.s0 = r.ig_spread_bp / 1e4
        self.shortfall_ema_tn = 0.0
        self.coc = CostOfCapital(cb.policy_rate_pct / 100, self.tp0, self.s0)
        self.y0 = self.coc.ust10y          # the 10y yield at t=0 (valuations move with its rise)

    @property
    def x(self) -> float:
        return depletion(self.level_bn, self.initial_bn)

    def h(self) -> float:
        dp = self.cfg.dry_powder
        return pressure(self.x, dp.gamma, dp.eps)

    def depth_multiplier(self) -> float:
        """Market depth shrinks linearly as the pool empties (liquidity evaporates)."""
        xp = min(max(self.x, 0.0), 1.0)
        return 1.0 - self.cfg.dry_powder.depth_loss_at_exhaustion * xp

    def take(self, amount_bn: float) -> float:
        """Withdraw up to ``amount_bn``; returns what the pool could give (never negative)."""
        got = min(max(amount_bn, 0.0), max(self.level_bn, 0.0))
        self.level_bn -= got
        return got

    def add(self, amount_bn: float) -> None:
        self.level_bn += max(amount_bn, 0.0)

    def update_cost_of_capital(self, policy_rate: float, shortfall_bn_week: float, credit_loss_share: float) -> CostOfCapital:
        r = self.cfg.rates
        alpha = 1.0 / r.shortfall_memory_weeks
        annual_tn = shortfall_bn_week * WEEKS_PER_YEAR / 1000.0
        self.shortfall_ema_tn = (1 - alpha) * self.shortfall_ema_tn + alpha * annual_tn
        h = self.h()
        tp = self.tp0 + (r.term_premium_per_pressure_bp * h + r.term_premium_per_shortfall_bp_per_tn * self.shortfall_ema_tn) / 1e4
        s = self.s0 + (r.spread_per_pressure_bp * h + r.spread_per_shortfall_bp_per_tn * self.shortfall_ema_tn
                       + r.spread_per_credit_loss_bp * credit_loss_share) / 1e4
        self.coc = CostOfCapital(policy_rate, tp, s)
        return self.coc
