"""Neoclouds: rent GPUs, borrow against them from private-credit funds, live by their covenant.

Each week (MODEL.md §5) a neocloud collects rent, pays opex, and services its GPU loans (interest and
straight-line amortisation, pro rata to every lender); one that cannot pay in full defaults
(:meth:`Neoclouds.collect_rents_and_service_loans`). It buys growth GPUs, the equity part from cash,
the loan part from its lenders (:meth:`Neoclouds.buy_gpus`).

In a cascade (MODEL.md §6.2) its covenant binds. Loan L, fleet of u units of used-GPU capacity at
price P:

    haircut(P) = slope * max(0, 1 - P / P_ref)
    LTV        = L / (u * P * (1 - haircut))         breach when LTV > advance rate + headroom

A breach is cured with cash at once, then by selling GPUs into the used-GPU market, spread over a
waiver period of ``cure_weeks`` (:meth:`Neoclouds.covenant_orders`, :meth:`Neoclouds.settle`); a
neocloud whose loan exceeds its fleet's market value (LTV > 1 before haircut), or that could not cure
even by selling the whole fleet, defaults and its lenders seize and liquidate the fleet.
"""

from __future__ import annotations

import numpy as np

from agents.base import AgentGroup, Holder
from sim.arrays import divide_where_positive, fast_any, fast_sum
from sim.domain import WEEKS_PER_QUARTER, WEEKS_PER_YEAR, AgentKind, Asset, Constraint
from sim.engine.fixed import row_dot


class Neocloud(Holder):
    kind = AgentKind.NEOCLOUD


