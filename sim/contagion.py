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

from sim.engine import MIN_PRICE_RATIO, ImpactLaw, clearing_losses, clearing_vector, impact_factor
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


from sim.deleveraging import (CASCADE_RULES, EXECUTION_PRICES, SETTLEMENTS, CascadeResult,  # noqa: E402,F401
                             CascadeRound, DeleveragingCascade, deleveraging_cascade)
