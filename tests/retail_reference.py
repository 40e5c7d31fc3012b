"""Three implementations of one week of the retail rule (agents/retail.py, MODEL.md §6.1), checked
against each other by ``tests/test_retail.py`` and timed by ``benchmarks/run.py``:

* :func:`population_week` drives the model's own :class:`agents.retail.RetailPopulation` through
  the calls the cascade makes (``round_zero_orders`` / ``fill`` / ``settle``, then
  ``margin_orders`` / ``fill`` / ``settle`` / ``close_accounts``);
* :class:`NumpyRetail` is a plain numpy reference of the same arithmetic on dense (holders x
  assets) arrays, written the obvious way;
* :class:`MesaRetailModel` is the same rule written as one Mesa agent per holder, with Python
  scalars, stepped with ``model.agents.shuffle_do("step")``.

One week, with prices given (holders are price takers here: orders fill at the prices they were
decided at, so the three can be compared exactly):

1. savings inflow: c_h += inflow * wealth_share_h;
2. round 0, decided on the opening state: momentum purchases
   u_hk += c_h * min(kappa / 13, 1 / s_h) * w_hk * signal_k / P_k with s_h = sum_k w_hk signal_k,
   signal_k = min(max(r13_k, 0), 0.5) (nothing for closed accounts), and panic sales of
   ``panic_sale_share`` of the holdings of every open account whose value is more than
   ``panic_drawdown`` below its peak (whose peak then resets); both settle in cash;
3. round 1: margin calls (:func:`sim.constraints.margin_call_sales` on debt net of cash): called
   accounts sell pro rata, the proceeds repay debt, a call of at most ``MATERIAL_BN`` ($1 thousand)
   is not made; accounts with no equity left are closed out and their cash goes to the broker;
4. the population's total units per asset are recomputed after each round that traded.

All three start from the same state (drawn by ``RetailPopulation``) and end the same weeks with the
same totals (:func:`compare_states`), up to summation order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mesa
import numpy as np

from agents.retail import RetailPopulation
from sim.config import ASSETS, RetailConfig
from sim.engine import MATERIAL_BN

K = len(ASSETS)


# =============================================================================================
# Inputs: a price path with a rally and a crash, and the population's starting state
# =============================================================================================
@dataclass
class Week:
    prices: np.ndarray      # (K,) prices at which orders are decided and filled
    r13: np.ndarray         # (K,) 13-week log returns
    mm: np.ndarray          # (K,) maintenance margins
    inflow: float           # $bn of savings into brokerage cash this week


def price_path(weeks: int, seed: int = 7) -> list[Week]:
    """A weekly path: a 20-week rally (momentum buying), a 12-week crash of about 45% in the risky
    assets (panic sales and margin calls), then noise. Margins rise with the crash."""
    rng = np.random.default_rng(seed)
    drift = np.array([0.0, 0.0, 0.012, 0.015, 0.01, 0.02, 0.02, 0.0])
    crash = np.array([0.0, 0.0, -0.04, -0.05, -0.05, -0.07, -0.08, -0.02])
    vol = np.array([0.0, 0.0, 0.03, 0.05, 0.04, 0.08, 0.09, 0.01])
    base_mm = np.array([0.03, 0.10, 0.25, 0.30, 0.30, 0.50, 0.50, 0.50])
    logp = [np.zeros(K)]
    for t in range(1, weeks + 14):
        mu = drift if t < 20 else (crash if t < 32 else 0.0 * drift)
        logp.append(logp[-1] + mu + vol * rng.standard_normal(K))
    out = []
    for t in range(13, weeks + 13):
        stress = 1.0 + 2.0 * max(0.0, -(logp[t][5] - logp[t - 4][5]))
        out.append(Week(prices=np.exp(logp[t]), r13=logp[t] - logp[t - 13],
                        mm=np.minimum(base_mm * stress, 1.0), inflow=300.0 / 52.0))
    return out


def make_population(holders: int, seed: int = 11, margin_share: float = 0.15) -> RetailPopulation:
    """The model's retail population with ``holders`` accounts (a bare Mesa model as its host)."""
    params = RetailConfig(holders=holders, margin_share=margin_share)
    return RetailPopulation(mesa.Model(rng=seed), params, np.random.default_rng(seed))


def population_week(pop: RetailPopulation, week: Week) -> np.ndarray:
    """One week through the model's own calls (the cascade's order); returns total units (K,)."""
    pop.cash += week.inflow * pop.wealth_share
    total = None
    books = pop.round_zero_orders(week.r13, week.prices)
    for book in books:
        pop.settle(book, pop.fill(book, week.prices), forced=False)
    if books:
        total = pop.aggregate_units()
    book, closed = pop.margin_orders(week.prices, week.mm)
    if len(closed):
        pop.closed[closed] = True
    if book is not None:
        pop.settle(book, pop.fill(book, week.prices), forced=True)
        pop.close_accounts()
        total = pop.aggregate_units()
    return pop.aggregate_units() if total is None else total


