"""Fire-sale contagion among leveraged holders, each block tested against a closed form or a
hand-checked case:

* :func:`fire_sale_round` -- the Greenwood, Landier & Thesmar (2015, "Vulnerable banks", JFE)
  one-round deleveraging fire sale in closed form, with options (threshold rule, exponential impact,
  several rounds): an analytic benchmark.
* :class:`DeleveragingCascade` / :func:`deleveraging_cascade` -- leveraged holders with leverage
  constraints (default threshold, buffer, target) on the model's cascade engine (:mod:`sim.engine`:
  the same order sheets, clearing, settlement and round records as the weekly cascade): one
  clearing per asset per round, execution at the mid-point price, orders that settle one round
  later, defaulted holders liquidating the round after default, and cash used first to repay the
  loan. With its default options it is the Oxford INET fire-sale stress test (Cont & Schaanning
  2017; Farmer et al. 2020); see :mod:`sim.validation`.

Eisenberg & Noe (2001) clearing (:func:`clearing_vector`, :func:`clearing_losses`) lives in
:mod:`sim.engine.claims` and is re-exported here.

Units: every amount is in the caller's currency unit (the model uses $bn); prices are per unit of
asset; ratios (returns, leverage ratios) are plain fractions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.engine import (MIN_PRICE_RATIO, CascadeLoop, ExecutionPrice, ImpactLaw, clearing_losses, clearing_vector,
                        impact_factor, pecking_order_sale, pro_rata_sale)
from sim.engine.checks import as_array as _as_array
from sim.engine.checks import check_len as _check_len
from sim.engine.fixed import row_dot
from sim.engine.market import IMPACT_LAWS

__all__ = [
    "clearing_vector",
    "clearing_losses",
    "FireSaleRound",
    "FireSaleResult",
    "fire_sale_round",
    "CascadeRound",
    "CascadeResult",
    "DeleveragingCascade",
    "deleveraging_cascade",
    "FIRE_SALE_RULES",
    "FIRE_SALE_MARKS",
    "CASCADE_RULES",
    "EXECUTION_PRICES",
    "SETTLEMENTS",
]


# --------------------------------------------------------------------------------------------
# b) Greenwood-Landier-Thesmar fire-sale round
# --------------------------------------------------------------------------------------------

FIRE_SALE_RULES = ("target", "threshold")
FIRE_SALE_MARKS = ("pre_shock", "post_shock")


@dataclass(frozen=True)
class FireSaleRound:
    """One round of :func:`fire_sale_round` (all dollars; returns as fractions)."""

    incoming_returns: np.ndarray  # (K,) f: the returns that hit holders this round (shock, then impact)
    asset_returns: np.ndarray  # (N,) r_i = sum_k m_ik f_k, return on each holder's assets
    sales: np.ndarray  # (N,) dollars sold (negative = bought, target rule only)
    sales_by_asset: np.ndarray  # (N, K)
    net_sales: np.ndarray  # (K,) phi_k = sum_i sales_ik
    price_returns: np.ndarray  # (K,) fire-sale price return of this round (<= 0 when phi >= 0)
    losses: np.ndarray  # (N,) positive dollars lost to this round's price returns
    systemicness: np.ndarray | None  # (N,) holder i's sales' share of losses / total equity (linear law)


@dataclass(frozen=True)
class FireSaleResult:
    """Outcome of :func:`fire_sale_round`; arrays summed over rounds, per-round detail in ``rounds``."""

    sales: np.ndarray  # (N,)
    sales_by_asset: np.ndarray  # (N, K)
    price_returns: np.ndarray  # (K,) compounded fire-sale price return over all rounds
    losses: np.ndarray  # (N,) fire-sale losses, positive dollars, summed over rounds
    equity: np.ndarray  # (N,) pre-shock equity e_i = a_i - d_i
    shock_losses: np.ndarray  # (N,) direct losses from the exogenous shock, -sum_k H_ik F_k
    holdings_after: np.ndarray  # (N, K) dollar holdings after the last round's sales and impact
    debt_after: np.ndarray  # (N,)
    rounds: tuple[FireSaleRound, ...] = field(default=())

    @property
    def aggregate_vulnerability(self) -> float:
        """AV: fire-sale losses as a fraction of total pre-shock equity, sum_i loss_i / sum_i e_i."""
        return float(self.losses.sum() / self.equity.sum())

    @property
    def indirect_vulnerability(self) -> np.ndarray:
        """IV_i: holder i's fire-sale loss as a fraction of its own pre-shock equity."""
        return self.losses / self.equity

    @property
    def systemicness(self) -> np.ndarray | None:
        """S_i of the first round (linear law): the part of AV caused by holder i's sales; sum_i S_i = AV."""
        return self.rounds[0].systemicness if self.rounds else None


