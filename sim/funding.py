"""The week's funding clears against the dry-powder pool (MODEL.md §2, §4).

Inflows reach the pool first (savings, recycled capex income, the part of reserve purchases that
becomes idle cash, cash released by rate cuts). Then every funding request of the week (hyperscaler
bonds, AI-lab venture rounds, private-credit fund raising) is absorbed pro rata as far as the pool
goes. What the pool cannot absorb of the bonds is bought by the central bank when the backstop is on;
otherwise the issuer sells its own Treasuries, and outside holders rotate out of other assets for the
rest (crowding out: flows in round 0 of the cascade). Finally yields and spreads are set from the
pool's depletion, the unabsorbed funding and credit losses.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.arrays import fast_sum
from sim.domain import ASSETS
from sim.liquidity import absorb


class FundingRequest(NamedTuple):
    row: int
    amount_bn: float
    crowds_out: bool      # unabsorbed demand rotates outside holders out of other assets
    channel: str          # "bonds", "venture" or "fundraising"


class FundingWeek(NamedTuple):
    """What the week's funding did, $bn."""

    demand_bn: float
    absorbed_bn: float
    shortfall_bn: float


def crowding_weights(cfg) -> np.ndarray:
    """Share of crowded-out funding raised by selling each asset (``dry_powder.crowding_out_weights``)."""
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


def clear_funding(model, requests: list) -> FundingWeek:
    """Absorb the week's requests, route the shortfall (backstop, own Treasuries, crowding out), issue
    the bonds and fund units, and set the cost of capital."""
    c, b, pool = model.cfg, model.book, model.pool
    pool_inflows(model)
    demand = np.array([r[1] for r in requests]) if requests else np.zeros(0)
    channels = [r[3] for r in requests]
    absorbed, _ = absorb(demand, pool.level_bn)
    pool.take(fast_sum(absorbed))
    shortfall_total = 0.0
    backstop_bn = 0.0
    crowd_out_bn = 0.0
    if not requests:
        issued = absorbed
    else:
        rows_list = [r[0] for r in requests]
        rows = np.array(rows_list, dtype=np.intp)
        # the pool's cash reaches the requesters (pool already debited); one request per holder
        if len(set(rows_list)) == len(rows_list):
            b.cash[rows] += absorbed
        else:
            np.add.at(b.cash, rows, absorbed)
        missing = demand - absorbed
        issued = absorbed.copy()
        for i in (missing > 1e-12).nonzero()[0]:
            row, amount, crowds_out, channel = requests[i]
            shortfall_total += missing[i]
            if crowds_out and c.central_bank.backstop:   # the central bank buys what the pool cannot
                b.external(row, missing[i], "central_bank_purchases")
                backstop_bn += missing[i]
                issued[i] += missing[i]
            elif crowds_out:        # own Treasuries first, then outside holders rotate out of other assets
                rest = missing[i] - model.hyperscalers.sell_own_treasuries(row, missing[i])
                if rest > 0:
                    b.external(row, rest, "crowding_out_rotation")
                    crowd_out_bn += rest
                    issued[i] += rest
    for i, channel in enumerate(channels):
        if channel == "bonds":
            model.hyperscalers.total_issuance_bn += issued[i]
            model.hyperscalers.issue_debt(requests[i][0], issued[i])
    funds = [i for i, channel in enumerate(channels) if channel == "fundraising"]
    if funds:
        model.pc_funds.issue_units(rows[funds], absorbed[funds])
    if crowd_out_bn:
        model.cascade.crowding_out(crowd_out_bn * model.crowding_weights)
    model.central_bank.purchases_bn += backstop_bn
    model.central_bank.cap_depletion(pool, b)
    effective_shortfall = 0.0 if c.central_bank.backstop else shortfall_total
    credit_share = model.defaults.credit_losses_bn / max(model.initial_credit, 1e-9)
    pool.update_cost_of_capital(model.world.policy_rate, effective_shortfall, min(credit_share, 1.0))
    return FundingWeek(float(fast_sum(demand)), float(fast_sum(absorbed)), shortfall_total)