class Neoclouds(AgentGroup[Neocloud]):
    """Every neocloud at once: rows of the book, columns of ``book.gpu_loans``."""

    kind = AgentKind.NEOCLOUD

    def __init__(self, model, members: list[Neocloud], advance_rate: np.ndarray, covenant_ltv: np.ndarray):
        super().__init__(model, members)
        self.advance_rate = advance_rate            # loan / fleet value at origination, per neocloud
        self.covenant_ltv = covenant_ltv            # LTV above which the covenant is breached
        self.loan_origination = fast_sum(model.book.gpu_loans, 0).copy() if len(members) else np.zeros(0)
        self.other_rent_share = 1.0 - model.cfg.neoclouds.lab_revenue_share   # rent not under lab contracts

    # ---------------------------------------------------------------- 2. cash flows
    def collect_rents_and_service_loans(self) -> None:
        """Rent in (the part not under lab contracts), opex out, then interest and amortisation to
        every lender pro rata; a neocloud that cannot pay in full defaults ("payment")."""
        if not self.members:
            return
        m = self.model
        nc, b, dt, rows = m.cfg.neoclouds, m.book, m.dt, self.rows
        cash = b.cash
        alive = self.alive
        capacity = b.units[rows, Asset.USED_GPU]
        rent = capacity * nc.rent_yield * m.world.rental_index * nc.utilisation * dt * alive
        b.receive(rows, rent * self.other_rent_share, "gpu_rental_revenue")
        b.pay_out(rows, np.minimum(nc.opex_share * rent, np.maximum(cash[rows], 0.0)), "operating_costs")
        loans = b.gpu_loans                         # [lender, neocloud]
        owed = fast_sum(loans, 0)
        # principal: the amount originated over the amortisation period, from each lender pro rata,
        # never more than is owed; interest on the balance. Each loan pays the same share a week.
        principal_share = np.minimum(
            self.loan_origination / (np.maximum(owed, 1e-12) * (nc.amortisation_years * WEEKS_PER_YEAR)), 1.0)
        due_share = (nc.loan_rate_pct / 100) * dt + principal_share
        due = owed * due_share
        can = np.minimum(due, np.maximum(cash[rows], 0.0))
        frac = divide_where_positive(can, due, 1.0)
        paid = frac * alive
        cash[rows] -= due * paid                    # transfer borrowers -> lenders
        cash[m.pc_funds.rows] += row_dot(loans, due_share * paid)
        loans *= 1.0 - principal_share * paid
        m.pc_funds.pass_estate_cash_to_creditors()
        short = alive & (due > 0) & (frac < 1.0 - 1e-9)
        if fast_any(short):
            for j in np.flatnonzero(short):
                m.defaults.declare(self.members[j], "payment")

    # ---------------------------------------------------------------- 3. decisions
    def buy_gpus(self) -> None:
        """Neoclouds buy new GPUs each week: the equity part from cash (keeping a quarter's reserve),
        the loan part from their existing lenders pro rata, as far as the lenders have cash."""
        m = self.model
        b, nc = m.book, m.cfg.neoclouds
        rows = self.rows
        if not self.members or nc.growth_capex_share <= 0:
            return
        p_gpu = m.prices[Asset.USED_GPU]
        alive = self.alive
        fleet_value = b.units[rows, Asset.USED_GPU] * p_gpu
        cost = fleet_value * nc.growth_capex_share * m.dt
        equity_part = (1.0 - self.advance_rate) * cost
        reserve = nc.cash_reserve_per_yr * fleet_value * m.dt * WEEKS_PER_QUARTER
        buys = alive & (cost > 0) & (b.cash[rows] >= equity_part + reserve)
        if not fast_any(buys):
            return                   # nobody buys: no loan, no payment (the arithmetic below adds zeros)
        loans = b.gpu_loans
        lenders = m.pc_funds.rows                      # = b.lender_rows
        totals = fast_sum(loans, 0)
        lender_share = divide_where_positive(loans, totals, 0.0)
        financed = self.advance_rate * cost            # the loan-funded part of each purchase
        wanted = lender_share * (financed * buys)
        lender_cash = np.maximum(b.cash[lenders], 0.0)
        asked = fast_sum(wanted, 1)
        if np.logical_and.reduce(lender_cash >= asked):    # every lender has the cash: all is lent
            lend = wanted
        else:                                              # lenders short of cash lend pro rata
            lend = wanted * np.minimum(1.0, divide_where_positive(lender_cash, asked, 1.0))[:, None]
        lent = fast_sum(lend, 0)
        scale = divide_where_positive(lent, financed, 0.0)
        b.cash[lenders] -= fast_sum(lend, 1)     # transfer lenders -> borrowers
        b.cash[rows] += lent
        loans += lend
        self.loan_origination += lent
        spend = cost * scale
        b.pay_out(rows, spend, "gpu_purchases")
        b.units[rows, Asset.USED_GPU] += spend / p_gpu

    # ---------------------------------------------------------------- 6. the cascade
    def covenant_orders(self, sheet, round_no: int) -> None:
        """Test every covenant at the prices the last round left (once a step: lenders act weekly, not
        within the day): cure a breach with cash, then with GPU sales spread over the waiver period;
        default where no cure is possible."""
        m = self.model
        if not self.members:
            return
        nc, b, p = m.cfg.neoclouds, m.book, m.prices
        price = p[Asset.USED_GPU]
        hc = haircut(price, 1.0, nc.haircut_slope)
        rows = self.rows
        loans = fast_sum(b.gpu_loans, 0)
        alive = self.alive
        fleet = b.units[rows, Asset.USED_GPU]
        ltv = loan_to_value(loans, fleet, price, hc)
        breach = alive & (ltv > self.covenant_ltv)
        if not fast_any(breach):
            return
        underwater = alive & (loan_to_value(loans, fleet, price, 0.0) > 1.0)
        prepay, sell, cannot = cure_amounts(loans, fleet, np.maximum(b.cash[rows], 0), price, hc, self.covenant_ltv)
        cannot = cannot | underwater
        sell = sell / nc.cure_weeks     # the breach is cured over the waiver period
        for j in np.nonzero(breach)[0]:
            agent = self.members[j]
            if cannot[j]:
                m.defaults.liquidate_now(agent, "covenant", sheet)
                continue
            if prepay[j] > 0:
                self.prepay(j, prepay[j])
                m.event_log.event(round_no, agent, Constraint.COVENANT_BREACH, "cash", 0.0, prepay[j], 0.0, 1,
                               detail="prepaid from cash")
            if sell[j] > 0:
                units = np.zeros(m.K)
                units[Asset.USED_GPU] = sell[j]
                sheet.put(agent.row, units, Constraint.COVENANT_BREACH)

    def settle(self, row: int, proceeds: float) -> None:
        """The proceeds of a covenant sale prepay the loan."""
        self.prepay(row - self.rows.start, proceeds)

    def prepay(self, j: int, amount: float) -> None:
        """Neocloud j prepays its GPU loans pro rata to its lenders."""
        b = self.model.book
        row = self.members[j].row
        loans = b.gpu_loans[:, j]
        amount = min(amount, loans.sum(), max(b.cash[row], 0.0))
        if amount <= 0:
            return
        split = loans / loans.sum()
        b.transfer(row, b.lender_rows, amount * split)
        b.gpu_loans[:, j] -= amount * split

    def on_default(self, agent: Neocloud) -> None:
        """The listed neocloud index loses this firm's share of the sector."""
        m = self.model
        units = m.book.units[self.rows, Asset.USED_GPU]
        share = units[self.index(agent)] / max(units.sum(), 1e-12)
        factor = np.ones(m.K)
        factor[Asset.NEOCLOUD_EQUITY] = 1.0 - m.cfg.neoclouds.default_equity_loss * share
        m.market.apply_price_factor(factor)

    def extinguish(self, agent: Neocloud) -> None:
        """A defaulted neocloud's loans are settled (its lenders took what the clearing gave them)."""
        self.model.book.gpu_loans[:, self.index(agent)] = 0.0

    # ---------------------------------------------------------------- reports
    def max_ltv(self) -> float:
        """The highest loan-to-value among live neoclouds (capped at 10 for reporting)."""
        m = self.model
        if not self.members:
            return 0.0
        alive = self.alive
        if not fast_any(alive):
            return 0.0
        price = m.prices[Asset.USED_GPU]
        hc = haircut(price, 1.0, m.cfg.neoclouds.haircut_slope)
        ltv = loan_to_value(fast_sum(m.book.gpu_loans, 0), m.book.units[self.rows, Asset.USED_GPU], price, hc)
        if not np.logical_and.reduce(alive):
            ltv = ltv[alive]
        return min(float(np.maximum.reduce(ltv)), 10.0)


