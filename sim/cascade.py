"""The week's cascade (MODEL.md §6.6): forced sales travel from holder to holder, round by round.

Assembled from the engine (:mod:`sim.engine`: order sheets, clearing with price impact, settlement,
the round loop and its records) and the agent types' rules. Round 0 clears what is decided on the
week's opening state: new bonds, hedge funds re-levering, the sales that pay what falls
due (fund redemptions, capital calls cash cannot cover) and the retail week (momentum buying, panic
selling, re-levering). Every later round clears what the prices left by the rounds before force
(:meth:`WeeklyCascade.act`), in priority order per holder: default liquidation > margin call >
covenant breach (covenants in round 1 only).

Before a round clears (:meth:`WeeklyCascade.prepare`), the buyers' side is set: of what is sold (new
bonds, institutions' sales, forced retail sales), buyers pay phi(W) from the pool's idle cash and raise
the rest by selling other assets (crowding-out flows, in the same clearing); with the backstop on, the
central bank buys the bonds buyers cannot pay for. After it clears (:meth:`WeeklyCascade.settle`):
sellers and issuers are paid; the proceeds repay margin debt and prepay GPU loans; holders liquidated
this round settle their claims (Eisenberg-Noe); capital calls are paid (and, after round 0,
redemptions). The loop stops when a round forces no sale, or after ``simulation.max_cascade_rounds``.
"""

from __future__ import annotations

import numpy as np

from agents.retail import RetailOrders
from sim.arrays import fast_sum
from sim.domain import WEEKS_PER_QUARTER, Asset, Constraint
from sim.engine import CascadeLoop, NewIssues, OrderSheet, OutsideFlows, RoundRecord
from sim.engine.fixed import dot

BONDS = np.array([Asset.UST, Asset.IG_BONDS])


