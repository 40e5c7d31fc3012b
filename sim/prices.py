"""The model's asset markets: prices, yields and spreads, what moves them, and their memory (MODEL.md §6.0).

A price is exp(F + V + I): F, the *fundamental* part, accumulates drift, weekly news (a factor model
whose variance clusters, GARCH(1,1)), GPU generations, capex news and default events; V, the
*valuation* part of equities, is set by the rise of the cost of capital (term premium and IG spread)
through the asset's duration; I, the *impact* part, is what trades did: every clearing's impact splits
into a permanent part and a transient part that decays with the asset's half-life (market resilience).

Yields and spreads are read off the two bond prices, so they too come from what is bought and sold:
the 10y yield is y0 - log(P_ust) / D_ust (its expected-rate part follows the policy path and rate news,
its term premium the flows), the IG yield y0 + s0 - log(P_ig) / D_ig, the spread their difference.

:class:`AssetMarkets` is also the :class:`sim.engine.Market` the weekly cascade clears against: impact
per unit 1 / (depth_k x depth multiplier), thinning as the pool drains (zero with
``channels.price_impact`` off).
"""

from __future__ import annotations

import math

import numpy as np

from sim import draws
from sim.constraints import maintenance_margins, realised_vol
from sim.domain import ASSETS, Asset
from sim.engine import fixed
from sim.liquidity import CostOfCapital

#: Weekly closes kept (the momentum signal looks 13 weeks back).
HISTORY_WEEKS = 30
BONDS = (Asset.UST, Asset.IG_BONDS)


