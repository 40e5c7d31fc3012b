"""Retail holders as one population agent whose state is arrays (100,000 holders without a Python
call per holder per step). Each holder h has cash c_h, units u_hk of each asset, margin debt d_h
(zero for cash accounts) and a running peak of its portfolio value.

Rules (MODEL.md §6.1), vectorised over holders:
* momentum (FOMO): spend c_h * kappa * sum_k w_hk min(max(0, r13_k), 0.5) / 13 a week, split over assets in
  proportion to w_hk max(0, r13_k), where r13_k is the asset's 13-week log return;
* panic: a holder whose portfolio is more than ``panic_drawdown`` below its peak sells
  ``panic_sale_share`` of its holdings once and takes today's value as its new peak;
* margin: accounts with debt follow :func:`sim.constraints.margin_call_sales`.

Layout and cost (benchmarks/README.md): holdings and weights are stored asset-major,
``_ut[j, h]``, and only for the assets retail portfolios hold (``assets``: six of the eight, no IG
bonds and no used GPUs), so that every pass runs over contiguous holders and reads no rows of
zeros; the public ``units`` and ``weights`` are (holders x all assets) copies. Margin accounts are
stored first (holders ``0..m-1``), so margin calls read one block. The cascade trades through
:class:`RetailOrders` books (:meth:`RetailPopulation.round_zero_orders`,
:meth:`RetailPopulation.margin_orders`, :meth:`RetailPopulation.fill`,
:meth:`RetailPopulation.settle`): momentum purchases cover only the assets bought that week, panic
sales and margin calls only the holders concerned.
"""

from __future__ import annotations

from typing import NamedTuple

import mesa
import numpy as np

from sim import draws
from sim.arrays import fast_any, fast_sum
from sim.config import RetailConfig
from sim.config_sections import weight_vector
from sim.constraints import margin_call_sales
from sim.domain import AgentKind
from sim.engine.fixed import weighted_rows

_NO_ROWS = np.zeros(0, dtype=np.intp)


class RetailOrders(NamedTuple):
    """One book of retail orders in a cascade round, asset-major.

    ``units[i, j]`` units of asset ``assets[i]`` (an index into sim.config.ASSETS) sold by holder
    ``rows[j]`` (holder j when ``rows`` is None); ``side`` is +1 for sales and -1 for purchases
    (``units`` then holds units bought). Assets not in ``assets`` have no orders. ``holders``
    counts the holders with a non-zero order.
    """

    label: str
    rows: np.ndarray | None
    units: np.ndarray
    side: float
    holders: int
    assets: np.ndarray

    def totals(self, n_assets: int) -> np.ndarray:
        """Net units sold of each asset (n_assets,)."""
        out = np.zeros(n_assets)
        out[self.assets] = self.side * fast_sum(self.units, 1)
        return out

    def traded_assets(self, totals: np.ndarray) -> list[int]:
        """Assets with at least one non-zero order (``totals`` from :meth:`totals`)."""
        t = totals.tolist()
        # a zero total can still hide orders that cancel: look at the orders themselves
        return [k for i, k in enumerate(self.assets.tolist()) if t[k] != 0 or bool(self.units[i].any())]


def _draw_accounts(params: RetailConfig, rng: np.random.Generator, weights0: np.ndarray, assets: np.ndarray):
    """The accounts at t=0: lognormal wealth, a share on margin at ``margin_leverage``, Dirichlet
    weights around ``weights0``. Returns (wealth share, debt, cash, weights and units asset-major
    over ``assets``, gross assets), margin accounts first, so that margin calls read one block."""
    n = params.holders
    if n == 0:
        empty = np.zeros((len(assets), 0))
        return np.zeros(0), np.zeros(0), np.zeros(0), empty, empty.copy(), np.zeros(0)
    wealth = draws.lognormal(rng, 0.0, params.wealth_dispersion, n)
    wealth *= params.wealth_bn / wealth.sum()
    wealth_share = wealth / wealth.sum()
    on_margin = rng.random(n) < params.margin_share
    leverage = np.where(on_margin, params.margin_leverage, 1.0)
    gross = wealth * leverage
    debt = gross - wealth
    cash = gross * params.cash_share
    alpha = params.weight_concentration * weights0 + 1e-3
    weights = draws.dirichlet(rng, alpha, n) * (weights0 > 0)
    weights /= weights.sum(axis=1, keepdims=True)
    units = (gross - cash)[:, None] * weights        # prices are 1 at t=0
    order = np.argsort(~(debt > 0), kind="stable")
    weights_t = np.take(weights.T[assets], order, axis=1)     # (held assets, holders), C order
    units_t = np.take(units.T[assets], order, axis=1)
    return wealth_share[order], debt[order], cash[order], weights_t, units_t, gross[order].copy()