# =============================================================================================
# Plain numpy reference
# =============================================================================================
class NumpyRetail:
    """The retail rule on dense (N, K) arrays, every holder in every pass."""

    def __init__(self, pop: RetailPopulation):
        p = pop.params
        self.kappa, self.drawdown, self.panic_share, self.leverage = (
            p.momentum_sensitivity, p.panic_drawdown, p.panic_sale_share, p.margin_leverage)
        self.signal_cap = p.momentum_signal_cap
        self.cash = pop.cash.copy()
        self.units = np.ascontiguousarray(pop.units)
        self.debt = pop.debt.copy()
        self.weights = np.ascontiguousarray(pop.weights)
        self.peak = pop.peak.copy()
        self.closed = pop.closed.copy()
        self.wealth_share = pop.wealth_share.copy()

    def week(self, w: Week) -> np.ndarray:
        self.cash += w.inflow * self.wealth_share
        # round 0: momentum and panic, both on the opening state
        signal = np.clip(w.r13, 0.0, self.signal_cap)
        orders = np.zeros_like(self.units)
        traded = False
        if signal.any():
            strength = self.weights @ signal
            rate = np.minimum(self.kappa / 13.0, np.divide(1.0, strength, out=np.zeros_like(strength), where=strength > 0))
            rate = self.cash * np.where(self.closed, 0.0, rate)
            orders -= (rate[:, None] * self.weights) * (signal / w.prices)
            traded = True
        value = self.cash + self.units @ w.prices
        self.peak = np.maximum(self.peak, value)
        in_panic = (value < (1.0 - self.drawdown) * self.peak) & ~self.closed
        orders += self.units * (self.panic_share * in_panic)[:, None]
        self.peak = np.where(in_panic, value, self.peak)
        traded = traded or bool(in_panic.any())
        self.units -= orders
        self.cash += orders @ w.prices
        total = self.units.sum(axis=0) if traded else None
        # round 1: margin calls on debt net of cash
        values = self.units * w.prices
        assets = values.sum(axis=1)
        net_debt = np.maximum(self.debt - self.cash, 0.0)
        equity = assets - net_debt
        required = values @ w.mm
        called = (net_debt > 0) & (equity < required)
        wiped = (net_debt > 0) & (equity <= 0)
        weight = np.divide(required, assets, out=np.zeros_like(assets), where=assets > 0)
        m_init = np.maximum(1.0 / self.leverage, weight)
        target = np.maximum(equity, 0.0) / m_init
        sales = np.where(wiped, assets, np.where(called, np.clip(assets - target, 0.0, assets), 0.0))
        sales = np.where(wiped | (sales > MATERIAL_BN), sales, 0.0)     # no call of $1 thousand or less
        if sales.any():
            frac = np.clip(np.divide(sales, assets, out=np.zeros_like(assets), where=assets > 0), 0.0, 1.0)
            sold = self.units * frac[:, None]
            self.units -= sold
            proceeds = np.maximum(sold @ w.prices, 0.0)
            self.cash += proceeds
            repay = np.minimum(proceeds, self.debt)
            self.debt -= repay
            self.cash -= repay
            self.closed |= wiped
            out = self.closed & (self.debt > 0)
            to_broker = np.minimum(self.cash, self.debt) * out
            self.cash -= to_broker
            self.debt = np.where(out, 0.0, self.debt)
            total = self.units.sum(axis=0)
        return self.units.sum(axis=0) if total is None else total


