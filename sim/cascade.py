"""The week's cascade (MODEL.md §6.6): forced sales travel from holder to holder, round by round.

Assembled from the engine (:mod:`sim.engine`: order sheets, clearing with price impact, settlement,
the round loop and its records) and the agent types' rules. Round 0 clears what is decided on the
week's opening state: outside holders rotating out of other assets to absorb unfunded issuance, a
hyperscaler selling its own Treasuries, the sales that pay what falls due (fund redemptions, capital
calls cash cannot cover) and the retail week (momentum buying, panic selling). Every later round
clears what the prices left by the rounds before force (:meth:`WeeklyCascade.act`), in priority order
per holder: default liquidation > margin call > covenant breach (covenants in round 1 only). After a
clearing (:meth:`WeeklyCascade.settle`): sellers are paid by the pool's idle cash while it lasts,
then by outside buyers; the proceeds repay margin debt and prepay GPU loans; holders liquidated this
round settle their claims (Eisenberg-Noe); capital calls are paid (and, after round 0, redemptions).
The loop stops when a round forces no sale, or after ``simulation.max_cascade_rounds``.
"""

from __future__ import annotations

import numpy as np

from sim.arrays import fast_sum
from sim.domain import WEEKS_PER_QUARTER, Constraint
from sim.engine import CascadeLoop, OrderSheet, OutsideFlows, RoundRecord


class WeeklyCascade:
    """The engine's :class:`sim.engine.Rules` for the model: which group acts and settles when."""

    def __init__(self, model):
        self.m = model
        self.loop = CascadeLoop(model.book.units, model.market, self)
        self.queued: list[tuple[int, int, float, Constraint]] = []   # sales decided before the cascade
        self.outside_units = np.zeros(model.K)     # outside holders' crowding-out sales this week
        self.records: list[RoundRecord] = []       # this week's rounds
        self.max_rounds = 0                        # deepest cascade so far

    @property
    def last_rounds(self) -> int:
        """Rounds after round 0 in this week's cascade."""
        return self.records[-1].round if self.records else 0

    # ------------------------------------------------------------------ inputs from the week
    def open_week(self) -> None:
        m = self.m
        self.queued = []
        self.outside_units = np.zeros(m.K)
        self.records = []
        m.event_log.open_week()
        if m.steps % WEEKS_PER_QUARTER == 0:
            m.pc_funds.open_quarter()

    def queue_sale(self, row: int, asset: int, units: float, constraint: Constraint) -> None:
        """A sale decided before the cascade, cleared in round 0."""
        self.queued.append((row, asset, units, constraint))

    def crowding_out(self, value_by_asset: np.ndarray) -> None:
        """Outside holders sell these values ($bn per asset) in round 0 to buy unabsorbed issuance."""
        self.outside_units = value_by_asset / self.m.prices

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        m = self.m
        m.event_log.round_now = 0
        self.records = self.loop.run_until_quiet(self._round_zero_sheet(), m.cfg.simulation.max_cascade_rounds)
        self.max_rounds = max(self.max_rounds, self.last_rounds)
        m.pc_funds.mark_loan_books()

    def _round_zero_sheet(self) -> OrderSheet:
        """Everything decided on the week's opening state: queued sales (a hyperscaler's own
        Treasuries), the sales that pay what falls due this week (fund redemptions, capital calls cash
        cannot cover), outside holders' rotation and the retail week (panic sales, momentum buying)."""
        m = self.m
        sheet = self.loop.new_sheet()
        for row, asset, units, constraint in self.queued:     # hyperscalers: never a fund or a sovereign
            sheet.add(row, asset, units, constraint)
        m.pc_funds.redemption_orders(sheet)
        m.hedge_funds.redemption_orders(sheet)
        m.sovereigns.commitment_orders(sheet)
        sheet.books.append(OutsideFlows(self.outside_units, Constraint.CROWDING_OUT))
        self.outside_units = np.zeros(m.K)
        if m.retail.n:
            sheet.books.extend(m.retail.round_zero_orders(m.market.return_13w(), m.prices))
        return sheet

    def act(self, sheet: OrderSheet, round_no: int) -> None:
        """Orders forced by the prices the last round left (engine ``Rules.act``)."""
        m = self.m
        m.event_log.round_now = round_no
        m.defaults.liquidation_orders(sheet)
        _, mm = m.market.margins()
        m.hedge_funds.margin_orders(sheet, mm)
        if m.retail.n:
            m.retail.margin_act(sheet, mm)
        if round_no == 1:          # covenants are tested once a step: lenders act weekly
            m.neoclouds.covenant_orders(sheet, round_no)

    def settle(self, record: RoundRecord) -> None:
        """What a cleared round settles, in order (engine ``Rules.settle``)."""
        m = self.m
        proceeds = record.proceeds
        if proceeds is not None:
            self._pay_sellers(proceeds)
        retail = [(b, t) for b, t in zip(record.books, record.book_totals) if not isinstance(b, OutsideFlows)]
        if retail:
            m.retail.settle_books([b for b, _ in retail], [t for _, t in retail], record.clearing.execution_prices)
        labels = record.labels
        if proceeds is not None and (Constraint.MARGIN_CALL in labels or Constraint.COVENANT_BREACH in labels):
            for row in np.flatnonzero(proceeds > 0):    # uses of proceeds: margin debt, GPU loans
                if labels[row] == Constraint.MARGIN_CALL:
                    m.hedge_funds.settle(row, proceeds[row])
                elif labels[row] == Constraint.COVENANT_BREACH:
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

    def _pay_sellers(self, proceeds: np.ndarray) -> None:
        """Sellers paid from the pool while it lasts, then by outside buyers; buyers pay the pool
        (``proceeds`` per holder row)."""
        m = self.m
        b = m.book
        sells = np.maximum(proceeds, 0.0)
        buys = np.maximum(-proceeds, 0.0)
        sold = fast_sum(sells)
        from_pool = m.pool.take(sold * m.cfg.dry_powder.fire_sale_pool_share)
        outside = sold - from_pool
        b.cash += sells
        if outside > 0:
            b.record(outside, "outside_buyers")
        bought = fast_sum(buys)
        if bought > 0:
            b.cash -= buys
            m.pool.add(bought)
