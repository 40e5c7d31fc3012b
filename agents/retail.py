"""Retail holders as one population agent whose state is arrays (100,000 holders without a Python
call per holder per step). Each holder h has cash c_h, units u_hk of each asset, margin debt d_h
(zero for cash accounts) and a running peak of its portfolio value.

Rules (MODEL.md §6.1), vectorised over holders:
* momentum (FOMO): spend c_h * kappa * sum_k w_hk max(0, r13_k) / 13 a week, split over assets in
  proportion to w_hk max(0, r13_k), where r13_k is the asset's 13-week log return;
* panic: a holder whose portfolio is more than ``panic_drawdown`` below its peak sells
  ``panic_sale_share`` of its risky holdings that week;
* margin: accounts with debt follow :func:`sim.constraints.margin_call_sales`.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.config import RetailConfig
from sim.constraints import margin_call_sales

# Asset weights of retail portfolios (order of sim.config.ASSETS): momentum names dominate.
RETAIL_WEIGHTS = np.array([0.05, 0.0, 0.35, 0.25, 0.10, 0.20, 0.05, 0.0])


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

    # ------------------------------------------------------------------ views
    def aggregate_units(self) -> np.ndarray:
        return self.units.sum(axis=0)

    def values(self, prices: np.ndarray) -> np.ndarray:
        return self.units * prices

    def equity(self, prices: np.ndarray) -> np.ndarray:
        return self.cash + self.units @ prices - self.debt

    # ------------------------------------------------------------------ rules
    def momentum_purchases(self, r13: np.ndarray, prices: np.ndarray) -> np.ndarray:
        """Units bought this week by each holder (N, K) from its own cash."""
        signal = np.maximum(r13, 0.0)
        if self.n == 0 or not signal.any():
            return np.zeros_like(self.units)
        tilt = self.weights * signal
        strength = tilt.sum(axis=1)
        spend = np.minimum(self.cash, self.cash * self.params.momentum_sensitivity * strength / 13.0)
        spend = np.where(self.closed, 0.0, spend)
        split = np.divide(tilt, strength[:, None], out=np.zeros_like(tilt), where=strength[:, None] > 0)
        return spend[:, None] * split / prices

    def panic_sales(self, prices: np.ndarray) -> np.ndarray:
        """Units sold (N, K) by holders in a drawdown deeper than ``panic_drawdown``."""
        value = self.cash + self.units @ prices
        self.peak = np.maximum(self.peak, value)
        in_panic = (value < (1.0 - self.params.panic_drawdown) * self.peak) & ~self.closed
        return self.units * (self.params.panic_sale_share * in_panic)[:, None]

    def margin_sales(self, prices: np.ndarray, mm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Units sold (N, K) on margin calls and the close-out mask (equity wiped out)."""
        if self.n == 0:
            return np.zeros_like(self.units), np.zeros(0, dtype=bool)
        values = self.values(prices)
        # cash counts towards equity and is used first to repay debt
        net_debt = np.maximum(self.debt - self.cash, 0.0)
        sales_value, closed = margin_call_sales(values, net_debt, mm, self.params.margin_leverage)
        total = values.sum(axis=1)
        frac = np.divide(sales_value, total, out=np.zeros_like(total), where=total > 0)
        return self.units * np.clip(frac, 0.0, 1.0)[:, None], closed & ~self.closed
