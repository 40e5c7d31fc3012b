"""Hedge funds: leveraged holders of liquid assets, on prime-broker margin, facing redemptions.

Each week a fund pays prime-broker interest at the policy rate + 0.5% as far as cash goes
(:meth:`HedgeFunds.pay_financing`). In a cascade its margin binds (MODEL.md §6.1): maintenance
margins rise with realised volatility, and a fund whose equity falls below them sells pro rata back to
its own leverage target, repaying the broker with the proceeds; one with no equity left is closed out
(:meth:`HedgeFunds.margin_orders`, :func:`sim.constraints.margin_call_sales`). Redemption requests each
quarter are a base rate plus a sensitivity times the quarter's loss (MODEL.md §6.3); a fund pays a
redemption R while keeping its leverage, selling R * L of assets and repaying (L - 1) * R of debt.
"""

from __future__ import annotations

import numpy as np

from agents.fund import Fund, FundGroup
from sim.arrays import fast_any, fast_sum
from sim.constraints import margin_call_sales
from sim.domain import AgentKind, Constraint
from sim.engine import fixed
from sim.engine.fixed import dot


class HedgeFund(Fund):
    kind = AgentKind.HEDGE_FUND

    def __init__(self, model, name: str, leverage: float):
        super().__init__(model, name)
        self.target_leverage = leverage


