"""Leveraged holders deleveraging on the model's cascade engine: the INET fire-sale stress test's rules.

:class:`DeleveragingCascade` holds N holders with leverage constraints (default threshold, buffer,
target) and clears their orders through :mod:`sim.engine` (the same order sheets, clearing, settlement
and round records as the weekly cascade): one clearing per asset per round, execution at the mid-point
price, orders that settle one round later, defaulted holders liquidating the round after default, and
cash used first to repay the loan. With its default options it is the Oxford INET fire-sale stress test
(Cont & Schaanning 2017; Farmer et al. 2020); see :mod:`sim.validation.firesale`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import CascadeLoop, ExecutionPrice, pecking_order_sale, pro_rata_sale
from sim.engine.checks import as_array as _as_array
from sim.engine.checks import check_len as _check_len
from sim.engine.fixed import row_dot
from sim.engine.market import IMPACT_LAWS

__all__ = ["CASCADE_RULES", "EXECUTION_PRICES", "SETTLEMENTS", "CascadeRound", "CascadeResult", "DeleveragingCascade",
           "deleveraging_cascade"]


# --------------------------------------------------------------------------------------------
# c) Multi-round deleveraging engine
# --------------------------------------------------------------------------------------------

CASCADE_RULES = ("threshold", "targeting")
EXECUTION_PRICES = tuple(e.value for e in ExecutionPrice)
SETTLEMENTS = ("next_round", "same_round")


@dataclass(frozen=True)
class CascadeRound:
    """Record of one :meth:`DeleveragingCascade.step` (units of assets, currency for values)."""

    round: int  # 1-based
    old_prices: np.ndarray  # (K,) before this round's clearing
    prices: np.ndarray  # (K,) after it
    sold: np.ndarray  # (N, K) units settled in this round's clearing
    proceeds: np.ndarray  # (N,) cash each holder received from that settlement
    new_defaults: np.ndarray  # (N,) bool, holders that defaulted in this round
    orders: np.ndarray  # (N, K) units put up for sale in this round (settle per ``settlement``)
    repaid: np.ndarray  # (N,) loan repaid out of cash in this round
    leverage: np.ndarray  # (N,) equity/assets after the round

    @property
    def n_defaults(self) -> int:
        return int(self.new_defaults.sum())

    @property
    def quantity_sold(self) -> np.ndarray:
        """(K,) units of each asset sold in this round's clearing."""
        return self.sold.sum(axis=0)


@dataclass(frozen=True)
class CascadeResult:
    """All rounds of a cascade plus the final state."""

    rounds: tuple[CascadeRound, ...]
    holdings: np.ndarray  # (N, K) units still held
    pending: np.ndarray  # (N, K) units on the book that never cleared
    prices: np.ndarray  # (K,)
    cash: np.ndarray  # (N,)
    loan: np.ndarray  # (N,)
    default_round: np.ndarray  # (N,) round of default, 0 = never

    @property
    def defaults_per_round(self) -> list[int]:
        return [rec.n_defaults for rec in self.rounds]

    @property
    def defaulted(self) -> np.ndarray:
        return self.default_round > 0

    @property
    def cumulative_sold(self) -> np.ndarray:
        """(rounds, K) units of each asset sold up to and including each round."""
        if not self.rounds:
            return np.zeros((0, self.prices.shape[0]))
        return np.cumsum([rec.quantity_sold for rec in self.rounds], axis=0)