def haircut(price: float, reference_price: float, slope: float) -> float:
    """Haircut that widens as the used-GPU price falls below its level at origination."""
    return slope * max(0.0, 1.0 - price / reference_price)


def loan_to_value(loan: np.ndarray, units: np.ndarray, price: float, hc: float) -> np.ndarray:
    """LTV on haircut collateral; infinite where nothing is pledged but a loan is owed."""
    collateral = units * (price * (1.0 - hc))
    # as sim.arrays.divide_where_positive, whose fill would have to be built every call (0.7% of a run)
    if np.logical_and.reduce(collateral > 0, axis=None):     # the usual case: a plain divide (same numbers)
        return np.divide(loan, collateral)
    return np.divide(loan, collateral, out=np.where(loan > 0, np.inf, 0.0), where=collateral > 0)


def cure_amounts(loan: np.ndarray, units: np.ndarray, cash: np.ndarray, price: float, hc: float,
                 ltv_max: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How a breach is cured: (cash prepayment, GPU units to sell, cannot-cure mask).

    Prepaying c lowers L; selling s units at price P and prepaying with the proceeds lowers L by
    s*P and collateral by s*P*(1-hc). To restore L' <= tau * u' * P with tau = ltv_max * (1 - hc):
    first cash, then units s = (L - c - tau*u*P) / (P * (1 - tau)).
    """
    tau = ltv_max * (1.0 - hc)
    excess = np.maximum(loan - tau * units * price, 0.0)
    prepay = np.minimum(cash, excess)
    still = excess - prepay
    denom = np.broadcast_to(price * (1.0 - tau), still.shape)
    sell = np.where(denom > 0, still / np.where(denom > 0, denom, 1.0), np.where(still > 0, np.inf, 0.0))
    cannot = sell > units + 1e-12
    return prepay, np.minimum(sell, units), cannot
