"""The model's asset markets: prices, what moves them between cascades, and their memory (MODEL.md §6.0).

Prices are exp(flow + valuation + liquidity): a *flow* part that accumulates drift, noise, GPU
generations, capex news and every clearing's impact; a *valuation* part set by the discount rate
(duration times the rise of yields and spreads); a *liquidity* part set by how far the pool is drained.
:class:`AssetMarkets` is also the :class:`sim.engine.Market` the weekly cascade clears against: impact
per unit p_k / (depth_k x depth multiplier), which thins as the pool drains.
"""

from __future__ import annotations

import numpy as np

from sim import draws
from sim.constraints import maintenance_margins, realised_vol
from sim.domain import ASSETS, Asset
from sim.engine import fixed
from sim.liquidity import signed_pressure

#: Weekly closes kept (the momentum signal looks 13 weeks back).
HISTORY_WEEKS = 30


class AssetMarkets:
    def __init__(self, model):
        self.model = model
        cfg = model.cfg
        self.dt = model.dt
        p = [cfg.assets[a] for a in ASSETS]
        self.duration = np.array([x.duration for x in p])
        self.margin = np.array([x.margin for x in p])
        self.liquidity_beta = np.array([x.liquidity_beta for x in p])
        self.spread_beta = np.array([x.spread_beta for x in p])
        self.drift = np.array([x.drift for x in p])
        self.vol = np.array([x.vol for x in p])
        self.depth = np.array([x.depth_bn for x in p])
        self.generation_beta = np.array([x.generation_beta for x in p])
        self.capex_beta = np.array([x.capex_beta for x in p])
        # the weekly drift and volatility of the flow price, (mu - sigma^2 / 2) dt and sigma sqrt(dt)
        self._drift_per_step = (self.drift - 0.5 * self.vol ** 2) * self.dt
        self._vol_per_step = self.vol * np.sqrt(self.dt)
        self.prices = np.ones(len(ASSETS))
        self.flow_log_price = np.zeros(len(ASSETS))      # drift, noise, impact, events: cumulative log
        self._last_capex_rate = None
        # weekly log returns of the volatility window, a ring buffer (rows in arrival order until full)
        self._returns = np.zeros((cfg.hedge_funds.vol_window_weeks, len(ASSETS)))
        self.weeks_closed = 0            # weeks whose close is recorded; the latest return is row (n - 1) % window
        self.price_history = [self.prices.copy()]    # weekly closes (the last HISTORY_WEEKS), t=0 first
        self._margins_step = None        # (key, realised vol, maintenance margins): fixed within a step

    # ---------------------------------------------------------------- the engine's Market
    def impact_per_unit(self) -> np.ndarray:
        """lambda_k = p_k / (depth_k x the pool's depth multiplier): selling $depth moves log price by one."""
        return self.prices / (self.depth * self.model.pool.depth_multiplier())

    def move(self, clearing) -> None:
        self.apply_price_factor(clearing.factor)

    def apply_price_factor(self, factor: np.ndarray) -> None:
        """Multiply prices by ``factor`` (a clearing or a jump), keeping the decomposition."""
        self.flow_log_price += fixed.log(factor)
        self.prices = self.prices * factor

    # ---------------------------------------------------------------- 5. prices
    def reprice(self, capex_rate_bn: float) -> None:
        """The week's fundamental move: discount rate, pool depletion, drift and noise, a GPU
        generation, and the change in capex (``capex_rate_bn``: last week's capex paid)."""
        m = self.model
        coc = m.pool.coc
        dp = m.cfg.dry_powder
        dr = (coc.ust10y - m.pool.y0) + self.spread_beta * (coc.ig_spread - m.pool.s0)
        valuation = -fixed.log(np.maximum(1.0 + self.duration * dr, 0.25))
        liquidity = -self.liquidity_beta * signed_pressure(m.pool.x, dp.gamma, dp.eps)
        z = draws.standard_normal(m.rng, len(ASSETS))
        self.flow_log_price += self._drift_per_step + self._vol_per_step * z
        if m.world.generation_now:
            self.flow_log_price += self.generation_beta * m.world.generation_now
        # capex feeds the hardware makers' cash flows (and weighs on the spenders' FCF)
        prev = self._last_capex_rate
        rate = capex_rate_bn
        if prev and prev > 0 and rate > 0:
            self.flow_log_price += self.capex_beta * fixed.log(rate / prev)
        self._last_capex_rate = rate
        # used GPUs lose value as they age (economic depreciation)
        self.flow_log_price[Asset.USED_GPU] -= m.cfg.gpu.depreciation_per_yr * self.dt
        self.prices = fixed.exp(self.flow_log_price + valuation + liquidity)

    # ---------------------------------------------------------------- memory
    def close_week(self) -> None:
        """Record the week's close and its log return."""
        prev = self.price_history[-1]
        self._returns[self.weeks_closed % len(self._returns)] = fixed.log(self.prices / prev)
        self.weeks_closed += 1
        self.price_history.append(self.prices.copy())
        if len(self.price_history) > HISTORY_WEEKS:
            self.price_history.pop(0)

    def return_13w(self) -> np.ndarray:
        """13-week log return of each asset, the retail momentum signal: current prices against the
        close 13 weeks ago (against t=0 during the first quarter)."""
        hist = self.price_history          # closes of weeks weeks_closed - len + 1 ... weeks_closed
        first = self.weeks_closed - len(hist) + 1
        return fixed.log(self.prices / hist[max(self.model.steps - 13, 0) - first])

    @property
    def log_returns(self) -> np.ndarray:
        """Weekly log returns of the volatility window, oldest first (rows: weeks, columns: assets)."""
        n, window = self.weeks_closed, len(self._returns)
        return np.roll(self._returns, -(n % window), axis=0) if n >= window else self._returns[:n].copy()

    def realised_vol(self) -> np.ndarray:
        """Annualised volatility of each asset over the window (the order of weeks does not matter)."""
        return realised_vol(self._returns[:self.weeks_closed])

    def margins(self) -> tuple[np.ndarray, np.ndarray]:
        """(realised vol, maintenance margins) of this step: both depend only on past weekly returns,
        so they are computed once a step."""
        key = (self.model.steps, self.weeks_closed)
        if self._margins_step is None or self._margins_step[0] != key:
            vol = self.realised_vol()
            self._margins_step = (key, vol, maintenance_margins(self.margin, vol, self.vol))
        return self._margins_step[1], self._margins_step[2]
