"""Constraints that force sales: margin requirements that rise with volatility (pure numpy).

Maintenance margin on asset k scales with its realised volatility (exchanges raise margins in
volatile markets; the articles cite silver margin lifted from 15% to 18%):

    mm_k = min(1, mm0_k * max(1, vol_k / vol0_k))      (vol0_k: the asset's normal volatility)

A leveraged account with assets A = sum_k v_k, debt D and equity E = A - D is called when
E < sum_k mm_k v_k. It sells pro rata until E >= m_init * (A - s), repaying debt with the
proceeds, i.e. s = A - E / m_init with m_init = max(1 / target_leverage, required share); a call
with s <= MATERIAL_BN ($1 thousand) is not made. An account with E <= 0 is closed out: everything is
sold and the broker bears the shortfall.
"""

from __future__ import annotations

import math

import numpy as np

from sim.arrays import fast_any, fast_sum
from sim.engine.fixed import row_dot
from sim.engine.orders import MATERIAL_BN


def maintenance_margins(base: np.ndarray, realised_vol: np.ndarray, vol_reference: np.ndarray) -> np.ndarray:
    """Per-asset maintenance margin, raised in proportion to volatility above its normal level
    (assets with no normal volatility keep their base margin)."""
    # vol / inf = 0 where there is no normal volatility, and max(1, 0) = 1 keeps the base margin: the
    # same numbers as a masked divide (which costs several plain ones), without its mask
    reference = np.where(np.asarray(vol_reference, dtype=float) > 0, vol_reference, np.inf)
    ratio = np.divide(realised_vol, reference)
    return np.minimum(np.multiply(base, np.maximum(ratio, 1.0)), 1.0)


def margin_call_sales(values: np.ndarray, debt: np.ndarray, mm: np.ndarray, target_leverage: "float | np.ndarray"
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Dollar sales each account must make (N,) and a close-out mask for accounts with E <= 0.

    ``values`` (N, K) market values, ``debt`` (N,), ``mm`` (K,) maintenance margins. A call worth
    ``MATERIAL_BN`` or less is not made (a close-out still sells everything): when maintenance margins
    exceed the initial margin, each round's sales restore the requirement only at that round's
    prices, and the calls that follow shrink a few hundred times a round down to floating-point dust.
    """
    assets = fast_sum(values, 1)
    equity = assets - debt
    required = row_dot(values, mm)
    in_debt = debt > 0
    called = in_debt & (equity < required)
    closed_out = in_debt & (equity <= 0)
    if not fast_any(called) and not fast_any(closed_out):     # the usual week: nobody is called
        return np.zeros(assets.shape), closed_out
    weight = np.divide(required, assets, out=np.zeros(assets.shape), where=assets > 0)
    m_init = np.maximum(1.0 / target_leverage, weight)
    target_assets = np.divide(np.maximum(equity, 0.0), m_init, out=np.zeros(equity.shape), where=m_init > 0)
    sales = np.where(called, np.clip(assets - target_assets, 0.0, assets), 0.0)
    sales[sales <= MATERIAL_BN] = 0.0
    sales = np.where(closed_out, assets, sales)
    return sales, closed_out


def realised_vol(log_returns: np.ndarray, periods_per_year: float = 52.0) -> np.ndarray:
    """Annualised realised volatility of each column of weekly log returns (0 with < 2 rows)."""
    n = log_returns.shape[0]
    if n < 2:
        return np.zeros(log_returns.shape[1])
    # log_returns.std(axis=0, ddof=1), spelled out (numpy's own steps, without its overhead)
    dev = log_returns - fast_sum(log_returns, 0, keepdims=True) / n
    dev *= dev
    return np.sqrt(fast_sum(dev, 0) / (n - 1)) * math.sqrt(periods_per_year)