class HedgeFunds(FundGroup[HedgeFund]):
    kind = AgentKind.HEDGE_FUND

    def __init__(self, model, members, target_leverage: np.ndarray):
        super().__init__(model, members, model.cfg.hedge_funds)
        self.target_leverage = target_leverage      # gross assets / equity each fund returns to

    def pay_financing(self) -> None:
        """Prime-broker interest at the policy rate + ``financing_spread_bp`` on debt: paid from cash,
        the rest added to the debt (funds hold little cash; the broker capitalises what is not paid)."""
        if not self.members:
            return
        m = self.model
        rows = self.rows
        spread = m.cfg.hedge_funds.financing_spread_bp / 1e4
        m.book.pay_interest(rows, m.book.external_debt[rows] * (m.world.policy_rate + spread) * m.dt * self.alive,
                            "prime_broker_interest")

    # ---------------------------------------------------------------- 6. the cascade
    def margin_orders(self, sheet, maintenance_margins: np.ndarray) -> None:
        """Margin calls at the prices the last round left; a fund with no equity left is closed out."""
        m = self.model
        b, p = m.book, m.prices
        alive = self.alive
        if np.logical_and.reduce(alive):
            rows, idx, levels = self.row_index, self.rows, self.target_leverage
        else:
            live = np.flatnonzero(alive)
            rows, idx, levels = live + self.rows.start, live + self.rows.start, self.target_leverage[live]
        if not len(rows):
            return
        values = b.units[idx] * p
        net_debt = np.maximum(b.external_debt[idx] - b.cash[idx], 0.0)
        sales, closed = margin_call_sales(values, net_debt, maintenance_margins, levels)
        if not (fast_any(closed) or fast_any(sales)):
            return
        for i in np.flatnonzero(closed | (sales > 0)):
            row = int(rows[i])
            if closed[i]:
                m.defaults.liquidate_now(m.holders[row], "margin", sheet)
            else:
                total = dot(b.units[row], p)
                sheet.put(row, b.units[row] * (sales[i] / total), Constraint.MARGIN_CALL)

    def leverage_targets(self) -> np.ndarray:
        """Each fund's leverage target now: its own target scaled by (normal / realised volatility of its
        book)^elasticity, within [0.5, 1.25] of it: funds lever up when markets are calm and down when
        they are volatile (the leverage cycle, Adrian & Shin 2010); never so high that equity is within
        ``initial_margin_headroom`` of the maintenance requirement at today's margins."""
        m = self.model
        hf = m.cfg.hedge_funds
        vol, mm = m.market.margins()
        values = m.book.units[self.rows] * m.prices
        book_vol = fixed.row_dot(values, vol)
        ratio = np.divide(fixed.row_dot(values, m.market.vol), book_vol, out=np.ones(len(self)), where=book_vol > 0)
        scale = np.clip(fixed.power(np.maximum(ratio, 1e-9), hf.leverage_vol_elasticity), 0.5, 1.25)
        # never closer to the margin than the headroom funds start with
        assets = fast_sum(values, 1)
        required = np.divide(fixed.row_dot(values, mm), assets, out=np.zeros(len(self)), where=assets > 0)
        ceiling = np.divide(1.0, required * (1.0 + hf.initial_margin_headroom), out=np.full(len(self), np.inf),
                            where=required > 0)
        return np.maximum(np.minimum(self.target_leverage * scale, ceiling), 1.0)

    def releverage_orders(self, sheet) -> None:
        """Round 0: a fund whose leverage is more than ``releverage_band`` away from its target (after
        gains or losses, or as volatility moved the target) closes ``releverage_speed`` of the gap a
        week: below target it borrows from its broker and buys, above it sells and repays, pro rata to
        its book. Margin calls come on top, from the maintenance requirement."""
        m = self.model
        hf, b, p = m.cfg.hedge_funds, m.book, m.prices
        if not self.members or hf.releverage_speed <= 0:
            return
        targets = self.leverage_targets()
        values = b.units[self.rows] * p
        assets = fast_sum(values, 1)
        equity = assets + b.cash[self.rows] - b.external_debt[self.rows]
        gap = np.where(self.alive & (equity > 0), targets * equity - assets, 0.0)
        band = hf.releverage_band * np.abs(targets * equity)
        for i in np.flatnonzero(np.abs(gap) > band):
            row = int(self.row_index[i])
            if sheet.labels[row] is not None or assets[i] <= 0:
                continue
            trade = gap[i] * hf.releverage_speed
            units = b.units[row] * (abs(trade) / assets[i])
            if trade > 0:
                b.external_debt[row] += trade          # the broker lends, the fund buys with it
                b.cash[row] += trade
                b.record(trade, "prime_broker_lending")
                sheet.buy(row, units, Constraint.RELEVERAGE)
            else:
                sheet.put(row, units, Constraint.RELEVERAGE)

    def settle(self, row: int, proceeds: float) -> None:
        """The proceeds of a margin sale or a de-levering sale repay the broker; a re-levering purchase
        that cost more than was borrowed for it (its own impact) is financed by the broker too."""
        b = self.model.book
        if proceeds < 0:
            short = -float(b.cash[row])
            if short > 0:
                b.external_debt[row] += short
                b.cash[row] = 0.0
                b.record(short, "prime_broker_lending")
            return
        repay = min(proceeds, b.external_debt[row])
        b.external_debt[row] -= repay
        b.external(row, -repay, "margin_debt_repaid")

    def sale_for_redemption(self, fund, amount: float, sheet) -> float:
        """Sell pro rata enough to pay ``amount`` and repay (L - 1) x ``amount`` of debt."""
        b, p = self.model.book, self.model.prices
        lev = max(fund.target_leverage, 1.0)
        need = amount * lev - max(b.cash[fund.row], 0.0)
        if need > 0:
            total = dot(b.units[fund.row], p)
            sheet.put(fund.row, b.units[fund.row] * min(need / max(total, 1e-12), 1.0), Constraint.REDEMPTION)
        return amount

    def before_payment(self, fund, row: int, pay_total: float) -> None:
        """Keep leverage: the rest of the sale repays (L - 1) per unit redeemed."""
        b = self.model.book
        lev = max(fund.target_leverage, 1.0)
        repay = min(pay_total * (lev - 1.0), b.external_debt[row], max(b.cash[row] - pay_total, 0.0))
        b.external_debt[row] -= repay
        b.external(row, -repay, "margin_debt_repaid")
