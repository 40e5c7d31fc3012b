"""Constraints that force sales: margin requirements that rise with volatility (pure numpy).

Maintenance margin on asset k scales with its realised volatility (exchanges raise margins in
volatile markets; the articles cite silver margin lifted from 15% to 18%):

    mm_k = min(1, mm0_k * max(1, vol_k / vol0_k))      (vol0_k: the asset's normal volatility)

A leveraged account with assets A = sum_k v_k, debt D and equity E = A - D is called when
E < sum_k mm_k v_k. It sells pro rata until E >= m_init * (A - s), repaying debt with the
proceeds, i.e. s = A - E / m_init with m_init = max(1 / target_leverage, required share). An
account with E <= 0 is closed out: everything is sold and the broker bears the shortfall.
"""

from __future__ import annotations

import numpy as np


def maintenance_margins(base: np.ndarray, realised_vol: np.ndarray, vol_reference: np.ndarray) -> np.ndarray:
    """Per-asset maintenance margin, raised in proportion to volatility above its normal level
    (assets with no normal volatility keep their base margin)."""
    ref = np.asarray(vol_reference, dtype=float)
    ratio = np.divide(np.asarray(realised_vol, dtype=float), ref, out=np.ones_like(ref), where=ref > 0)
    return np.minimum(np.asarray(base) * np.maximum(1.0, ratio), 1.0)


def margin_call_sales(values: np.ndarray, debt: np.ndarray, mm: np.ndarray, target_leverage: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Dollar sales each account must make (N,) and a close-out mask for accounts with E <= 0.

    ``values`` (N, K) market values, ``debt`` (N,), ``mm`` (K,) maintenance margins.
    """
    assets = values.sum(axis=1)
    equity = assets - debt
    required = values @ mm
    called = (debt > 0) & (equity < required)
    closed_out = (debt > 0) & (equity <= 0)
    weight = np.divide(required, assets, out=np.zeros_like(assets), where=assets > 0)
    m_init = np.maximum(1.0 / target_leverage, weight)
    target_assets = np.divide(np.maximum(equity, 0.0), m_init, out=np.zeros_like(equity), where=m_init > 0)
    sales = np.where(called, np.clip(assets - target_assets, 0.0, assets), 0.0)
    sales = np.where(closed_out, assets, sales)
    return sales, closed_out


def realised_vol(log_returns: np.ndarray, periods_per_year: float = 52.0) -> np.ndarray:
    """Annualised realised volatility of each column of weekly log returns (0 with < 2 rows)."""
    if log_returns.shape[0] < 2:
        return np.zeros(log_returns.shape[1])
    return log_returns.std(axis=0, ddof=1) * np.sqrt(periods_per_year)
