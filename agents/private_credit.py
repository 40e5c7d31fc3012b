"""Private-credit funds: lend to neoclouds and software companies, face redemptions with gates.

Each week (MODEL.md §5) a fund earns interest on its software and other loans, pays interest on its
facility (:meth:`PrivateCreditFunds.collect_income`) and raises new money from the pool
(:meth:`PrivateCreditFunds.raise_funds`). GPU loans are serviced by the neoclouds.

Quarterly redemption requests (MODEL.md §6.3), as a share of NAV:

    r = base + phi * max(0, -NAV return over the last quarter)

paid after a lag, at most ``gate`` of NAV per quarter; the fund pays from cash, then sells its
most liquid holdings first (Treasuries, then IG bonds). Loans cannot be sold: a request the fund
cannot meet stays queued and the gate binds. After each cascade the software book is marked to the
software index and a fund whose NAV turns negative defaults (:meth:`PrivateCreditFunds.mark_loan_books`).
"""

from __future__ import annotations

import itertools

import numpy as np

from agents.fund import Fund, FundGroup
from sim.arrays import fast_any, fast_sum
from sim.domain import WEEKS_PER_QUARTER, AgentKind, Asset, Constraint
from sim.engine import pecking_order_sale


#: A fund raising cash for redemptions sells its most liquid holdings first.
LIQUIDITY_ORDER = np.array([Asset.UST, Asset.IG_BONDS])


class PrivateCreditFund(Fund):
    kind = AgentKind.PRIVATE_CREDIT

    def __init__(self, model, name: str):
        super().__init__(model, name)
        self.software_principal_bn = 0.0
        self.other_loans_bn = 0.0
        self.gated_quarters = 0
        self.gate_bound_this_quarter = False
        self.paid_this_quarter = 0.0