class DeleveragingCascade:
    """Holders with leverage constraints selling into markets that clear once per round.

    State per holder i: units q_ik of K tradable assets, cash C_i, a repayable loan l_i, constant
    other assets O_i and other liabilities L^o_i. At prices p:

        A_i = C_i + sum_k q_ik p_k + O_i,   E_i = A_i - l_i - L^o_i,   lambda_i = E_i / A_i.

    Units on the order book ("pending") stay on the balance sheet, marked at the current price,
    until they clear. One round (``step``), with ``settlement="next_round"`` (default):

    1. **Liquidation** -- holders that defaulted in the previous round put all their unsold units
       up for sale, once (``liquidate_defaulted=True``).
    2. **Clearing** -- the book clears once per asset (:func:`sim.engine.clear`):
       p_k <- p_k g(lambda_k Q_k), with Q_k the total units on the book, g = exp(-x)
       (``impact_law="exponential"``) or 1 - x (``"linear"``), lambda_k = ``impact_per_unit``.
       Every holder is re-marked at the new price; each order sells min(held, ordered) units and
       is paid at the ``execution`` price: mid-point (p_old + p_new)/2 (default), new, or old.
    3. **Act** -- every surviving holder, in this order:
       * defaults if lambda_i < lambda_min (strict); it stops acting and liquidates next round;
       * otherwise, if it must act (``rule="threshold"``: lambda_i < lambda_buffer, strict;
         ``rule="targeting"``: always), it needs D_i = max(0, A_i - E_i / lambda_target), the
         asset reduction that brings lambda back to lambda_target. Cash first repays the loan:
         pay_i = min(D_i, C_i, l_i); and if D_i > C_i (cash before paying) it puts assets worth
         D_i - C_i up for sale, split pro rata to the market value of its unsold units (or along
         ``sale_order``, a pecking order of asset columns) and capped at what it has.
       Orders placed here clear in the next round's clearing, so deleveraging lags one round and
       the proceeds repay the loan at the next act.

    With ``settlement="same_round"`` step 3 runs before step 2: holders act on the prices left
    by the previous round and their orders clear in the same round.

    ``rule="targeting"`` is leverage targeting in the sense of Cont & Schaanning (2017): every
    holder tops up to lambda_target whenever it falls below it, i.e. the threshold rule with
    lambda_buffer = 1 (it never levers up). Amounts are in currency, quantities in units.
    """

    def __init__(self, holdings, prices, cash, loan, other_assets, other_liabilities, impact_per_unit, *,
                 lev_min: float = 0.03, lev_buffer: float = 0.04, lev_target: float = 0.05,
                 rule: str = "threshold", impact_law: str = "exponential", execution: str = "mid",
                 settlement: str = "next_round", liquidate_defaulted: bool = True,
                 sale_order=None, shock=None):
        q = _as_array("holdings", holdings, 2, nonnegative=True)
        n, k = q.shape
        p = _as_array("prices", prices, 1, nonnegative=True)
        _check_len("prices", p, k, "one per column of holdings")
        vectors = {}
        for name, val in (("cash", cash), ("loan", loan), ("other_assets", other_assets),
                          ("other_liabilities", other_liabilities)):
            vectors[name] = _as_array(name, val, 1, nonnegative=True)
            _check_len(name, vectors[name], n, "one per row of holdings")
        lam = _as_array("impact_per_unit", impact_per_unit, 1, nonnegative=True)
        _check_len("impact_per_unit", lam, k, "one per column of holdings")
        if shock is not None:
            s = _as_array("shock", shock, 1)
            _check_len("shock", s, k, "one per column of holdings")
            if (s < -1).any():
                raise ValueError("shock returns must be >= -1")
            p = p * (1.0 + s)
        if rule not in CASCADE_RULES:
            raise ValueError(f"unknown rule {rule!r}; allowed: {', '.join(CASCADE_RULES)}")
        if impact_law not in IMPACT_LAWS:
            raise ValueError(f"unknown impact law {impact_law!r}; allowed: {', '.join(IMPACT_LAWS)}")
        if execution not in EXECUTION_PRICES:
            raise ValueError(f"unknown execution {execution!r}; allowed: {', '.join(EXECUTION_PRICES)}")
        if settlement not in SETTLEMENTS:
            raise ValueError(f"unknown settlement {settlement!r}; allowed: {', '.join(SETTLEMENTS)}")
        if not 0 < lev_target <= 1:
            raise ValueError(f"lev_target must be in (0, 1], got {lev_target!r}")
        if not 0 <= lev_min <= lev_target:
            raise ValueError(f"need 0 <= lev_min <= lev_target, got {lev_min!r} and {lev_target!r}")
        if rule == "threshold" and not lev_min <= lev_buffer <= 1:
            raise ValueError(f"need lev_min <= lev_buffer <= 1, got {lev_buffer!r}")
        if sale_order is not None:
            sale_order = np.asarray(sale_order, dtype=int)
            if sorted(sale_order.tolist()) != list(range(k)):
                raise ValueError(f"sale_order must be a permutation of the {k} asset columns")

        self.holdings = q.copy()
        self.market = _FixedImpactMarket(p, lam)
        self.loop = CascadeLoop(self.holdings, self.market, self, law=impact_law, execution=execution)
        self.sheet = self.loop.new_sheet()         # orders on the book, cleared at the next clearing
        self.cash = vectors["cash"].copy()
        self.loan = vectors["loan"].copy()
        self.other_assets = vectors["other_assets"]
        self.other_liabilities = vectors["other_liabilities"]
        self.impact_per_unit = lam
        self.lev_min, self.lev_buffer, self.lev_target = lev_min, lev_buffer, lev_target
        self.rule, self.impact_law, self.execution = rule, impact_law, execution
        self.settlement, self.liquidate_defaulted, self.sale_order = settlement, liquidate_defaulted, sale_order
        self.round = 0
        self.default_round = np.zeros(n, dtype=int)  # 0 = alive
        self.history: list[CascadeRound] = []

    # -- balance sheet ------------------------------------------------------------------------
    def assets(self) -> np.ndarray:
        """A_i = C_i + sum_k q_ik p_k + O_i (pending units included, at the current price)."""
        return self.cash + row_dot(self.holdings, self.prices) + self.other_assets

    def equity(self) -> np.ndarray:
        """E_i = A_i - l_i - L^o_i."""
        return self.assets() - self.loan - self.other_liabilities

    def leverage(self) -> np.ndarray:
        """lambda_i = E_i / A_i (a holder with no assets: +inf if E >= 0, else -inf)."""
        a, e = self.assets(), self.equity()
        fallback = np.where(e >= 0, np.inf, -np.inf)
        return np.divide(e, a, out=fallback, where=a > 0)

    @property
    def alive(self) -> np.ndarray:
        return self.default_round == 0

    @property
    def prices(self) -> np.ndarray:
        return self.market.prices

    @property
    def pending(self) -> np.ndarray:
        """(N, K) units on the book, not yet cleared (they stay on the balance sheet until then)."""
        return self.sheet.units

    # -- the three phases ---------------------------------------------------------------------
    def _liquidate(self) -> None:
        """Holders that defaulted last round put every unsold unit up for sale (once)."""
        if not self.liquidate_defaulted:
            return
        due = self.default_round == self.round - 1
        due &= self.default_round > 0
        self.pending[due] = self.holdings[due]

    def _clear(self):
        """Clear the book on the engine (one clearing per asset, settlement at the execution price)."""
        record = self.loop.clear_round(self.round, self.sheet)
        self.sheet = self.loop.new_sheet()
        if record.proceeds is None:          # nothing was on the book
            return record.clearing, np.zeros_like(self.holdings), np.zeros(len(self.cash))
        return record.clearing, record.sold, record.proceeds

    def prepare(self, sheet, round_no: int) -> None:
        """Engine ``Rules.prepare``: nothing to add (the peer's sales are bought by the market)."""

    def settle(self, record) -> None:
        """Engine ``Rules.settle``: sellers keep the proceeds as cash (the loan is repaid when they act)."""
        if record.proceeds is not None:
            self.cash = self.cash + record.proceeds

    def _act(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lev = self.leverage()
        new_defaults = self.alive & (lev < self.lev_min)
        self.default_round[new_defaults] = self.round
        acting = self.alive.copy()
        if self.rule == "threshold":
            acting &= lev < self.lev_buffer
        assets, equity = self.assets(), self.equity()
        need = np.where(acting, np.maximum(assets - equity / self.lev_target, 0.0), 0.0)  # D_i
        cash_before = self.cash.copy()
        repaid = np.minimum(np.minimum(need, cash_before), self.loan)  # cash repays the loan first
        self.cash = self.cash - repaid
        self.loan = self.loan - repaid
        to_raise = np.where(need > cash_before, need - cash_before, 0.0)
        unsold = self.holdings - self.pending
        if self.sale_order is None:
            orders = pro_rata_sale(unsold, self.prices, to_raise)
        else:
            orders = pecking_order_sale(unsold, self.prices, to_raise, self.sale_order)
        self.sheet.units += orders
        return new_defaults, orders, repaid

    def step(self) -> CascadeRound:
        """Run one round (liquidation, clearing and act, in the order set by ``settlement``)."""
        self.round += 1
        self._liquidate()
        if self.settlement == "next_round":
            clearing, sold, proceeds = self._clear()
            new_defaults, orders, repaid = self._act()
        else:
            new_defaults, orders, repaid = self._act()
            clearing, sold, proceeds = self._clear()
        record = CascadeRound(round=self.round, old_prices=clearing.old_prices, prices=self.prices.copy(),
                              sold=sold, proceeds=proceeds, new_defaults=new_defaults, orders=orders,
                              repaid=repaid, leverage=self.leverage())
        self.history.append(record)
        return record

    def run(self, rounds: int) -> CascadeResult:
        """Run ``rounds`` more rounds and return every round so far with the final state."""
        if int(rounds) != rounds or rounds < 0:
            raise ValueError(f"rounds must be a non-negative integer, got {rounds!r}")
        for _ in range(int(rounds)):
            self.step()
        return self.result()

    def result(self) -> CascadeResult:
        return CascadeResult(rounds=tuple(self.history), holdings=self.holdings.copy(), pending=self.pending.copy(),
                             prices=self.prices.copy(), cash=self.cash.copy(), loan=self.loan.copy(),
                             default_round=self.default_round.copy())


class _FixedImpactMarket:
    """The engine's Market for the INET peers: prices move by clearings only; impact per unit fixed."""

    def __init__(self, prices: np.ndarray, impact_per_unit: np.ndarray):
        self.prices = prices
        self._impact = impact_per_unit

    def impact_per_unit(self) -> np.ndarray:
        return self._impact

    def move(self, clearing) -> None:
        self.prices = clearing.new_prices


def deleveraging_cascade(holdings, prices, cash, loan, other_assets, other_liabilities, impact_per_unit, *,
                         rounds: int, **options) -> CascadeResult:
    """Build a :class:`DeleveragingCascade` (same arguments and options) and run ``rounds`` rounds."""
    return DeleveragingCascade(holdings, prices, cash, loan, other_assets, other_liabilities, impact_per_unit,
                               **options).run(rounds)