class AssetMajorHoldings:
    """Holdings and portfolio weights of many holders stored asset-major (``_ut[j, h]``, ``_wt[j, h]``)
    and only for the assets they can hold (``assets``), with (holders x all assets) views for users."""

    @property
    def units(self) -> np.ndarray:
        """Units held (N, K), every asset (a copy: assign to change them)."""
        return self._expand(self._ut)

    @units.setter
    def units(self, value: np.ndarray) -> None:
        self._ut = self._stored(value, "units")
        self.units_total = self.aggregate_units()

    @property
    def weights(self) -> np.ndarray:
        """Portfolio weights (N, K), rows summing to one (a copy: assign to change them)."""
        return self._expand(self._wt)

    @weights.setter
    def weights(self, value: np.ndarray) -> None:
        self._wt = self._stored(value, "weights")
        self._held = self._held_assets()
        self._weight_bounds()

    def _expand(self, stored: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n, self.n_assets))
        out[:, self.assets] = stored.T
        return out

    def _stored(self, value: np.ndarray, what: str) -> np.ndarray:
        value = np.asarray(value, dtype=float)
        if value.shape != (self.n, self.n_assets):
            raise ValueError(f"retail {what} must have shape {(self.n, self.n_assets)}, got {value.shape}")
        others = np.setdiff1d(np.arange(self.n_assets), self.assets)
        if np.any(value[:, others] != 0):
            raise ValueError(f"retail {what} must be 0 for assets retail portfolios do not hold (columns "
                             f"{others.tolist()})")
        return np.ascontiguousarray(value[:, self.assets].T)

    def _held_assets(self) -> np.ndarray:
        held = np.zeros(self.n_assets, dtype=bool)
        held[self.assets] = self._wt.any(axis=1)
        return held

    def _weight_bounds(self) -> None:
        """Bounds on sum_k w_hk s_k that hold for every holder (used by :meth:`_momentum_rate`):
        the smallest weight any holder gives each stored asset, and the largest row total."""
        self._least_weight = np.minimum.reduce(self._wt, axis=1) if self.n else np.zeros(len(self.assets))
        self._most_weight_total = float(np.maximum.reduce(fast_sum(self._wt, 0))) if self.n else 0.0

    def aggregate_units(self) -> np.ndarray:
        """Units held by all holders together (K,), summed over holders now. The cascade reads
        ``units_total`` instead: the same totals kept up to date trade by trade (assigning ``units``
        recomputes them)."""
        out = np.zeros(self.n_assets)
        out[self.assets] = fast_sum(self._ut, 1)
        return out

    def values(self, prices: np.ndarray) -> np.ndarray:
        return self.units * prices

    def equity(self, prices: np.ndarray) -> np.ndarray:
        return self.cash + weighted_rows(prices[self.assets], self._ut) - self.debt