class PrivateCreditFunds(FundGroup[PrivateCreditFund]):
    kind = AgentKind.PRIVATE_CREDIT

    def __init__(self, model, members):
        super().__init__(model, members, model.cfg.private_credit)
        self.gate_streak_max = 0       # longest run of quarters any fund's gate bound
        self.nav_at_requests = None    # NAV when this week's fund-raising was asked (the units' price)

    def nav(self) -> np.ndarray:
        """NAV of each fund: cash + units . prices + loan books - facility debt + GPU loans receivable
        (the funds' rows of :meth:`sim.model.DryPowderModel.fund_nav`)."""
        return self.model.fund_nav()[self.rows]

    # ---------------------------------------------------------------- 2. cash flows
    def collect_income(self) -> None:
        """Interest on the software and other loan books in; facility interest at y + s +
        ``facility_spread_bp`` out."""
        if not self.members:
            return
        m = self.model
        pc, b, dt, rows = m.cfg.private_credit, m.book, m.dt, self.rows
        alive = self.alive
        book_principal = np.array([f.software_principal_bn + f.other_loans_bn for f in self.members])
        b.receive(rows, book_principal * pc.loan_yield_pct / 100 * dt * alive, "loan_interest_received")
        rate = m.pool.coc.ust10y + m.pool.coc.ig_spread + pc.facility_spread_bp / 1e4
        b.pay_interest(rows, b.external_debt[rows] * rate * dt * alive, "facility_interest")

    # ---------------------------------------------------------------- 3. decisions
    def raise_funds(self, requests, nav: np.ndarray | None) -> None:
        """Ask the pool for ``fundraising_bn_per_yr`` a year, split pro rata to NAV (``nav``: every
        fund row's NAV when it was just computed at a quarter end, else None)."""
        pc, m = self.model.cfg.private_credit, self.model
        if not self.members or pc.fundraising_bn_per_yr <= 0:
            return
        sl = self.rows
        pc_nav = nav[sl] if nav is not None else self.nav()
        self.nav_at_requests = pc_nav      # the subscription price of the units sold in funding
        positive = np.maximum(pc_nav, 0)
        w = positive / max(fast_sum(positive), 1e-12)
        amount = pc.fundraising_bn_per_yr * m.dt * w
        idx = (self.alive & (w > 0)).nonzero()[0]
        requests.extend(zip((idx + sl.start).tolist(), amount[idx].tolist(), itertools.repeat(False),
                            itertools.repeat("fundraising")))

    def issue_units(self, rows: np.ndarray, amount: np.ndarray) -> None:
        """New investors buy fund shares at the NAV per unit before their subscription (1 for a fund
        with no units or no NAV); ``rows`` distinct funds."""
        b = self.model.book
        nav_before = self.nav_at_requests[rows - self.rows.start]
        units = b.fund_units_outstanding[rows]
        priced = (units > 0) & (nav_before > 0)
        price = np.where(priced, nav_before / np.where(priced, units, 1.0), 1.0)
        b.fund_units_outstanding[rows] += np.where(amount > 0, amount / price, 0.0)

    # ---------------------------------------------------------------- 6. the cascade
    def open_quarter(self) -> None:
        for f in self.members:
            f.gate_bound_this_quarter = False
            f.paid_this_quarter = 0.0

    def redemption_orders(self, sheet) -> None:
        self._nav_now = None           # NAV at the start of the round (orders do not move it)
        super().redemption_orders(sheet)

    def sale_for_redemption(self, fund, amount: float, sheet) -> float:
        """Pay at most the gate (``gate_per_qtr`` of NAV a quarter, less what was paid); sell the most
        liquid holdings for what cash lacks."""
        m = self.model
        b, p = m.book, m.prices
        if self._nav_now is None:
            self._nav_now = self.nav()
        gate = m.cfg.private_credit.gate_per_qtr * max(self._nav_now[self.index(fund)], 0.0) - fund.paid_this_quarter
        if amount > gate + 1e-9:
            fund.gate_bound_this_quarter = True
        amount = min(amount, max(gate, 0.0))
        need = amount - max(b.cash[fund.row], 0.0)
        if need > 0:  # most liquid first: Treasuries, then IG bonds
            units = pecking_order_sale(b.units[fund.row][None, :], p, np.array([need]), LIQUIDITY_ORDER)[0]
            sheet.put(fund.row, units, Constraint.REDEMPTION)
        return amount

    def after_payment(self, fund, pay_total: float) -> None:
        fund.paid_this_quarter += pay_total

    def mark_loan_books(self) -> None:
        """After the cascade: software loan books marked to the saas index; a fund whose NAV turns
        negative defaults; at the quarter's last week, the gate streaks are counted."""
        m = self.model
        b = m.book
        pc = m.cfg.private_credit
        saas = m.prices[Asset.SAAS]
        if self.members:
            sl = self.rows
            alive = self.alive.copy()
            principal = np.array([f.software_principal_bn for f in self.members])
            other = np.array([f.other_loans_bn for f in self.members])
            books = software_book_value(principal, saas, pc.software_pd_slope, pc.software_lgd) + other
            b.other_assets[sl] = np.where(alive, books, b.other_assets[sl])
            insolvent = alive & (self.nav() < 0)
            if fast_any(insolvent):
                for i in np.flatnonzero(insolvent):
                    m.defaults.declare(self.members[i], "insolvent")
        if m.steps % WEEKS_PER_QUARTER == WEEKS_PER_QUARTER - 1:
            for f in self.members:
                f.gated_quarters = f.gated_quarters + 1 if f.gate_bound_this_quarter else 0
                self.gate_streak_max = max(self.gate_streak_max, f.gated_quarters)

    def gates_binding(self) -> int:
        return int(sum(f.gate_bound_this_quarter for f in self.members))

    def extinguish(self, fund: PrivateCreditFund) -> None:
        """A defaulted fund's loan books pass to its creditors (outside facility lenders): the software
        and other loans were paid over in kind; its GPU loans stay owed by the neoclouds, with the fund's
        estate as lender of record passing what they pay on to the creditors
        (:meth:`pass_estate_cash_to_creditors`)."""
        fund.software_principal_bn = fund.other_loans_bn = 0.0

    def pass_estate_cash_to_creditors(self) -> None:
        """Cash a defaulted fund's estate collects (loan service, prepayments, recoveries) goes to its
        creditors outside the model."""
        if not self.members:
            return
        b = self.model.book
        cash = b.cash[self.rows]
        estate = ~self.alive & (cash > 0)
        if fast_any(estate):
            rows = self.row_index[estate]
            b.pay_out(rows, b.cash[rows].copy(), "paid_to_outside_creditors")


def software_book_value(principal: float, saas_price: float, pd_slope: float, lgd: float) -> float:
    """Software loans marked to the saas index: expected loss rises as software equity falls."""
    loss_rate = min(1.0, pd_slope * max(0.0, 1.0 - saas_price)) * lgd
    return principal * (1.0 - loss_rate)