class AssetMarkets:
    def __init__(self, model):
        self.model = model
        cfg = model.cfg
        self.dt = model.dt
        p = [cfg.assets[a] for a in ASSETS]
        k = len(ASSETS)
        self.duration = np.array([x.duration for x in p])
        self.margin = np.array([x.margin for x in p])
        self.spread_beta = np.array([x.spread_beta for x in p])
        self.drift = np.array([x.drift for x in p])
        self.vol = np.array([x.vol for x in p])
        self.depth = np.array([x.depth_bn for x in p])
        self.cash_depth_share = np.array([x.cash_depth_share for x in p])
        self.generation_beta = np.array([x.generation_beta for x in p])
        self.capex_beta = np.array([x.capex_beta for x in p])
        self.permanent = np.array([x.permanent_impact for x in p])
        self.impact_memory = np.array([0.5 ** (1.0 / x.impact_half_life_weeks) for x in p])   # kept per week
        self.max_move = cfg.market.circuit_breaker              # the engine's clearing limit per round
        self.loadings = np.array([[x.market_loading, x.ai_loading, x.rates_loading] for x in p])     # (K, 3)
        self.own_loading = np.sqrt(np.maximum(1.0 - np.add.reduce(self.loadings ** 2, 1), 0.0))
        self.equity = np.ones(k, dtype=bool)
        self.equity[list(BONDS)] = False
        # the weekly drift and volatility of the news, (mu - sigma^2 / 2) dt and sigma sqrt(dt)
        self._drift_per_step = (self.drift - 0.5 * self.vol ** 2) * self.dt
        self._vol_per_step = self.vol * math.sqrt(self.dt)
        self.news_variance = 1.0                        # GARCH: this week's news variance / its mean
        self.spread_news = 0.0                          # the IG spread's own news, decimal
        self.fundamental = np.zeros(k)                  # cumulative log: drift, news, events
        self.impact_permanent = np.zeros(k)             # cumulative log impact that stays
        self.impact_transient = np.zeros(k)             # ... that decays
        self.valuation = np.zeros(k)                    # log: the cost of capital's effect on equities
        self.prices = np.ones(k)
        self._last_capex_rate = None
        self._credit_loss_share = 0.0                   # priced into IG so far
        r, cb = cfg.rates, cfg.central_bank
        self.y0 = r.ust10y_pct / 100                    # 10y yield at t=0
        self.s0 = r.ig_spread_bp / 1e4                  # IG spread at t=0
        self.policy0 = cb.policy_rate_pct / 100
        self.coc = CostOfCapital(self.policy0, self.y0 - self.policy0, self.s0)
        # weekly log returns of the volatility window, a ring buffer (rows in arrival order until full)
        self._returns = np.zeros((cfg.hedge_funds.vol_window_weeks, k))
        self.weeks_closed = 0            # weeks whose close is recorded; the latest return is row (n - 1) % window
        self.price_history = [self.prices.copy()]    # weekly closes (the last HISTORY_WEEKS), t=0 first
        self._margins_step = None        # (key, realised vol, maintenance margins): fixed within a step
        self._primed = False             # the volatility window holds a calibrated pre-t=0 history
        self._policy_in_ust = 0.0        # the policy path's part of the UST price so far, log

    def prime_history(self) -> None:
        """A calm, consistent start: the volatility window holds a history of weekly news drawn before
        t=0 (from the model's generator; prices do not move), rescaled so that each asset's realised
        volatility over it is exactly its normal volatility; margins therefore start at their normal
        levels, and the news variance at its mean."""
        n = len(self._returns)
        history = np.array([self._news() for _ in range(n)])
        dev = history - np.add.reduce(history, 0) / n
        sd = np.sqrt(np.add.reduce(dev * dev, 0) / (n - 1))
        self._returns[:] = dev * np.divide(self._vol_per_step, sd, out=np.zeros_like(sd), where=sd > 0)
        self.news_variance = 1.0
        self.spread_news = 0.0
        self._primed = True

    # ---------------------------------------------------------------- the engine's Market
    def impact_per_unit(self) -> np.ndarray:
        """lambda_k = 1 / (depth_k (1 - c_k (1 - fill))), per unit (a unit was worth $1 at t=0), with c_k
        the share of the market's depth that is idle cash and fill = min(W / ample, 1):
        selling ``depth_bn`` units moves log price by one. Depth in dollars is the market's value over
        its flow multiplier (Gabaix & Koijen 2021), so it scales with the price: a dollar sold moves a
        market that has doubled half as much."""
        if not self.model.cfg.channels.price_impact:
            return np.zeros(len(self.prices))
        return 1.0 / (self.depth * (1.0 - self.cash_depth_share * (1.0 - self.model.pool.fill())))

    def move(self, clearing) -> None:
        """A clearing's impact: part of it stays, the rest decays with the asset's half-life."""
        log_factor = fixed.log(clearing.factor)
        self.impact_permanent += self.permanent * log_factor
        self.impact_transient += (1.0 - self.permanent) * log_factor
        self.prices = self.prices * clearing.factor
        self._update_rates()

    def apply_price_factor(self, factor: np.ndarray) -> None:
        """Multiply prices by ``factor`` (a jump in fundamentals, such as a defaulter's equity written off)."""
        self.fundamental += fixed.log(factor)
        self.prices = self.prices * factor
        self._update_rates()

    # ---------------------------------------------------------------- 5. prices
    def _news(self, ai_shock: float | None = None) -> np.ndarray:
        """This week's news, log returns (K,): market, AI and rates factors plus each asset's own
        shock, scaled by the GARCH variance, which the market factor's shock updates. IG moves with
        the 10y's rate news and its own spread news, a mean-reverting process correlated with the
        market factor (``rates.spread_*``). ``ai_shock``: the AI factor, when the week's AI-revenue news
        has drawn it (AI equities and AI revenue move on the same news)."""
        m = self.model
        z = draws.standard_normal(m.rng, 3 + len(ASSETS))
        if ai_shock is not None:
            z[1] = ai_shock
        g = math.sqrt(self.news_variance)
        news = self._vol_per_step * g * (fixed.row_dot(self.loadings, z[:3]) + self.own_loading * z[3:])
        r = m.cfg.rates
        rho = r.spread_market_corr
        spread_shock = rho * float(z[0]) + math.sqrt(1.0 - rho * rho) * float(z[3 + Asset.IG_BONDS])
        step = r.spread_vol_bp / 1e4 * math.sqrt(self.dt) * g * spread_shock
        decay = 0.5 ** (self.dt / r.spread_half_life_years)
        spread_change = (decay - 1.0) * self.spread_news + step
        self.spread_news += spread_change
        d = self.duration
        news[Asset.IG_BONDS] = news[Asset.UST] * d[Asset.IG_BONDS] / d[Asset.UST] - d[Asset.IG_BONDS] * spread_change
        mk = m.cfg.market
        self.news_variance = (1.0 - mk.garch_alpha - mk.garch_beta) + mk.garch_alpha * self.news_variance * float(z[0] * z[0]) \
            + mk.garch_beta * self.news_variance
        return news

    def reprice(self, capex_rate_bn: float) -> None:
        """The week's fundamental move: transient impact decays, drift and news, a GPU generation, the
        change in capex (``capex_rate_bn``: last week's capex paid), the policy path in the 10y yield,
        credit losses in IG, and the equities' valuation at the new cost of capital."""
        m = self.model
        self.impact_transient *= self.impact_memory
        self.fundamental += self._drift_per_step + self._news(m.world.ai_shock)
        if m.world.generation_now:
            self.fundamental += self.generation_beta * m.world.generation_now
        prev, rate = self._last_capex_rate, capex_rate_bn
        if prev and prev > 0 and rate > 0:       # capex feeds the hardware makers' cash flows (and weighs on the spenders' FCF)
            self.fundamental += self.capex_beta * fixed.log(rate / prev)
        self._last_capex_rate = rate
        # used GPUs lose value as they age (economic depreciation)
        self.fundamental[Asset.USED_GPU] -= m.cfg.gpu.depreciation_per_yr * self.dt
        self._rates_fundamentals()
        self._set_prices()

    def _rates_fundamentals(self) -> None:
        """The expected-rate part of the 10y follows the policy path (``rates.policy_pass_through``);
        IG reprices the model's credit losses as expected losses (``rates.spread_per_credit_loss_bp``)."""
        m = self.model
        r = m.cfg.rates
        policy_move = m.world.policy_rate - self.policy0
        target = -self.duration[Asset.UST] * r.policy_pass_through * policy_move
        step = target - self._policy_in_ust
        self._policy_in_ust = target
        self.fundamental[Asset.UST] += step
        self.fundamental[Asset.IG_BONDS] += step * self.duration[Asset.IG_BONDS] / self.duration[Asset.UST]
        share = min(m.defaults.credit_losses_bn / max(m.initial_credit, 1e-9), 1.0)
        self.fundamental[Asset.IG_BONDS] -= self.duration[Asset.IG_BONDS] * (share - self._credit_loss_share) \
            * r.spread_per_credit_loss_bp / 1e4
        self._credit_loss_share = share

    def _set_prices(self) -> None:
        """Prices from their parts; equities valued at the cost of capital the bond prices imply."""
        base = self.fundamental + self.impact_permanent + self.impact_transient
        bonds = fixed.exp(base[list(BONDS)])
        coc = self._rates_from(bonds[0], bonds[1])
        # the rise of the cost of capital equities discount at: the term premium that flows put into the
        # 10y (expected rates reach equities through their own news) and the IG spread's rise
        premium = -(self.impact_permanent[Asset.UST] + self.impact_transient[Asset.UST]) / self.duration[Asset.UST]
        dr = premium + self.spread_beta * (coc.ig_spread - self.s0)
        self.valuation = np.where(self.equity, -fixed.log(np.maximum(1.0 + self.duration * dr, 0.25)), 0.0)
        self.prices = fixed.exp(base + self.valuation)
        self.coc = coc

    def _rates_from(self, p_ust: float, p_ig: float) -> CostOfCapital:
        y = self.y0 - fixed.log(p_ust) / self.duration[Asset.UST]
        y_ig = self.y0 + self.s0 - fixed.log(p_ig) / self.duration[Asset.IG_BONDS]
        policy = self.model.world.policy_rate
        return CostOfCapital(policy, y - policy, y_ig - y)

    def _update_rates(self) -> None:
        self.coc = self._rates_from(float(self.prices[Asset.UST]), float(self.prices[Asset.IG_BONDS]))

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
        """Weekly log returns of the volatility window, oldest first (rows: weeks, columns: assets);
        before the window has filled with the run's own weeks, the primed history fills the rest."""
        n, window = self.weeks_closed, len(self._returns)
        if n >= window or self._primed:
            return np.roll(self._returns, -(n % window), axis=0)
        return self._returns[:n].copy()

    def realised_vol(self) -> np.ndarray:
        """Annualised volatility of each asset over the window (the order of weeks does not matter)."""
        n = len(self._returns) if self._primed else self.weeks_closed
        return realised_vol(self._returns[:max(n, self.weeks_closed)])

    def margins(self) -> tuple[np.ndarray, np.ndarray]:
        """(realised vol, maintenance margins) of this step: both depend only on past weekly returns,
        so they are computed once a step."""
        key = (self.model.steps, self.weeks_closed)
        if self._margins_step is None or self._margins_step[0] != key:
            vol = self.realised_vol()
            self._margins_step = (key, vol, maintenance_margins(self.margin, vol, self.vol,
                                                                self.model.cfg.market.margin_vol_elasticity))
        return self._margins_step[1], self._margins_step[2]