def fire_sale_round(holdings, debt, impact, shock, *, rule: str = "target",
                    leverage_target: float | None = None, leverage_threshold: float | None = None,
                    impact_law: str = "linear", rounds: int = 1, mark: str = "pre_shock") -> FireSaleResult:
    """Greenwood, Landier & Thesmar (2015) deleveraging fire sale.

    ``holdings`` (N, K) dollars, ``debt`` (N,) dollars, ``impact`` (K,) price return per dollar of
    net sales (>= 0), ``shock`` (K,) exogenous returns F (negative = fall).

    Notation (GLT): a_i = sum_k H_ik, e_i = a_i - d_i, leverage b_i = d_i / e_i (debt / equity),
    weights m_ik = H_ik / a_i. A shock F gives return on assets r_i = sum_k m_ik F_k.

    ``rule="target"`` (default, GLT): each holder restores debt/equity to its target b*_i by selling
    x_i of assets and repaying debt, (d_i - x_i) / (e_i + a_i r_i) = b*_i, i.e.

        x_i = d_i - b*_i (e_i + a_i r_i),     which for b*_i = b_i (GLT) is  x_i = -b_i a_i r_i.

    The rule is linear and two-sided (a gain makes x negative: the holder buys) and uncapped.
    b*_i is the holder's own pre-shock b_i unless ``leverage_target`` (an equity/assets ratio
    lambda*, so b* = (1 - lambda*) / lambda*) is given.

    ``rule="threshold"``: a holder acts only if its post-shock equity/assets ratio
    (e_i + a_i r_i) / (a_i (1 + r_i)) is strictly below ``leverage_threshold``; it then sells the
    same x_i (enough to restore equity/assets to ``leverage_target``, default its own pre-shock
    ratio), floored at 0 and capped at its post-shock assets. An insolvent holder sells everything.

    Sales are pro rata to weights: x_ik = m_ik x_i, with m the pre-shock weights (``mark=
    "pre_shock"``, GLT) or the post-shock ones (``"post_shock"``). Net sales phi_k = sum_i x_ik move
    prices once: ``impact_law="linear"`` (GLT) gives price return -impact_k phi_k (floored at -100 %),
    ``"exponential"`` gives exp(-impact_k phi_k) - 1 (:func:`sim.engine.impact_factor`).
    Losses (positive dollars) are marked on the pre-shock holdings (GLT),
    loss_i = -sum_k H_ik R_k, or with ``mark="post_shock"`` on the holdings left after the shock
    and the sales, which is exact accounting.

    One round with the defaults reproduces GLT's aggregate vulnerability exactly:

        AV = sum_i loss_i / E = -1' A M L M' A B M F / E   (A = diag a, B = diag b, L = diag impact).

    (GLT write 1'AMLM'ABMF/E for the change in equity, negative for a negative shock; we report
    losses as positive dollars.)

    ``rounds > 1`` repeats: holdings are re-marked, H <- H (1 + f) - x, debt d <- d - x, and the
    round's price returns become the next round's incoming returns f; the target b* stays fixed.
    """
    H = _as_array("holdings", holdings, 2, nonnegative=True)
    d, lam, f = _check_fire_sale_inputs(H, debt, impact, shock, rule, mark, impact_law, rounds, leverage_target,
                                        leverage_threshold)
    n = H.shape[0]

    a0 = H.sum(axis=1)
    e0 = a0 - d
    if rule == "target" and leverage_target is None and (e0 <= 0).any():
        raise ValueError("every holder needs positive pre-shock equity for GLT leverage targeting")
    if leverage_target is None:
        b_target = np.divide(d, e0, out=np.full(n, np.inf), where=e0 > 0)  # own pre-shock leverage
    else:
        b_target = np.full(n, (1.0 - leverage_target) / leverage_target)
    total_equity = e0.sum()

    records = []
    holdings_now, debt_now, incoming = H.copy(), d.copy(), f.copy()
    for _ in range(int(rounds)):
        rec = _glt_round(holdings_now, debt_now, incoming, b_target, lam, rule, mark, impact_law, leverage_threshold,
                         total_equity)
        records.append(rec)
        holdings_now = holdings_now * (1.0 + incoming) - rec.sales_by_asset
        debt_now = debt_now - rec.sales
        incoming = rec.price_returns

    return FireSaleResult(
        sales=sum(rec.sales for rec in records),
        sales_by_asset=sum(rec.sales_by_asset for rec in records),
        price_returns=np.prod([1.0 + rec.price_returns for rec in records], axis=0) - 1.0,
        losses=sum(rec.losses for rec in records),
        equity=e0,
        shock_losses=-(H * f).sum(axis=1),
        holdings_after=holdings_now * (1.0 + incoming),
        debt_after=debt_now,
        rounds=tuple(records),
    )