class WeeklyCascade:
    """The engine's :class:`sim.engine.Rules` for the model: which group acts and settles when."""

    def __init__(self, model):
        self.m = model
        self.loop = CascadeLoop(model.book.units, model.market, self)
        self.issues: list[tuple[int, float]] = []    # (issuer row, $bn sought) of new bonds this week
        self.records: list[RoundRecord] = []        # this week's rounds
        self.max_rounds = 0                         # deepest cascade so far
        self.buyer_cash_share = 1.0                 # phi(W) of the round being cleared
        self._cb_bond_share = 0.0                   # share of bond sales the central bank buys this round
        self.rotation_bn = 0.0                      # crowding-out sales by buyers this week
        self.rotation_total_bn = 0.0                # ... since the start

    @property
    def last_rounds(self) -> int:
        """Rounds after round 0 in this week's cascade."""
        return self.records[-1].round if self.records else 0

    # ------------------------------------------------------------------ inputs from the week
    def open_week(self) -> None:
        m = self.m
        self.issues = []
        self.records = []
        self.rotation_bn = 0.0
        m.event_log.open_week()
        if m.steps % WEEKS_PER_QUARTER == 0:
            m.pc_funds.open_quarter()

    def issue(self, row: int, amount_bn: float) -> None:
        """New IG bonds worth ``amount_bn`` at today's price, sold by holder ``row`` in round 0."""
        if amount_bn > 0:
            self.issues.append((row, amount_bn))

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        m = self.m
        m.event_log.round_now = 0
        self.records = self.loop.run_until_quiet(self._round_zero_sheet(), m.cfg.simulation.max_cascade_rounds)
        self.max_rounds = max(self.max_rounds, self.last_rounds)
        self.rotation_total_bn += self.rotation_bn
        m.pc_funds.mark_loan_books()

    def _round_zero_sheet(self) -> OrderSheet:
        """Everything decided on the week's opening state: new bonds, hedge funds re-levering, the
        sales that pay what falls due this week (fund redemptions, capital calls cash cannot cover)
        and the retail week (panic sales, momentum buying, re-levering)."""
        m = self.m
        sheet = self.loop.new_sheet()
        m.pc_funds.redemption_orders(sheet)
        m.hedge_funds.redemption_orders(sheet)
        m.sovereigns.commitment_orders(sheet)
        m.hedge_funds.releverage_orders(sheet)
        if self.issues:
            rows, amounts = zip(*self.issues)
            sheet.books.append(NewIssues(np.array(rows, dtype=np.intp), np.array(amounts) / m.prices[Asset.IG_BONDS],
                                         Asset.IG_BONDS, Constraint.ISSUANCE))
        if m.retail.n:
            sheet.books.extend(m.retail.round_zero_orders(m.market.return_13w(), m.prices))
        return sheet

    def act(self, sheet: OrderSheet, round_no: int) -> None:
        """Orders forced by the prices the last round left (engine ``Rules.act``)."""
        m = self.m
        m.event_log.round_now = round_no
        m.defaults.liquidation_orders(sheet)
        channels = m.cfg.channels
        if channels.margin_calls:
            _, mm = m.market.margins()
            m.hedge_funds.margin_orders(sheet, mm)
            if m.retail.n:
                m.retail.margin_act(sheet, mm)
        if round_no == 1 and channels.covenants:          # covenants are tested once a step: lenders act weekly
            m.neoclouds.covenant_orders(sheet, round_no)

    def prepare(self, sheet: OrderSheet, round_no: int) -> None:
        """The buyers' side of the round (engine ``Rules.prepare``): what is sold at today's prices,
        the share buyers pay from idle cash, and the other assets they sell for the rest."""
        m = self.m
        p = m.prices
        sold = np.maximum(sheet.institutional_totals(), 0.0)
        for book in sheet.books:
            if isinstance(book, NewIssues) or (isinstance(book, RetailOrders) and book.label.forced):
                sold = sold + np.maximum(book.totals(m.K), 0.0)
        phi = self.buyer_cash_share = m.pool.buyer_cash_share()
        backstop = m.cfg.central_bank.backstop
        self._cb_bond_share = (1.0 - phi) if backstop else 0.0
        unpaid = (1.0 - phi) * dot(sold, p)
        if backstop and unpaid > 0:        # the central bank buys the bonds buyers cannot pay for
            flows = np.zeros(m.K)
            flows[BONDS] = -self._cb_bond_share * sold[BONDS]
            sheet.books.append(OutsideFlows(flows, Constraint.BACKSTOP))
            unpaid += dot(flows, p)
        if unpaid > 1e-12 and m.cfg.channels.crowding_out:
            # outside holders sell the same share of each position, weighted by conviction: units in
            # proportion to the weights, worth ``unpaid`` at today's prices (a crashed asset's share shrinks)
            self.rotation_bn += unpaid
            w = m.crowding_weights
            sheet.books.append(OutsideFlows(w * (unpaid / dot(w, p)), Constraint.CROWDING_OUT))

    def settle(self, record: RoundRecord) -> None:
        """What a cleared round settles, in order (engine ``Rules.settle``)."""
        m = self.m
        proceeds = record.proceeds
        if proceeds is not None:
            self._pay_sellers(proceeds, record.sold)
        retail, totals = [], []
        for book, book_totals in zip(record.books, record.book_totals):
            if isinstance(book, NewIssues):
                self._settle_issues(book, record.clearing.execution_prices[book.asset])
            elif isinstance(book, RetailOrders):
                retail.append(book)
                totals.append(book_totals)
        if retail:
            m.retail.settle_books(retail, totals, record.clearing.execution_prices)
        labels = record.labels
        if proceeds is not None and (Constraint.MARGIN_CALL in labels or Constraint.COVENANT_BREACH in labels
                                     or Constraint.RELEVERAGE in labels):
            for row in np.flatnonzero(proceeds != 0):   # uses of proceeds: margin debt, GPU loans
                if labels[row] in (Constraint.MARGIN_CALL, Constraint.RELEVERAGE):
                    m.hedge_funds.settle(row, proceeds[row])
                elif labels[row] == Constraint.COVENANT_BREACH and proceeds[row] > 0:
                    m.neoclouds.settle(row, proceeds[row])
        if record.round > 0:
            m.defaults.settle_liquidated()
        m.pc_funds.pass_estate_cash_to_creditors()        # a defaulted lender's estate collects for its creditors
        m.event_log.record_round(record)
        m.sovereigns.pay_calls()
        if record.round == 0 and (m.pc_funds.due_now or m.hedge_funds.due_now):
            nav_unit = m.book.nav_per_unit(m.fund_nav())
            m.pc_funds.pay_redemptions(nav_unit)
            m.hedge_funds.pay_redemptions(nav_unit)

    def idle(self, round_no: int) -> None:
        self.m.defaults.settle_liquidated()

    def busy(self) -> bool:
        return self.m.defaults.busy()

    # ------------------------------------------------------------------ who pays whom
    def _pay_sellers(self, proceeds: np.ndarray, sold_units: np.ndarray) -> None:
        """Sellers are paid; buyers in the model pay outside sellers, whose cash becomes idle
        (``proceeds`` per holder row)."""
        sells = np.maximum(proceeds, 0.0)
        buys = np.maximum(-proceeds, 0.0)
        bonds = 0.0
        if self._cb_bond_share > 0:
            bonds = float(fast_sum(np.maximum(sold_units[:, BONDS], 0.0) * self.m.prices[BONDS], axis=None))
        self.pay(sells, float(fast_sum(sells)), bonds)
        bought = float(fast_sum(buys))
        if bought > 0:
            self.m.book.cash -= buys
            self.m.pool.add(bought)

    def pay(self, cash_in, value: float, bond_value: float) -> None:
        """``value`` paid to sellers (``cash_in``: per book row): phi(W) from the pool, the central
        bank's share of ``bond_value`` from its balance sheet, the rest by outside buyers (who sold
        other assets for it)."""
        m = self.m
        b = m.book
        from_pool = m.pool.take(value * self.buyer_cash_share)
        from_cb = self._cb_bond_share * bond_value
        outside = value - from_pool - from_cb
        b.cash += cash_in
        if from_cb > 0:
            b.record(from_cb, "central_bank_purchases")
            m.central_bank.purchases_bn += from_cb
        if outside > 0:
            b.record(outside, "outside_buyers")

    def _settle_issues(self, book: NewIssues, price: float) -> None:
        """Issuers receive the new bonds' proceeds and owe them (at par: the proceeds, at the coupon of
        today's yield)."""
        m = self.m
        raised = book.units * price
        cash_in = np.zeros(len(m.book.cash))
        np.add.at(cash_in, book.rows, raised)
        total = float(fast_sum(raised))
        self.pay(cash_in, total, total)
        for row, amount in zip(book.rows.tolist(), raised.tolist()):
            m.hyperscalers.issue_debt(row, amount)
