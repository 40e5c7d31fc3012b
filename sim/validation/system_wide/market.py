"""The peer's asset market: linear price impact in absolute terms, haircuts, order book (SPEC.md §6).

Orders placed during a step are cleared once at the start of the next: each traded security's price
falls by ``beta_c * q / Q`` (floored at zero), where q is the quantity ordered this round and Q the
security's total quantity; haircuts of traded securities follow the price; then every order settles
at the mid-point of the old and the new price, capped at what the seller still holds.

:func:`absolute_linear_clearing` is the clearing primitive the peer needs beside the engine's
multiplicative laws (``p (1 - lambda q)``, ``p exp(-lambda q)``): the peer subtracts the impact from
the price, ``max(0, p - beta q / Q)``. It is written for any (K,) book so that it can move into the
engine's market module as a third impact law.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.markets import Clearing
from sim.validation.system_wide.institutions import Book
from sim.validation.system_wide.universe import CLASS_SLICES, N_SECURITIES

#: Price impact per asset class relative to beta (gov 1/2, corp 1, equities 2, other 1), SPEC.md §6.
CLASS_IMPACT = (0.5, 1.0, 2.0, 1.0)
#: Initial haircuts per class (gov 2 %, corp 4 %, equities 15 %, other 4 %) and the slope.
CLASS_HAIRCUT = (0.02, 0.04, 0.15, 0.04)
HAIRCUT_SLOPE = 100.0
#: Share of a security's market whose sale moves its price by ``price_impact`` (beta = pi / 0.05).
IMPACT_REFERENCE_SHARE = 0.05
SETTLE_EPS = 8e-9


def by_class(values) -> np.ndarray:
    out = np.zeros(N_SECURITIES)
    for c, s in enumerate(CLASS_SLICES):
        out[s] = values[c]
    return out


def absolute_linear_clearing(prices: np.ndarray, quantity_sold: np.ndarray, depth: np.ndarray,
                             impact: np.ndarray) -> Clearing:
    """One clearing with p_new = max(0, p - impact * q / depth) where q > 0 (engine primitive).

    Securities with no sale, or no depth, keep their price. Sellers are paid the mid-point price.
    """
    p_old = np.asarray(prices, dtype=float)
    q = np.asarray(quantity_sold, dtype=float)
    traded = (q > 0) & (depth > 0)
    p_new = p_old.copy()
    p_new[traded] = np.maximum(0.0, p_old[traded] + (-(q[traded] / depth[traded]) * impact[traded]))
    return Clearing(old_prices=p_old.copy(), new_prices=p_new, execution_prices=0.5 * (p_old + p_new))


@dataclass
class PeerMarket:
    """Prices, haircuts and the round's order book of the 93 securities."""

    prices: np.ndarray
    haircuts: np.ndarray
    depth: np.ndarray
    impact: np.ndarray           # beta_c per security
    haircut_contagion: bool
    orders: list                 # (institution, seized?, security, units) in the order they were placed
    ordered: np.ndarray          # (K,) units ordered this round (what moves the price)

    @classmethod
    def create(cls, depth: np.ndarray, price_impact: float, haircut_contagion: bool, n_agents: int) -> PeerMarket:
        beta = price_impact / IMPACT_REFERENCE_SHARE
        return cls(prices=np.ones(N_SECURITIES), haircuts=by_class(CLASS_HAIRCUT), depth=depth.copy(),
                   impact=by_class([beta * x for x in CLASS_IMPACT]), haircut_contagion=haircut_contagion,
                   orders=[], ordered=np.zeros(N_SECURITIES))

    def order(self, seized: bool, a: int, k: int, units: float) -> None:
        self.orders.append((a, seized, k, units))
        self.ordered[k] += units

    def clear(self, book: Book) -> Clearing:
        """Clear the round: move prices, update haircuts, settle every order; returns the clearing."""
        traded = self.ordered > 0
        clearing = absolute_linear_clearing(self.prices, self.ordered, self.depth, self.impact)
        self.prices = clearing.new_prices
        if self.haircut_contagion:
            fall = np.maximum(0.0, HAIRCUT_SLOPE * (1.0 - self.prices[traded]))
            self.haircuts[traded] = np.minimum(by_class(CLASS_HAIRCUT)[traded] + fall, 1.0)
        self._settle(book, (self.prices + clearing.old_prices).tolist())
        self.ordered[:] = 0.0
        return clearing

    def _settle(self, book: Book, price_sums: list[float]) -> None:
        """Settle the orders one by one in the order they were placed (each capped at what the seller
        still holds), paying the mid-point price; proceeds below 8e-9 are dropped, as in the peer."""
        cash = book.cash
        for a, seized, k, units in self.orders:
            held, for_sale = (book.seized_units, book.seized_for_sale) if seized else (book.units, book.for_sale)
            have = held[a, k]
            sold = min(have, units)
            held[a, k] = have - sold
            for_sale[a, k] -= sold
            value = sold * price_sums[k] / 2
            if value >= SETTLE_EPS:
                cash[a] += value
        self.orders = []
