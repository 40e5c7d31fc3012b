"""The cascade loop: clear what is on the order sheet, settle it, let the holders react.

One round (:meth:`CascadeLoop.clear_round`):

1. every asset's market clears once against the round's net sales (:func:`sim.engine.market.clear`),
   and the market's prices move;
2. each holder on the sheet sells what it ordered, at most what it holds, and is paid the execution
   price (:func:`settle_sales`);
3. the rules settle what the round did (who bought, what the proceeds repay, who defaults) from the
   round's :class:`RoundRecord`.

Between rounds the rules *act* (:meth:`Rules.act`): they check every constraint at the prices the
last round left and put the orders those constraints force on a fresh sheet. Two schedules run the
same rounds: :meth:`CascadeLoop.run_until_quiet` (the model's weekly cascade: round 0 clears what was
decided on the week's opening state, then rounds continue while constraints force sales) and
:meth:`CascadeLoop.run_rounds` (the INET stress tests: a fixed number of rounds, each clearing what
the previous one ordered).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from sim.engine.fixed import row_dot
from sim.engine.market import Clearing, ExecutionPrice, ImpactLaw, clear
from sim.engine.orders import OrderSheet


@dataclass(frozen=True, slots=True)
class RoundRecord:
    """What one round did."""

    round: int
    clearing: Clearing            # prices before, after and paid
    labels: list                  # why each holder of the sheet traded (None: no order)
    sold: np.ndarray              # (N, K) units each holder of the sheet sold
    proceeds: np.ndarray | None   # (N,) value each received at the execution prices (None: nobody sold)
    books: list                   # population books and outside flows cleared with the sheet
    book_totals: list             # net units sold of each book (K,)


class Market(Protocol):
    """Prices and their impact: what the loop clears against."""

    prices: np.ndarray

    def impact_per_unit(self) -> np.ndarray:
        """lambda_k of this round's clearing (K,)."""

    def move(self, clearing: Clearing) -> None:
        """Take the clearing's new prices."""


class Rules(Protocol):
    """The holders' side of the cascade: the constraint checks and the uses of a round's proceeds."""

    def act(self, sheet: OrderSheet, round_no: int) -> None:
        """Put the orders forced at the current prices on ``sheet`` (cleared in round ``round_no``)."""

    def settle(self, record: RoundRecord) -> None:
        """Settle what a cleared round did."""

    def idle(self, round_no: int) -> None:
        """A round in which nobody had to sell (``run_until_quiet``)."""

    def busy(self) -> bool:
        """Whether work is left although nobody had to sell (``run_until_quiet``)."""


def settle_sales(holdings: np.ndarray, orders: np.ndarray, execution_prices: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Each holder sells min(ordered, held) units (``holdings`` is updated in place) and receives their
    value at ``execution_prices``. Returns (units sold (N, K), proceeds (N,))."""
    sold = np.minimum(orders, holdings)
    proceeds = row_dot(sold, execution_prices)
    holdings -= sold
    return sold, proceeds


class CascadeLoop:
    """Rounds of clearing and reaction over one set of holdings."""

    def __init__(self, holdings: np.ndarray, market: Market, rules: Rules, *,
                 law: ImpactLaw = ImpactLaw.EXPONENTIAL, execution: ExecutionPrice = ExecutionPrice.MID):
        self.holdings = holdings        # (N, K) units, updated in place by every settlement
        self.market = market
        self.rules = rules
        self.law = law
        self.execution = execution

    def new_sheet(self) -> OrderSheet:
        return OrderSheet(self.holdings, self.market.prices)

    def clear_round(self, round_no: int, sheet: OrderSheet) -> RoundRecord:
        """Clear ``sheet`` (every asset once), settle its sales and let the rules settle the round."""
        market = self.market
        totals = sheet.totals()
        clearing = clear(market.prices, totals, market.impact_per_unit(), self.law)
        market.move(clearing)
        if sheet.has_institutional_orders():
            sold, proceeds = settle_sales(self.holdings, sheet.units, clearing.paid(self.execution))
        else:
            sold, proceeds = sheet.units, None
        record = RoundRecord(round_no, clearing, sheet.labels, sold, proceeds, sheet.books, sheet.book_totals)
        self.rules.settle(record)
        return record

    def run_until_quiet(self, first: OrderSheet, max_rounds: int) -> list[RoundRecord]:
        """Round 0 clears ``first``; then the rules act and rounds clear until a round forces no sale
        and no work is left, or after ``max_rounds`` rounds."""
        records = [self.clear_round(0, first)]
        for r in range(1, max_rounds + 1):
            sheet = self.new_sheet()
            self.rules.act(sheet, r)
            if sheet.empty():
                self.rules.idle(r)
                if not self.rules.busy():
                    break
                continue
            records.append(self.clear_round(r, sheet))
        return records

    def run_rounds(self, rounds: int, first: OrderSheet | None = None, start: int = 1) -> list[RoundRecord]:
        """``rounds`` rounds numbered from ``start``, each clearing what the previous one ordered
        (``first`` for the first; an empty sheet if None), the rules acting after every clearing."""
        sheet = first if first is not None else self.new_sheet()
        records = []
        for r in range(start, start + rounds):
            records.append(self.clear_round(r, sheet))
            sheet = self.new_sheet()
            self.rules.act(sheet, r)
        self.pending = sheet
        return records
