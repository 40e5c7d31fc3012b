"""Retail holders as one population agent whose state is arrays (100,000 holders without a Python
call per holder per step). Each holder h has cash c_h, units u_hk of each asset, margin debt d_h
(zero for cash accounts) and a running peak of its portfolio value.

Rules (MODEL.md §6.1), vectorised over holders:
* momentum (FOMO): spend c_h * kappa * sum_k w_hk min(max(0, r13_k), 0.5) / 13 a week, split over assets in
  proportion to w_hk max(0, r13_k), where r13_k is the asset's 13-week log return;
* panic: a holder whose portfolio is more than ``panic_drawdown`` below its peak sells
  ``panic_sale_share`` of its holdings once and takes today's value as its new peak;
* margin: accounts with debt follow :func:`sim.constraints.margin_call_sales`.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.config import RetailConfig
from sim.constraints import margin_call_sales

# Asset weights of retail portfolios (order of sim.config.ASSETS): momentum names dominate.
RETAIL_WEIGHTS = np.array([0.06, 0.0, 0.45, 0.27, 0.13, 0.08, 0.01, 0.0])

#: 13-week log return above which FOMO buying no longer intensifies.
MOMENTUM_SIGNAL_CAP = 0.5


class RetailPopulation(mesa.Agent):
    kind = "retail"

    def __init__(self, model: mesa.Model, params: RetailConfig, rng: np.random.Generator):
        super().__init__(model)
        self.name = "Retail holders"
        self.row = -1
        self.defaulted = False
        n = params.holders
        self.params = params
        self.n = n
        k = len(RETAIL_WEIGHTS)
        if n == 0:
            self.cash = np.zeros(0)
            self.units = np.zeros((0, k))
            self.debt = np.zeros(0)
            self.weights = np.zeros((0, k))
            self.peak = np.zeros(0)
            self.closed = np.zeros(0, dtype=bool)
            self.wealth_share = np.zeros(0)
            self.margin_accounts = np.zeros(0, dtype=int)
            return
        wealth = rng.lognormal(0.0, 1.0, n)
        wealth *= params.wealth_bn / wealth.sum()
        self.wealth_share = wealth / wealth.sum()
        on_margin = rng.random(n) < params.margin_share
        leverage = np.where(on_margin, params.margin_leverage, 1.0)
        gross = wealth * leverage
        self.debt = gross - wealth
        self.cash = gross * params.cash_share
        alpha = 20.0 * RETAIL_WEIGHTS + 1e-3
        self.weights = rng.dirichlet(alpha, n) * (RETAIL_WEIGHTS > 0)
        self.weights /= self.weights.sum(axis=1, keepdims=True)
        self.units = (gross - self.cash)[:, None] * self.weights  # prices are 1 at t=0
        self.peak = gross.copy()
        self.closed = np.zeros(n, dtype=bool)
        self.margin_accounts = np.nonzero(self.debt > 0)[0]   # rows that can face margin calls

    # ------------------------------------------------------------------ views
    def aggregate_units(self) -> np.ndarray:
        return self.units.sum(axis=0)

    def values(self, prices: np.ndarray) -> np.ndarray:
        return self.units * prices

    def equity(self, prices: np.ndarray) -> np.ndarray:
        return self.cash + self.units @ prices - self.debt

    # ------------------------------------------------------------------ rules
    def momentum_purchases(self, r13: np.ndarray, prices: np.ndarray) -> np.ndarray | None:
        """Units bought this week by each holder (N, K) from its own cash (None: nobody buys)."""
        signal = np.clip(r13, 0.0, MOMENTUM_SIGNAL_CAP)
        if self.n == 0 or not signal.any():
            return None
        # spend_h = c_h * kappa * strength_h / 13 (at most c_h), split in proportion to w_hk * signal_k:
        # units_hk = spend_h * w_hk * signal_k / (strength_h * P_k) = rate_h * w_hk * (signal_k / P_k)
        strength = self.weights @ signal
        rate = np.minimum(self.params.momentum_sensitivity / 13.0, np.divide(1.0, strength, out=np.zeros_like(strength), where=strength > 0))
        rate = self.cash * np.where(self.closed, 0.0, rate)
        return (rate[:, None] * self.weights) * (signal / prices)

    def panic_sales(self, prices: np.ndarray) -> np.ndarray:
        """Units sold (N, K) by holders in a drawdown deeper than ``panic_drawdown``: each sells
        ``panic_sale_share`` of its holdings once and resets its reference peak (capitulation), so
        panicking again takes a further fall of the same size."""
        value = self.cash + self.units @ prices
        self.peak = np.maximum(self.peak, value)
        in_panic = (value < (1.0 - self.params.panic_drawdown) * self.peak) & ~self.closed
        sold = self.units * (self.params.panic_sale_share * in_panic)[:, None]
        self.peak = np.where(in_panic, value, self.peak)
        return sold

    def margin_sales(self, prices: np.ndarray, mm: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Units sold (N, K) on margin calls (None: no call) and the close-out mask (equity wiped out)."""
        closed = np.zeros(self.n, dtype=bool)
        idx = self.margin_accounts
        if len(idx) == 0:
            return None, closed
        units = self.units[idx]
        values = units * prices
        # cash counts towards equity: only debt net of cash is at risk
        net_debt = np.maximum(self.debt[idx] - self.cash[idx], 0.0)
        sales_value, closed_idx = margin_call_sales(values, net_debt, mm, self.params.margin_leverage)
        if not sales_value.any():
            return None, closed
        sold = np.zeros_like(self.units)
        total = values.sum(axis=1)
        frac = np.divide(sales_value, total, out=np.zeros_like(total), where=total > 0)
        sold[idx] = units * np.clip(frac, 0.0, 1.0)[:, None]
        closed[idx] = closed_idx
        return sold, closed & ~self.closed
