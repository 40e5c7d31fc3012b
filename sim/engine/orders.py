"""Orders: what holders put up for sale in one cascade round, and how a sale is split over assets.

An :class:`OrderSheet` holds one round's institutional orders as an (N holders x K assets) array of
units plus the reason of each holder's order (a :class:`sim.domain.Constraint` or any label with a
``priority``). A holder has one order per round: an order of higher priority replaces a lower one
(a default liquidation beats a margin call, which beats a redemption ...); an order worth
``MATERIAL_BN`` or less is not placed; nobody sells more than it holds. Populations that keep their
own arrays (retail accounts) and outside holders add *books*: anything with ``totals(n_assets)``
giving net units sold per asset, cleared in the same clearing as the sheet.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from sim.engine.fixed import dot

#: Orders and claims below this ($1 thousand) are rounding noise, not economics: a sale, call or
#: payment this small is not made (MODEL.md §6.6). Close-outs still sell everything.
MATERIAL_BN = 1e-6


class OrderSheet:
    """One round's orders. ``units[i, k]``: units of asset k holder i sells; ``labels[i]``: why (None: no order)."""

    __slots__ = ("units", "labels", "books", "book_totals", "_holdings", "_prices")

    def __init__(self, holdings: np.ndarray, prices: np.ndarray):
        n, k = holdings.shape
        self.units = np.zeros((n, k))
        self.labels: list = [None] * n
        self.books: list = []               # population books and outside holders' flows (see module doc)
        self.book_totals: list = []         # each book's net units sold, as :meth:`totals` found them
        self._holdings = holdings
        self._prices = prices

    def put(self, row: int, units: np.ndarray, label) -> None:
        """Give holder ``row`` this order unless it is worth ``MATERIAL_BN`` or less or the holder
        already has an order of higher priority; capped at what the holder holds."""
        current = self.labels[row]
        if dot(units, self._prices) <= MATERIAL_BN or (current is not None and label.priority < current.priority):
            return
        self.units[row] = np.minimum(units, self._holdings[row])
        self.labels[row] = label

    def add(self, row: int, asset: int, units: float, label) -> None:
        """Add ``units`` of one asset to holder ``row``'s order (a sale decided before the round)."""
        self.units[row, asset] += units
        self.labels[row] = label

    def replace_rows(self, rows: np.ndarray, units: np.ndarray, label) -> None:
        """Set whole orders of several holders at once (``rows`` a mask or indices)."""
        self.units[rows] = units
        for i in np.flatnonzero(rows) if np.asarray(rows).dtype == bool else rows:
            self.labels[int(i)] = label

    def institutional_totals(self) -> np.ndarray:
        """Net units sold of each asset by the sheet's holders (K,)."""
        return np.add.reduce(self.units, 0)

    def totals(self) -> np.ndarray:
        """Net units sold of each asset, the sheet's holders and every book together (K,)."""
        total = self.institutional_totals()
        k = len(total)
        self.book_totals = [book.totals(k) for book in self.books]
        for t in self.book_totals:
            total = total + t
        return total

    def has_institutional_orders(self) -> bool:
        return bool(np.logical_or.reduce(self.units, axis=None))

    def empty(self) -> bool:
        return not self.books and not self.has_institutional_orders()


class OutsideFlows(NamedTuple):
    """Net units of each asset that holders outside the model sell this round (negative: buy). They
    move prices like any order but settle among outside holders, so nobody's balance sheet changes."""

    units: np.ndarray
    label: Any

    def totals(self, n_assets: int) -> np.ndarray:
        return self.units


def pro_rata_sale(holdings_units: np.ndarray, prices: np.ndarray, amount_value: np.ndarray) -> np.ndarray:
    """Units each holder sells to raise ``amount_value`` pro rata to the market value of its holdings.

    ``holdings_units`` (N, K), ``prices`` (K,), ``amount_value`` (N,). Sales are capped at what
    each holder owns: a holder asked for more than it has sells everything.
    """
    values = holdings_units * prices
    total = values.sum(axis=1)
    share = np.divide(np.minimum(amount_value, total), total, out=np.zeros_like(total), where=total > 0)
    return holdings_units * share[:, None]


def pecking_order_sale(holdings_units: np.ndarray, prices: np.ndarray, amount_value: np.ndarray,
                       order: np.ndarray) -> np.ndarray:
    """Units sold to raise ``amount_value``, exhausting assets in ``order`` (column indices) one by one.

    Used for conviction ordering (sell crypto, then software, ...) and most-liquid-first
    redemptions. Vectorised over holders: the cumulative value along the order decides how much of
    each asset is needed.
    """
    order = np.asarray(order, dtype=int)
    values = holdings_units[:, order] * prices[order]
    before = np.cumsum(values, axis=1) - values  # value available before reaching this asset
    need = np.asarray(amount_value, dtype=float)[:, None] - before
    take_value = np.clip(need, 0.0, values)
    frac = np.divide(take_value, values, out=np.zeros_like(values), where=values > 0)
    sold = np.zeros_like(holdings_units, dtype=float)
    sold[:, order] = holdings_units[:, order] * frac
    return sold
