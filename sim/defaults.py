"""Defaults: who has defaulted, their liquidation, and settlement along claims (MODEL.md §6.5).

A holder that cannot meet a payment or a constraint is *declared* in default (:meth:`Defaults.declare`):
its type's consequences follow at once (a neocloud's listed equity loses its share of the sector, a
lab's contracts stop), and everything it holds is put up for sale in the next cascade round (or in the
same round when a constraint check finds it, :meth:`Defaults.liquidate_now`). Once its liquid assets
are sold, its obligations settle by the Eisenberg-Noe clearing vector over every claim between
holders plus an outside-creditors node (:meth:`Defaults.settle_claims`): creditors inside the model
take losses, loan books pass to creditors in kind, what is left goes to the defaulted holder's owners.
Private-credit funds whose NAV turns negative default in turn.
"""

from __future__ import annotations

import numpy as np

from agents.fund import Fund
from sim.domain import AGENT_KINDS, Constraint
from sim.engine import clearing_vector


class Defaults:
    """The defaults of one run, and the cascade participant that liquidates and settles them."""

    def __init__(self, model):
        self.model = model
        self.by_kind = {k: 0 for k in AGENT_KINDS}
        self.to_liquidate: list[int] = []        # declared, to be liquidated in the next round
        self.liquidating: list[int] = []         # liquidating this round, settled after it clears
        self.credit_losses_bn = 0.0              # losses of creditors inside the model
        self.losses_by_kind = {k: 0.0 for k in AGENT_KINDS}
        self.outside_losses_bn = 0.0             # losses of outside creditors (bondholders, banks)

    def total(self) -> int:
        """Institutions in default (retail close-outs are counted apart)."""
        return sum(self.by_kind.values()) - self.by_kind["retail"]

    def declare(self, agent, reason: str) -> None:
        """Declare ``agent`` in default (once): record it, apply its type's consequences, and queue its
        holdings for liquidation in the next round."""
        if agent.defaulted:
            return
        m = self.model
        agent.defaulted = True
        self.by_kind[agent.kind] += 1
        self.to_liquidate.append(agent.row)
        m.event_log.event(m.event_log.round_now, agent, Constraint.DEFAULT, "", 0.0, 0.0, 0.0, 1, detail=reason)
        on_default = getattr(m.group_of(agent), "on_default", None)
        if on_default is not None:
            on_default(agent)

    def liquidate_now(self, agent, reason: str, sheet) -> None:
        """Declare ``agent`` in default and put everything it holds up for sale in this round."""
        self.declare(agent, reason)
        self.to_liquidate.remove(agent.row)
        sheet.put(agent.row, self.model.book.units[agent.row].copy(), Constraint.DEFAULT)
        self.liquidating.append(agent.row)

    # ---------------------------------------------------------------- cascade participant
    def liquidation_orders(self, sheet) -> None:
        """Everything a holder declared in default holds is sold this round."""
        units = self.model.book.units
        for row in self.to_liquidate:
            sheet.put(row, units[row].copy(), Constraint.DEFAULT)
        self.liquidating = list(self.to_liquidate)
        self.to_liquidate = []

    def settle_liquidated(self) -> None:
        """The holders liquidated this round settle their claims."""
        if self.liquidating:
            self.settle_claims(self.liquidating)
            self.liquidating = []

    def busy(self) -> bool:
        """Holders declared in default still wait for their liquidation round."""
        return bool(self.to_liquidate)

    # ---------------------------------------------------------------- settlement along claims
    def settle_claims(self, rows: list[int]) -> None:
        """Eisenberg-Noe settlement of defaulted holders once their liquid assets are sold."""
        m = self.model
        b = m.book
        if m.retail.book_row_stale:
            m.retail.sync_book_row()
        n = len(m.holders)
        out = n                      # the outside creditors node
        L = np.zeros((n + 1, n + 1))
        if b.gpu_loans.size:
            for j, brow in enumerate(b.borrower_rows):
                L[brow, b.lender_rows] = b.gpu_loans[:, j]
        L[:n, out] = b.external_debt
        nav = m.fund_nav()
        external = np.zeros(n + 1)
        external[:n] = np.maximum(b.cash, 0) + b.market_value(m.prices) + b.other_assets + b.fund_share_value(nav)
        external[out] = 0.0
        p = clearing_vector(L, external)
        owed = L.sum(axis=1)
        for r in rows:
            agent = m.holders[r]
            if not agent.defaulted:
                continue
            self._pay_creditors(r, L, p, owed)
            extinguish = getattr(m.group_of(agent), "extinguish", None)   # the type's claims on others
            if extinguish is not None:
                extinguish(agent)
            b.external_debt[r] = 0.0
            self._pay_owners(r)
            if isinstance(agent, Fund):
                agent.redemption_queue = []
        m.pc_funds.pass_estate_cash_to_creditors()
        # lenders whose NAV went negative default in turn (next round)
        nav = m.fund_nav()
        for f in m.pc_funds:
            if not f.defaulted and nav[f.row] < 0:
                self.declare(f, "insolvent")

    def _pay_creditors(self, r: int, L: np.ndarray, p: np.ndarray, owed: np.ndarray) -> None:
        """Holder ``r`` pays p_r: loan books in kind first, then cash, pro rata to what it owes; the
        shortfall is each creditor's loss."""
        m = self.model
        b, n = m.book, len(m.holders)
        pay = min(p[r], owed[r])
        if owed[r] <= 0:
            return
        shares = L[r] / owed[r]
        # loan books pass to creditors at model value: the books on the balance sheet, then GPU loans
        # (which stay owed by the neoclouds, the estate collecting for the creditors)
        in_kind = b.other_assets[r] + (b.gpu_loans[r - m.pc_funds.rows.start].sum() if r in m.pc_funds.row_index else 0.0)
        paid_in_kind = min(pay, in_kind)
        b.other_assets[r] -= min(paid_in_kind, b.other_assets[r])
        cash_pay = min(pay - paid_in_kind, max(b.cash[r], 0.0))
        internal = shares[:n] * cash_pay
        b.transfer(r, np.arange(n), internal)
        if shares[n] > 0:
            b.external(r, -shares[n] * cash_pay, "paid_to_outside_creditors")
        loss = owed[r] - (paid_in_kind + cash_pay)
        internal_loss = shares[:n] * loss
        self.credit_losses_bn += float(internal_loss.sum())
        self.outside_losses_bn += float(shares[n] * loss)
        for cr in np.nonzero(internal_loss > 1e-12)[0]:
            self.losses_by_kind[m.holders[cr].kind] += float(internal_loss[cr])

    def _pay_owners(self, r: int) -> None:
        """What is left belongs to the defaulted holder's owners (fund investors, shareholders)."""
        b, n = self.model.book, len(self.model.holders)
        if b.cash[r] > 0 and b.fund_units_outstanding[r] > 0:
            holders = b.fund_units[:, r]
            share = holders / b.fund_units_outstanding[r]
            b.transfer(r, np.arange(n), share * b.cash[r])
            b.external(r, -b.cash[r], "residual_to_outside_investors")
        b.fund_units[:, r] = 0.0
        b.fund_units_outstanding[r] = 0.0