def _check_fire_sale_inputs(H, debt, impact, shock, rule, mark, impact_law, rounds, leverage_target,
                            leverage_threshold) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`fire_sale_round`'s inputs as arrays (debt, impact, shock), or a ValueError saying what is wrong."""
    n, k = H.shape
    d = _as_array("debt", debt, 1, nonnegative=True)
    lam = _as_array("impact", impact, 1, nonnegative=True)
    f = _as_array("shock", shock, 1)
    _check_len("debt", d, n, "one entry per row of holdings")
    _check_len("impact", lam, k, "one entry per column of holdings")
    _check_len("shock", f, k, "one entry per column of holdings")
    if (f < -1).any():
        raise ValueError("shock returns must be >= -1 (a price cannot fall below zero)")
    if rule not in FIRE_SALE_RULES:
        raise ValueError(f"unknown rule {rule!r}; allowed: {', '.join(FIRE_SALE_RULES)}")
    if mark not in FIRE_SALE_MARKS:
        raise ValueError(f"unknown mark {mark!r}; allowed: {', '.join(FIRE_SALE_MARKS)}")
    if impact_law not in IMPACT_LAWS:
        raise ValueError(f"unknown impact law {impact_law!r}; allowed: {', '.join(IMPACT_LAWS)}")
    if int(rounds) != rounds or rounds < 1:
        raise ValueError(f"rounds must be a positive integer, got {rounds!r}")
    if rule == "threshold" and leverage_threshold is None:
        raise ValueError('rule="threshold" needs leverage_threshold (an equity/assets ratio)')
    for name, val in (("leverage_target", leverage_target), ("leverage_threshold", leverage_threshold)):
        if val is not None and not 0 < val <= 1:
            raise ValueError(f"{name} must be an equity/assets ratio in (0, 1], got {val!r}")

    return d, lam, f


def _glt_round(holdings_now, debt_now, incoming, b_target, lam, rule, mark, impact_law, leverage_threshold,
               total_equity) -> FireSaleRound:
    """One round of :func:`fire_sale_round`: returns ``incoming`` hit the holders, they sell, prices move."""
    n = holdings_now.shape[0]
    assets = holdings_now.sum(axis=1)
    equity = assets - debt_now
    weights = _row_shares(holdings_now)
    r = row_dot(weights, incoming)  # return on assets
    assets_after = assets * (1.0 + r)
    equity_after = equity + assets * r
    marked = holdings_now if mark == "pre_shock" else holdings_now * (1.0 + incoming)

    with np.errstate(invalid="ignore"):  # inf * 0 for a holder with no debt and no equity
        x = debt_now - b_target * equity_after  # sell x, repay x: (d - x)/(e + a r) = b*
    x = np.where(np.isfinite(x), x, assets_after)
    if rule == "threshold":
        ratio = np.divide(equity_after, assets_after, out=np.full(n, -np.inf), where=assets_after > 0)
        x = np.where(ratio < leverage_threshold, np.clip(x, 0.0, np.maximum(assets_after, 0.0)), 0.0)

    sales_by_asset = _row_shares(marked) * x[:, None]
    phi = sales_by_asset.sum(axis=0)
    if impact_law == "linear":
        price_ret = np.maximum(-lam * phi, MIN_PRICE_RATIO - 1.0)
    else:
        price_ret = impact_factor(phi, lam, ImpactLaw.EXPONENTIAL) - 1.0
    loss_base = marked if mark == "pre_shock" else marked - sales_by_asset
    losses = -(loss_base * price_ret).sum(axis=1)

    systemicness = None
    if impact_law == "linear":
        # loss_j = sum_k base_jk lam_k phi_k and phi_k = sum_i x_ik, so holder i causes
        # sum_k (sum_j base_jk) lam_k x_ik of the total loss.
        systemicness = (sales_by_asset * (loss_base.sum(axis=0) * lam)).sum(axis=1) / total_equity
    return FireSaleRound(incoming_returns=incoming.copy(), asset_returns=r, sales=x, sales_by_asset=sales_by_asset,
                         net_sales=phi, price_returns=price_ret, losses=losses, systemicness=systemicness)


def _row_shares(values: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (rows summing to zero give zeros)."""
    total = values.sum(axis=1, keepdims=True)
    return np.divide(values, total, out=np.zeros_like(values), where=total != 0)


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
