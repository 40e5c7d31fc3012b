"""The peer's asset market on the cascade engine: absolute linear impact, haircuts, ordered book (SPEC.md §6).

Orders placed during a step clear once at the start of the next (:class:`sim.engine.CascadeLoop`,
one round per step): each traded security's price falls by ``slope_c * q / Q`` (floored at zero),
where q is the quantity ordered this round and Q the security's total quantity; haircuts of traded
securities follow the price; then the orders settle at the mid-point of the old and the new price.

Three primitives here are general and belong in :mod:`sim.engine` (they are kept apart only because
the engine is owned elsewhere; see the README of this folder):

* :func:`absolute_linear_clear` -- a third impact law, ``p' = max(0, p - slope * q / Q)``: the peer
  subtracts the impact from the price, where the engine's linear law scales the price;
* :class:`OrderLog` -- an :class:`sim.engine.OrderSheet` that also keeps every order in the sequence
  it was placed (a holder may order the same asset several times in a round) and adds up each
  asset's total in that sequence;
* :meth:`OrderLog.settle_in_order` -- settlement order by order in that sequence, each capped at what
  the seller still holds and paid into the payee's account as it settles (proceeds below a floor are
  dropped). Settling the sum instead changes the last bits of cash, and the peer compares cash with
  margin calls without tolerance.

:class:`OrderedCascadeLoop` is :class:`sim.engine.CascadeLoop` with these two swapped in: its round
loop (``run_rounds``) and records are the engine's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import CascadeLoop, Clearing, ExecutionPrice, ImpactLaw, OrderSheet, RoundRecord, clear
from sim.validation.system_wide.config import PriceImpact
from sim.validation.system_wide.universe import CLASS_SLICES, N_SECURITIES

#: Price impact per asset class relative to beta (gov 1/2, corp 1, equities 2, other 1), SPEC.md §6.
CLASS_IMPACT = (0.5, 1.0, 2.0, 1.0)
#: Initial haircuts per class (gov 2 %, corp 4 %, equities 15 %, other 4 %) and the slope.
CLASS_HAIRCUT = (0.02, 0.04, 0.15, 0.04)
HAIRCUT_SLOPE = 100.0
#: Share of a security's market whose sale moves its price by ``price_impact`` (beta = pi / 0.05).
IMPACT_REFERENCE_SHARE = 0.05
#: Proceeds at or below this are not paid (the peer's tolerance).
MIN_PROCEEDS = 8e-9


def by_class(values) -> np.ndarray:
    out = np.zeros(N_SECURITIES)
    for c, s in enumerate(CLASS_SLICES):
        out[s] = values[c]
    return out


def absolute_linear_clear(prices: np.ndarray, quantity_sold: np.ndarray, depth: np.ndarray,
                          slope: np.ndarray) -> Clearing:
    """One clearing with p' = max(0, p - slope * (q / depth)) where q > 0 (engine primitive).

    Assets with no sale, or no depth, keep their price. Sellers are paid the mid-point price.
    """
    p_old = np.asarray(prices, dtype=float)
    q = np.asarray(quantity_sold, dtype=float)
    traded = (q > 0) & (depth > 0)
    p_new = p_old.copy()
    p_new[traded] = np.maximum(0.0, p_old[traded] + (-(q[traded] / depth[traded]) * slope[traded]))
    return Clearing(old_prices=p_old.copy(), new_prices=p_new, execution_prices=0.5 * (p_old + p_new))


class OrderLog(OrderSheet):
    """An order sheet that keeps the orders in the sequence they were placed (engine primitive)."""

    def __init__(self, holdings: np.ndarray, prices: np.ndarray):
        super().__init__(holdings, prices)
        self.log: list[tuple[int, int, float]] = []
        self.ordered = np.zeros(holdings.shape[1])

    def add(self, row: int, asset: int, units: float, label) -> None:
        super().add(row, asset, units, label)
        self.log.append((row, asset, units))
        self.ordered[asset] += units

    def institutional_totals(self) -> np.ndarray:
        """Units ordered of each asset, added up in the order the orders came."""
        return self.ordered.copy()

    def has_institutional_orders(self) -> bool:
        return bool(self.log)

    def settle_in_order(self, holdings: np.ndarray, execution_prices: np.ndarray, accounts: np.ndarray,
                        payee: np.ndarray, reserved: np.ndarray | None = None,
                        min_proceeds: float = MIN_PROCEEDS) -> tuple[np.ndarray, np.ndarray]:
        """Settle the orders one by one: min(ordered, still held) units leave ``holdings`` (and
        ``reserved``, the units earmarked for sale) and their value at the execution price is added to
        ``accounts[payee[row]]`` unless it is at most ``min_proceeds``. Returns (sold, proceeds by row)."""
        sold = np.zeros_like(holdings)
        proceeds = np.zeros(holdings.shape[0])
        paid = execution_prices.tolist()
        for row, asset, units in self.log:
            have = holdings[row, asset]
            units_sold = min(have, units)
            holdings[row, asset] = have - units_sold
            if reserved is not None:
                reserved[row, asset] -= units_sold
            sold[row, asset] += units_sold
            value = units_sold * paid[asset]
            if value >= min_proceeds:
                accounts[payee[row]] += value
                proceeds[row] += value
        return sold, proceeds


class OrderedCascadeLoop(CascadeLoop):
    """The engine's cascade loop with the market's own clearing law and settlement in order.

    ``accounts``/``payee`` say whose cash each holding row's proceeds go to; ``reserved`` holds the
    units each row has put up for sale (cleared as they settle).
    """

    def __init__(self, holdings: np.ndarray, market: PeerMarket, rules, *, accounts: np.ndarray,
                 payee: np.ndarray, reserved: np.ndarray | None = None):
        super().__init__(holdings, market, rules, execution=ExecutionPrice.MID)
        self.accounts, self.payee, self.reserved = accounts, payee, reserved

    def new_sheet(self) -> OrderLog:
        return OrderLog(self.holdings, self.market.prices)

    def clear_round(self, round_no: int, sheet: OrderLog) -> RoundRecord:
        clearing = self.market.clear(sheet.totals())
        self.market.move(clearing)
        sold, proceeds = sheet.settle_in_order(self.holdings, clearing.paid(self.execution), self.accounts,
                                               self.payee, self.reserved)
        record = RoundRecord(round_no, clearing, sheet.labels, sold, proceeds, sheet.books, sheet.book_totals)
        self.rules.settle(record)
        return record


@dataclass
class PeerMarket:
    """Prices, haircuts and depth of the 93 securities (the engine's ``Market`` protocol)."""

    prices: np.ndarray
    haircuts: np.ndarray
    depth: np.ndarray
    slope: np.ndarray            # beta_c per security: price fall for selling all of Q
    haircut_contagion: bool
    law: PriceImpact = PriceImpact.ABSOLUTE

    @classmethod
    def create(cls, depth: np.ndarray, price_impact: float, haircut_contagion: bool,
               law: PriceImpact = PriceImpact.ABSOLUTE) -> PeerMarket:
        beta = price_impact / IMPACT_REFERENCE_SHARE
        return cls(prices=np.ones(N_SECURITIES), haircuts=by_class(CLASS_HAIRCUT), depth=depth.copy(),
                   slope=by_class([beta * x for x in CLASS_IMPACT]), haircut_contagion=haircut_contagion,
                   law=PriceImpact(law))

    def impact_per_unit(self) -> np.ndarray:
        """Price fall per unit sold (slope / depth), for the engine's protocol."""
        return np.divide(self.slope, self.depth, out=np.zeros_like(self.slope), where=self.depth > 0)

    def clear(self, ordered: np.ndarray) -> Clearing:
        """The round's clearing; haircuts of every security ordered follow its new price."""
        if self.law == PriceImpact.ABSOLUTE:
            clearing = absolute_linear_clear(self.prices, ordered, self.depth, self.slope)
        else:
            clearing = clear(self.prices, ordered, self.impact_per_unit(), ImpactLaw(self.law.value))
        if self.haircut_contagion:
            traded = ordered > 0
            fall = np.maximum(0.0, HAIRCUT_SLOPE * (1.0 - clearing.new_prices[traded]))
            self.haircuts[traded] = np.minimum(by_class(CLASS_HAIRCUT)[traded] + fall, 1.0)
        return clearing

    def move(self, clearing: Clearing) -> None:
        self.prices = clearing.new_prices
