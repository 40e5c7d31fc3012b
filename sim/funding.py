"""The week's funding (MODEL.md §2, §4): inflows into the pool, then every request.

Hyperscaler bonds are sold into the IG market in round 0 of the cascade (:meth:`WeeklyCascade.issue`):
supply meets demand there, buyers pay a share of it from idle cash and sell other assets for the rest,
and the price concession is the spread's rise. Private raises (AI-lab venture rounds, private-credit
fund raising) are commitments of idle cash: each gets the share of its request that buyers pay from
the pool, phi(W); the rest is not raised this week (risk capital dries up first).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.domain import ASSETS


class FundingRequest(NamedTuple):
    row: int
    amount_bn: float
    channel: str          # "bonds", "venture" or "fundraising"


class FundingWeek(NamedTuple):
    """What the week's funding did, $bn."""

    demand_bn: float      # everything asked for (bonds at the amount sought)
    absorbed_bn: float    # raised
    shortfall_bn: float   # private raises the pool did not fund


def crowding_weights(cfg) -> np.ndarray:
    """Share of each asset that buyers without idle cash sell (``dry_powder.crowding_out_weights``)."""
    w = cfg.dry_powder.crowding_out_weights
    cw = np.array([w.get(a, 0.0) for a in ASSETS])
    return cw / cw.sum() if cw.sum() > 0 else cw


def pool_inflows(model) -> None:
    """The week's inflows into the pool: savings, recycled capex, reserve purchases, rate-cut release."""
    c, pool, dt = model.cfg, model.pool, model.dt
    dp = c.dry_powder
    inflow = dp.savings_inflow_bn_per_yr * dt
    inflow += dp.recycle_share * model.hyperscalers.capex_realized_bn
    rmp = model.central_bank.reserve_purchases_into_pool(dt)
    cut = max(c.central_bank.policy_rate_pct / 100 - model.world.policy_rate, 0.0) * 100
    inflow += rmp + dp.rate_cut_release_bn_per_pct * cut * dt
    pool.add(inflow)
    model.book.record(inflow, "pool_inflows")


def clear_funding(model, requests: list[FundingRequest]) -> FundingWeek:
    """Inflows, then the requests: bonds go to the market (round 0), private raises get phi(W) of what
    they ask from the pool. The central bank's backstop tops the pool up to its floor."""
    b, pool = model.book, model.pool
    pool_inflows(model)
    model.central_bank.cap_depletion(pool, b)
    phi = pool.buyer_cash_share()
    demand = shortfall = 0.0
    raised_rows, raised = [], []
    for row, amount, channel in requests:
        demand += amount
        if channel == "bonds":
            model.cascade.issue(row, amount)
            continue
        got = pool.take(amount * phi)
        b.cash[row] += got
        shortfall += amount - got
        if channel == "fundraising":
            raised_rows.append(row)
            raised.append(got)
    if raised_rows:
        model.pc_funds.issue_units(np.array(raised_rows, dtype=np.intp), np.array(raised))
    return FundingWeek(demand, demand - shortfall, shortfall)