class RetailPopulation(AssetMajorHoldings, mesa.Agent):
    kind = AgentKind.RETAIL

    def __init__(self, model: mesa.Model, params: RetailConfig, rng: np.random.Generator):
        super().__init__(model)
        self.name = "Retail holders"
        self.row = -1
        self.defaulted = False
        self.book_row_stale = False
        n = params.holders
        self.params = params
        self.n = n
        weights0 = self.portfolio_weights = np.array(weight_vector(params.portfolio_weights))
        k = self.n_assets = len(weights0)
        self.assets = np.flatnonzero(weights0 > 0)          # the assets stored (rows of _ut and _wt)
        self._slot = np.full(k, -1)                          # asset index -> row of _ut and _wt
        self._slot[self.assets] = np.arange(len(self.assets))
        (self.wealth_share, self.debt, self.cash, self._wt, self._ut,
         self.peak) = _draw_accounts(params, rng, weights0, self.assets)
        self.closed = np.zeros(n, dtype=bool)
        self._n_margin = int(np.count_nonzero(self.debt > 0))
        self.margin_accounts = np.arange(self._n_margin)       # rows that can face margin calls
        self._buf = np.empty_like(self._ut)                    # scratch for the week's momentum book
        self._held = self._held_assets()                       # assets some holder can ever own
        self._weight_bounds()
        self.units_total = self.aggregate_units()             # kept up to date by fill()

    # ------------------------------------------------------------------ views
    @property
    def cell(self):
        """The population's node of the model's network space."""
        return self.model.space[self.unique_id]

    def savings(self, inflow_bn: float) -> np.ndarray:
        """Each holder's share of a week's savings inflow: ``inflow_bn * wealth_share`` (kept from
        one week to the next while the inflow is the same)."""
        key = (inflow_bn, id(self.wealth_share))
        if getattr(self, "_savings_key", None) != key:
            self._savings = inflow_bn * self.wealth_share
            self._savings_key = key
        return self._savings

    # ------------------------------------------------------------------ rules
    def _momentum_rate(self, r13: np.ndarray, prices: np.ndarray, any_closed: bool | None = None):
        """(rate_h, q_k) with units bought u_hk = rate_h * w_hk * q_k, or None when nobody buys.

        spend_h = c_h * kappa * strength_h / 13 (at most c_h), strength_h = sum_k w_hk signal_k, split in
        proportion to w_hk * signal_k: units_hk = spend_h * w_hk * signal_k / (strength_h * P_k)
        = rate_h * w_hk * q_k with rate_h = c_h * min(kappa / 13, 1 / strength_h), q_k = signal_k / P_k.
        """
        signal = np.minimum(np.maximum(r13, 0.0), self.params.momentum_signal_cap)
        if self.n == 0 or not fast_any(signal):
            return None
        cap = self.params.momentum_sensitivity / 13.0
        stored = signal[self.assets]
        if self._cap_binds_for_all(stored, cap):     # the usual week
            rate = np.multiply(self.cash, cap)
        else:
            strength = weighted_rows(stored, self._wt)     # >= 0
            if np.maximum.reduce(strength) * cap <= 1.0 - 1e-9:
                # kappa / 13 <= 1 / strength for every holder: the cap binds wherever strength > 0
                rate = np.where(strength > 0, cap, 0.0)
                rate *= self.cash
            else:
                # min(1 / strength, kappa / 13) where strength > 0, else 0: 1/0 = inf is capped, then
                # zeroed (a masked divide, where=strength > 0, costs three times as much)
                with np.errstate(divide="ignore"):
                    rate = np.divide(1.0, strength)
                np.minimum(rate, cap, out=rate)
                np.multiply(rate, strength > 0, out=rate)
                rate *= self.cash
        if self.closed.any() if any_closed is None else any_closed:
            rate[self.closed] = 0.0                  # closed accounts buy nothing
        return rate, signal / prices

    def _cap_binds_for_all(self, stored_signal: np.ndarray, cap: float) -> bool:
        """Whether 0 < kappa / 13 <= 1 / strength_h for every holder, read off the weight bounds
        without the holder-by-holder strength: strength_h is at most max_k s_k times the holder's
        weight total (always within the cap with weights summing to one, s_k <= 0.5 and kappa <= 26),
        and at least w_hk s_k > 0 for an asset k that rose and that every holder holds."""
        return (float(np.maximum.reduce(stored_signal)) * self._most_weight_total * (1.0 + 1e-12) * cap
                <= 1.0 - 1e-9 and bool(fast_any(np.multiply(stored_signal, self._least_weight) > 0.0)))

    def _panic(self, prices: np.ndarray, any_closed: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(rows, units sold (len(assets), m)) of holders in panic this week; resets their peaks."""
        value = weighted_rows(prices[self.assets], self._ut)
        value += self.cash
        np.maximum(self.peak, value, out=self.peak)
        in_panic = value < (1.0 - self.params.panic_drawdown) * self.peak
        if self.closed.any() if any_closed is None else any_closed:
            in_panic &= ~self.closed
        if not fast_any(in_panic):
            return _NO_ROWS, np.zeros((len(self._ut), 0))
        rows = np.flatnonzero(in_panic)
        sold = self._ut[:, rows] * self.params.panic_sale_share
        self.peak[rows] = value[rows]
        return rows, sold

    def _margin(self, prices: np.ndarray, mm: np.ndarray):
        """(rows, units sold (len(assets), m), newly closed rows) of margin accounts under a call; rows is None
        when no account sells (then nothing is closed either).

        The rule is :func:`sim.constraints.margin_call_sales` on every margin account; it is run on
        the accounts a screen cannot rule out (equity within 1e-9 of assets of the requirement),
        which are the only ones it can call. The rule makes no call of $1 thousand or less
        (MODEL.md §6.1)."""
        m = self._n_margin                  # margin accounts are rows 0..m-1
        if m == 0:
            return None, None, _NO_ROWS
        # Screen: an account is called only when it has net debt (debt less cash, which counts towards
        # equity) and equity (assets - net debt) is below its requirement sum_k mm_k v_k. Two
        # matrix-vector products find the candidates, with a slack far above rounding, so that no
        # account the exact rule would call is missed: assets - required - (debt - cash) is below the
        # slack for every such account (accounts with cash above their debt may pass the screen too,
        # and the exact rule calls none of them). The exact rule (margin_call_sales) then runs on the
        # candidates only (every other account sells nothing).
        units = self._ut[:, :m]
        prices, mm = prices[self.assets], mm[self.assets]
        assets, required = weighted_rows(prices, units), weighted_rows(prices * mm, units)
        excess = assets - required
        excess -= self.debt[:m]
        excess += self.cash[:m]
        screened = excess < 1e-9 * assets + 1e-12
        if not fast_any(screened):
            return None, None, _NO_ROWS
        cand = np.flatnonzero(screened)
        units = units[:, cand]
        values = units * prices[:, None]
        net_debt = np.maximum(self.debt[cand] - self.cash[cand], 0.0)
        sales_value, closed_idx = margin_call_sales(values.T, net_debt, mm, self.params.margin_leverage)
        if not fast_any(sales_value):
            return None, None, _NO_ROWS
        sel = np.flatnonzero(sales_value)
        total = fast_sum(values[:, sel], 0)
        frac = np.divide(sales_value[sel], total, out=np.zeros(total.shape), where=total > 0)
        sold = units[:, sel] * np.clip(frac, 0.0, 1.0)
        closed = cand[closed_idx]
        return cand[sel], sold, closed[~self.closed[closed]]

    # ------------------------------------------------------------------ books for the cascade
    def round_zero_orders(self, r13: np.ndarray, prices: np.ndarray) -> list[RetailOrders]:
        """The week's voluntary books, both decided on the opening state: panic sales, then momentum
        purchases (the latter written into a scratch array reused every week)."""
        books = []
        any_closed = bool(fast_any(self.closed))
        found = self._momentum_rate(r13, prices, any_closed) if self.n else None
        rows, sold = self._panic(prices, any_closed)
        if len(rows) and sold.any():
            books.append(RetailOrders("panic", rows, sold, 1.0, int(np.count_nonzero(sold.any(axis=0))),
                                      self.assets))
        if found is not None:
            rate, q = found
            # u_hk = (rate_h * w_hk) * q_k for the assets bought this week (q_k > 0, held by someone);
            # every other asset's row would be zero
            assets = ((q > 0) & self._held).nonzero()[0]
            if len(assets) == len(self.assets):          # every stored asset: two whole-array passes
                buys = np.multiply(self._wt, rate, out=self._buf)
                buys *= q[assets][:, None]
            elif len(assets):
                buys = self._buf[:len(assets)]
                for i, k in enumerate(assets.tolist()):
                    np.multiply(self._wt[self._slot[k]], rate, out=buys[i])
                    buys[i] *= q[k]
            if len(assets):
                buyers = self.n if np.minimum.reduce(rate) > 0 else int(np.count_nonzero(rate))
                books.append(RetailOrders("momentum", None, buys, -1.0, buyers, assets))
        return books

    def margin_orders(self, prices: np.ndarray, mm: np.ndarray) -> tuple[RetailOrders | None, np.ndarray]:
        """The margin-call book of a cascade round (None: no sale) and the accounts closed out."""
        rows, sold, closed_rows = self._margin(prices, mm)
        if rows is None or not sold.any():
            return None, closed_rows
        return (RetailOrders("margin_call", rows, sold, 1.0, int(np.count_nonzero(sold.any(axis=0))), self.assets),
                closed_rows)

    def fill(self, book: RetailOrders, px: np.ndarray, totals: np.ndarray | None = None) -> np.ndarray:
        """Execute ``book`` at prices ``px``: the units change hands; returns each holder's proceeds
        (value sold at ``px``, negative for purchases), aligned with ``book.rows``. ``totals``: the
        book's :meth:`RetailOrders.totals`, if already computed."""
        traded = book.totals(self.n_assets) if totals is None else totals
        self.units_total = np.maximum(self.units_total - traded, 0.0)    # holdings are never negative
        slots = self._slot[book.assets]
        if book.rows is None and len(slots) == len(self.assets):     # every stored asset, every holder
            if book.side > 0:
                self._ut -= book.units
            else:
                self._ut += book.units
        elif book.rows is None:                      # whole rows of some assets, every holder
            for i, j in enumerate(slots.tolist()):
                if book.side > 0:
                    self._ut[j] -= book.units[i]
                else:
                    self._ut[j] += book.units[i]
        elif book.assets is self.assets:             # every stored asset of some holders
            self._ut[:, book.rows] -= book.side * book.units
        else:
            self._ut[np.ix_(slots, book.rows)] -= book.side * book.units
        # purchases pay: sum_k (-px_k) u_hk is exactly -(sum_k px_k u_hk), without a pass to negate it
        return weighted_rows(px[book.assets] if book.side > 0 else np.negative(px[book.assets]), book.units)

    def settle(self, book: RetailOrders, proceeds: np.ndarray, forced: bool) -> tuple[float, float]:
        """Cash side of a filled book. Voluntary trades: proceeds (or payments) land in cash. Forced
        sales: the proceeds land in cash and then repay margin debt. Returns (value received, debt repaid)."""
        rows = book.rows
        if not forced:
            if rows is None:
                self.cash += proceeds
            else:
                self.cash[rows] += proceeds
            return float(fast_sum(proceeds)), 0.0
        sells = np.maximum(proceeds, 0.0)
        idx = slice(None) if rows is None else rows
        cash = self.cash[idx] + sells
        repay = np.minimum(sells, self.debt[idx])
        self.debt[idx] -= repay
        self.cash[idx] = cash - repay
        return float(sells.sum()), float(repay.sum())

    # ------------------------------------------------------------------ the week
    def save(self) -> None:
        """The week's savings inflow (``retail.inflow_bn_per_yr``) into cash, in proportion to wealth."""
        if not self.n:
            return
        m = self.model
        inflow = self.params.inflow_bn_per_yr * m.dt
        self.cash += self.savings(inflow)       # inflow * wealth share
        m.book.record(inflow, "retail_savings")

    def margin_act(self, sheet, maintenance_margins: np.ndarray) -> None:
        """Margin calls at the prices the last round left: a book of sales, and close-outs."""
        book, closed_rows = self.margin_orders(self.model.prices, maintenance_margins)
        if book is not None:
            sheet.books.append(book)
        if len(closed_rows):
            self.closed[closed_rows] = True
            self.model.defaults.by_kind[self.kind] += len(closed_rows)

    def settle_books(self, books: list, totals: list, px: np.ndarray) -> None:
        """The round's retail books (``totals``: each book's net units) filled at ``px``. Forced sales (margin calls) are bought like any
        forced sale, their proceeds repay margin debt and closed-out accounts pass their cash to the
        broker; voluntary trades (momentum, panic) are with other outside investors' brokerage cash
        and leave the pool as is."""
        m = self.model
        b = m.book
        forced = books[0].label == "margin_call"
        for book, book_totals in zip(books, totals):
            sold, repaid = self.settle(book, self.fill(book, px, book_totals), forced)
            if forced:
                from_pool = m.pool.take(sold * m.cfg.dry_powder.fire_sale_pool_share)
                b.record(sold - from_pool, "outside_buyers")
                b.record(-repaid, "margin_debt_repaid")
            else:
                b.record(sold, "retail_trades_with_outside_investors")
        if forced:
            to_broker, loss = self.close_accounts()
            b.record(-to_broker, "margin_debt_repaid")
            m.defaults.outside_losses_bn += loss          # the brokers are outside creditors
        self.book_row_stale = True         # the book's retail row is summed up when next needed

    def sync_book_row(self) -> None:
        """The retail row of the book: the population's total units and debt (cash stays in its
        arrays). Brought up to date before defaults are settled and at the end of every step."""
        self.book_row_stale = False
        b = self.model.book
        b.units[self.row] = self.units_total
        b.external_debt[self.row] = fast_sum(self.debt)
        b.cash[self.row] = 0.0   # retail cash lives in the population's arrays

    def close_accounts(self) -> tuple[float, float]:
        """Closed-out margin accounts: their cash goes to the broker against the debt, the unpaid rest
        is the broker's loss. Returns (cash to the broker, loss)."""
        m = self._n_margin                   # only margin accounts (rows 0..m-1) ever carry debt
        closed = np.flatnonzero(self.closed[:m] & (self.debt[:m] > 0))
        if not len(closed):
            return 0.0, 0.0
        to_broker = np.minimum(self.cash[closed], self.debt[closed])
        loss = self.debt[closed] - to_broker
        self.cash[closed] -= to_broker
        self.debt[closed] = 0.0
        return float(to_broker.sum()), float(loss.sum())