# =============================================================================================
# One Mesa agent per holder
# =============================================================================================
class RetailHolder(mesa.Agent):
    """One retail account: the week's rule for this holder alone, in Python scalars."""

    def __init__(self, model: "MesaRetailModel", cash, units, debt, weights, peak, closed, wealth_share):
        super().__init__(model)
        self.cash = float(cash)
        self.units = [float(u) for u in units]
        self.debt = float(debt)
        self.weights = [float(w) for w in weights]
        self.peak = float(peak)
        self.closed = bool(closed)
        self.wealth_share = float(wealth_share)

    def step(self) -> None:
        m = self.model
        w = m.now
        prices = m.prices
        self.cash += w.inflow * self.wealth_share
        # round 0: momentum and panic, both on the opening state
        orders = [0.0] * K
        if m.momentum and not self.closed:
            strength = sum(wk * sk for wk, sk in zip(self.weights, m.signal))
            rate = self.cash * min(m.kappa / 13.0, 1.0 / strength if strength > 0 else 0.0)
            orders = [-(rate * wk) * qk for wk, qk in zip(self.weights, m.q)]
        value = self.cash + sum(u * p for u, p in zip(self.units, prices))
        self.peak = max(self.peak, value)
        if value < (1.0 - m.drawdown) * self.peak and not self.closed:
            orders = [o + u * m.panic_share for o, u in zip(orders, self.units)]
            self.peak = value
        self.units = [u - o for u, o in zip(self.units, orders)]
        self.cash += sum(o * p for o, p in zip(orders, prices))
        # round 1: margin call on debt net of cash
        if self.debt <= 0:
            return
        values = [u * p for u, p in zip(self.units, prices)]
        assets = sum(values)
        net_debt = max(self.debt - self.cash, 0.0)
        if net_debt <= 0:
            return
        equity = assets - net_debt
        required = sum(v * mk for v, mk in zip(values, w.mm))
        wiped = equity <= 0
        if not (wiped or equity < required):
            return
        if wiped:
            sale = assets
        else:
            m_init = max(1.0 / m.leverage, required / assets if assets > 0 else 0.0)
            sale = min(max(assets - max(equity, 0.0) / m_init, 0.0), assets)
        if sale <= 0 or (sale <= MATERIAL_BN and not wiped):     # no call of $1 thousand or less
            return
        frac = min(max(sale / assets, 0.0), 1.0) if assets > 0 else 0.0
        sold = [u * frac for u in self.units]
        self.units = [u - s for u, s in zip(self.units, sold)]
        proceeds = max(sum(s * p for s, p in zip(sold, prices)), 0.0)
        self.cash += proceeds
        repay = min(proceeds, self.debt)
        self.debt -= repay
        self.cash -= repay
        if wiped:
            self.closed = True
        if self.closed and self.debt > 0:
            to_broker = min(self.cash, self.debt)
            self.cash -= to_broker
            self.debt = 0.0


class MesaRetailModel(mesa.Model):
    """Holders as Mesa agents; :meth:`week` sets the week's prices and steps every agent once."""

    def __init__(self, pop: RetailPopulation, seed: int = 0):
        super().__init__(rng=seed)
        p = pop.params
        self.kappa, self.drawdown, self.panic_share, self.leverage = (
            p.momentum_sensitivity, p.panic_drawdown, p.panic_sale_share, p.margin_leverage)
        self.signal_cap = p.momentum_signal_cap
        units, weights = pop.units, pop.weights
        for h in range(pop.n):
            RetailHolder(self, pop.cash[h], units[h], pop.debt[h], weights[h], pop.peak[h], pop.closed[h],
                         pop.wealth_share[h])

    def week(self, w: Week) -> np.ndarray:
        self.week_inputs(w)
        self.agents.shuffle_do("step")
        return self.totals()

    def week_inputs(self, w: Week) -> None:
        self.now = w
        self.prices = [float(x) for x in w.prices]
        signal = np.clip(w.r13, 0.0, self.signal_cap)
        self.momentum = bool(signal.any())
        self.signal = [float(x) for x in signal]
        self.q = [float(x) for x in signal / w.prices]

    def totals(self) -> np.ndarray:
        total = [0.0] * K
        for a in self.agents:
            total = [t + u for t, u in zip(total, a.units)]
        return np.array(total)

    def state(self) -> dict[str, np.ndarray]:
        agents = list(self.agents)
        return {"cash": np.array([a.cash for a in agents]), "debt": np.array([a.debt for a in agents]),
                "units": np.array([a.units for a in agents]), "closed": np.array([a.closed for a in agents])}


# =============================================================================================
# Agreement
# =============================================================================================
def state_of(x) -> dict[str, np.ndarray]:
    if isinstance(x, MesaRetailModel):
        return x.state()
    return {"cash": np.asarray(x.cash), "debt": np.asarray(x.debt), "units": np.asarray(x.units),
            "closed": np.asarray(x.closed)}


def compare_states(a, b) -> float:
    """Largest relative difference between two implementations' totals (cash, debt, units per
    asset, closed accounts); 0 up to summation order."""
    sa, sb = state_of(a), state_of(b)
    worst = 0.0
    for key in ("cash", "debt"):
        x, y = float(np.sum(sa[key])), float(np.sum(sb[key]))
        worst = max(worst, abs(x - y) / max(abs(x), 1e-12))
    ua, ub = sa["units"].sum(axis=0), sb["units"].sum(axis=0)
    worst = max(worst, float(np.max(np.abs(ua - ub) / np.maximum(np.abs(ua), 1e-12))))
    if int(sa["closed"].sum()) != int(sb["closed"].sum()):
        worst = math.inf
    return worst
