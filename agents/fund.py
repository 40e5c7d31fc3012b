"""What private-credit and hedge funds share: investors who ask for their money back (MODEL.md §6.3).

At each quarter end outside investors request a share of NAV (:func:`redemption_request_share`); a
sovereign fund short of cash may redeem its own fund shares too. A request is paid after a lag, from
cash, and the fund puts assets up for sale in round 0 of the cascade to raise what cash lacks
(:meth:`FundGroup.redemption_orders`); the type decides how (private credit: most liquid first,
within its gate; hedge funds: pro rata, keeping leverage). Payment (:meth:`FundGroup.pay_redemptions`)
cancels the redeemed units at the NAV per unit; what cannot be paid stays queued.
"""

from __future__ import annotations

import numpy as np

from agents.base import AgentGroup, H, Holder
from sim.arrays import fast_sum
from sim.engine import MATERIAL_BN


#: No redemption is due before this step.
NEVER = 2 ** 62


class Fund(Holder):
    """A fund with outside investors: a queue of (due step, investor row or -1 for outsiders, $bn)."""

    def __init__(self, model, name: str):
        super().__init__(model, name)
        self.redemption_queue: list[tuple[int, int, float]] = []


class FundGroup(AgentGroup[H]):
    """Funds of one type and their redemption queues."""

    def __init__(self, model, members, params):
        super().__init__(model, members)
        self.params = params                 # the type's config section (redemption_* keys)
        self.next_due = NEVER                # earliest due step in any member's queue
        self.due_now: dict[int, list] = {}   # row -> [due requests, amount to pay] this week
        self.requests_bn = 0.0               # outside investors' requests so far

    def request_redemptions(self, nav: np.ndarray, nav_quarter_ago: np.ndarray) -> None:
        """Quarter end: outside investors ask for base + sensitivity x the quarter's NAV loss."""
        if not self.members:
            return
        p, m = self.params, self.model
        rows = self.row_index
        share = redemption_request_share(nav[rows], nav_quarter_ago[rows], p.redemption_base_per_qtr,
                                         p.redemption_sensitivity)
        for f, s, row in zip(self.members, share, rows):
            if f.defaulted or nav[row] <= 0:
                continue
            self.queue(f, m.steps + p.redemption_lag_steps, -1, s * nav[row])
            self.requests_bn += float(s * nav[row])

    def queue(self, fund, due_step: int, investor_row: int, value_bn: float) -> None:
        """A redemption request (investor row -1: outside investors), paid from ``due_step`` on."""
        fund.redemption_queue.append((due_step, investor_row, value_bn))
        self.next_due = min(self.next_due, due_step)

    @staticmethod
    def queued_by(fund, investor_row: int) -> float:
        """What ``investor_row`` has asked ``fund`` for and not yet been paid."""
        return sum(q[2] for q in fund.redemption_queue if q[1] == investor_row)

    def redemption_orders(self, sheet) -> None:
        """Round 0: each fund with requests due this week raises the cash it lacks (see the type's
        :meth:`sale_for_redemption`)."""
        self.due_now = {}
        m = self.model
        if m.steps < self.next_due:
            return                      # nothing falls due before then: no fund needs to look
        next_due = NEVER
        for f in self.members:
            if not f.redemption_queue or f.defaulted:
                continue
            next_due = min(next_due, min(q[0] for q in f.redemption_queue))   # unpaid requests stay due
            due = [q for q in f.redemption_queue if q[0] <= m.steps]
            if not due:
                continue
            amount = self.sale_for_redemption(f, sum(q[2] for q in due), sheet)
            self.due_now[f.row] = [due, amount]
        self.next_due = next_due

    def sale_for_redemption(self, fund, amount: float, sheet) -> float:
        """Put up what ``fund`` sells to pay ``amount``; returns what it will pay (the type's rule)."""
        raise NotImplementedError

    def before_payment(self, fund, row: int, pay_total: float) -> None:
        """Hook run before a fund pays its redemptions (hedge funds repay debt to keep leverage)."""

    def pay_redemptions(self, nav_unit: np.ndarray) -> None:
        """Pay this week's due requests pro rata from cash, at the NAV per unit; the rest stays queued."""
        m = self.model
        b = m.book
        for row, (due, amount) in self.due_now.items():
            fund = m.holders[row]
            pay_total = min(amount, max(b.cash[row], 0.0))      # at most what the fund will pay (its gate)
            self.before_payment(fund, row, pay_total)
            requested = sum(q[2] for q in due)
            if pay_total <= 0 or requested <= 0:
                continue
            scale = pay_total / requested                       # every due request paid pro rata
            remaining = []
            for q in fund.redemption_queue:
                if q not in due:
                    remaining.append(q)
                    continue
                # an investor redeems at most the units it holds (outside investors: what the
                # model's investors do not hold), at the NAV per unit
                held = (b.fund_units[q[1], row] if q[1] >= 0
                        else b.fund_units_outstanding[row] - fast_sum(b.fund_units[:, row]))
                units = min(q[2] * scale / nav_unit[row], max(held, 0.0)) if nav_unit[row] > 0 else 0.0
                value = units * nav_unit[row]
                if units <= 0.0:
                    continue                    # nothing left to redeem: the request lapses
                if q[1] >= 0:
                    b.fund_units[q[1], row] -= units
                    b.transfer(row, q[1], value)
                    m.sovereigns.redeemed(q[1], value)
                else:
                    b.external(row, -value, "redemptions_paid")
                b.fund_units_outstanding[row] -= units
                if q[2] - value > MATERIAL_BN:
                    remaining.append((q[0], q[1], q[2] - value))
            fund.redemption_queue = remaining
            self.after_payment(fund, pay_total)
        self.due_now = {}

    def after_payment(self, fund, pay_total: float) -> None:
        """Hook run after a fund paid (private credit counts against its quarterly gate)."""


def redemption_request_share(nav_now: np.ndarray, nav_quarter_ago: np.ndarray, base: float,
                             sensitivity: float) -> np.ndarray:
    """Share of NAV investors ask back: a base rate plus phi times the quarter's loss."""
    ret = np.divide(nav_now, nav_quarter_ago, out=np.ones_like(nav_now), where=nav_quarter_ago > 0) - 1.0
    return np.clip(base + sensitivity * np.maximum(0.0, -ret), 0.0, 1.0)
