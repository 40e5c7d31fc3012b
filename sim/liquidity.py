"""The dry-powder pool: the idle investable cash of outside investors, the marginal buyer (MODEL.md §2).

The pool W starts at W0 and fills with savings, recycled capex income, the part of reserve purchases
that becomes idle cash and cash released by rate cuts. Whoever buys what is sold in the model's
markets (new bonds, fund shares, forced sales) pays a share phi(W) = min(W / W*, 1)^rho of it from idle
cash (W* = ``dry_powder.ample_bn``) (:meth:`DryPowderPool.buyer_cash_share`) and the rest by selling other assets (crowding out:
flows in the same clearing). As the pool drains, buyers pay less from cash and sell more, and market
depth thins (the part of each market's depth that is idle cash, :mod:`sim.prices`): once the dry powder is gone, every dollar of
purchases comes out of another asset.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.config import Config
from sim.engine import fixed


def depletion(pool_bn: float, initial_bn: float) -> float:
    """x = 1 - W/W0: 0 at the start, 1 when the pool is empty, negative while it fills."""
    if initial_bn <= 0:
        return 1.0 if pool_bn <= 0 else 0.0
    return 1.0 - pool_bn / initial_bn


@dataclass(frozen=True)
class CostOfCapital:
    """Yields and spreads in decimals (0.042 = 4.2%), read off the bond prices (:mod:`sim.prices`)."""

    policy_rate: float
    term_premium: float        # the 10y yield less the policy rate
    ig_spread: float

    @property
    def ust10y(self) -> float:
        return self.policy_rate + self.term_premium


class DryPowderPool:
    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.initial_bn = cfg.dry_powder.initial_bn
        self.level_bn = cfg.dry_powder.initial_bn

    @property
    def x(self) -> float:
        return depletion(self.level_bn, self.initial_bn)

    def fill(self) -> float:
        """min(W / ample_bn, 1): how much of the idle cash markets run on is there."""
        return min(max(self.level_bn / self.cfg.dry_powder.ample_bn, 0.0), 1.0)


    def buyer_cash_share(self) -> float:
        """phi(W): the share of purchases buyers pay from idle cash, min(W / ample, 1)^rho (all of it
        with ``channels.crowding_out`` off: buyers never sell other assets to pay)."""
        if not self.cfg.channels.crowding_out:
            return 1.0
        fill = self.fill()
        return fixed.power(fill, self.cfg.dry_powder.buyer_cash_exponent) if fill > 0 else 0.0

    def take(self, amount_bn: float) -> float:
        """Withdraw up to ``amount_bn``; returns what the pool could give (never negative)."""
        got = min(max(amount_bn, 0.0), max(self.level_bn, 0.0))
        self.level_bn -= got
        return got

    def add(self, amount_bn: float) -> None:
        self.level_bn += max(amount_bn, 0.0)
