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
from sim.arrays import fast_any
from sim.constraints import margin_call_sales
from sim.domain import AgentKind, Constraint
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

    def settle(self, row: int, proceeds: float) -> None:
        """The proceeds of a margin sale repay the broker."""
        b = self.model.book
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
