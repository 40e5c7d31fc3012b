"""Markets: the pure price arithmetic every part of the model shares.

One clearing per asset per cascade round: the round's total sales move the price once
(order-independent), every holder is re-marked at the new price, and sellers are paid at the
mid-point of the old and the new price. Two impact laws are offered:

* ``"linear"`` (Greenwood, Landier & Thesmar 2015):      p_new = p * (1 - lambda * q)
* ``"exponential"`` (Cifuentes, Ferrucci & Shin 2005):   p_new = p * exp(-lambda * q)

where ``q`` is the quantity sold in the round and ``lambda`` the impact per unit sold. The
model's own markets use the exponential law with lambda_k = 1 / Depth_k (value sold per $bn of
depth moves log price by one), the INET peer uses lambda = beta / Q (market size in units).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IMPACT_LAWS = ("linear", "exponential")

#: Prices never fall below this fraction of their pre-round level in one clearing (linear law).
MIN_PRICE_RATIO = 1e-6


@dataclass(frozen=True)
class Clearing:
    """Result of one clearing: prices before and after, and the execution (mid-point) prices."""

    old_prices: np.ndarray
    new_prices: np.ndarray
    execution_prices: np.ndarray

    @property
    def returns(self) -> np.ndarray:
        """Simple price return of each asset in this clearing."""
        return self.new_prices / self.old_prices - 1.0


def impact_factor(quantity_sold: np.ndarray, impact_per_unit: np.ndarray, law: str = "exponential") -> np.ndarray:
    """Ratio p_new / p_old for each asset given the net quantity sold (negative = net bought)."""
    q = np.asarray(quantity_sold, dtype=float)
    lam = np.asarray(impact_per_unit, dtype=float)
    if law == "exponential":
        return np.exp(-lam * q)
    if law == "linear":
        return np.maximum(1.0 - lam * q, MIN_PRICE_RATIO)
    raise ValueError(f"unknown impact law {law!r}; allowed: {', '.join(IMPACT_LAWS)}")


def clear(prices: np.ndarray, quantity_sold: np.ndarray, impact_per_unit: np.ndarray,
          law: str = "exponential") -> Clearing:
    """Clear one round: ``quantity_sold`` is either (K,) totals or an (N, K) order book summed over N."""
    p_old = np.asarray(prices, dtype=float)
    q = np.asarray(quantity_sold, dtype=float)
    if q.ndim == 2:
        q = q.sum(axis=0)
    p_new = p_old * impact_factor(q, impact_per_unit, law)
    return Clearing(old_prices=p_old.copy(), new_prices=p_new, execution_prices=0.5 * (p_old + p_new))


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


def exponential_clearing(prices: np.ndarray, quantity_sold: np.ndarray, depth: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The model's own clearing in one pass: ``clear(prices, q, prices / depth, "exponential")``
    without the intermediate copies. Returns (p_new / p_old, execution prices, returns) with

        p_new = p * exp(-(p / depth) * q),   execution = (p + p_new) / 2,   return = p_new / p - 1.
    """
    p_new = prices * np.exp(-(prices / depth) * quantity_sold)
    factor = p_new / prices
    return factor, 0.5 * (prices + p_new), factor - 1.0
