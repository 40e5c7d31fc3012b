"""How close every agent is to the limit that would force it to sell: margin, covenant, gate,
commitment (or plain leverage for agents with none of those), as ``used`` = 1 at the limit.

These read the model's arrays with the same formulas the agents apply in the cascade (``agents/``:
maintenance margin on hedge funds and retail accounts, covenant LTV on neoclouds, the quarterly
redemption gate on private-credit funds, capital calls on sovereign funds). They belong with the
agents; until they move there, the live view computes them here, only to show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np

from sim.config import ASSETS

USED_CAP = 2.0          # ratios are shown up to twice the limit
GPU = ASSETS.index("used_gpu")


class Limit(str, Enum):
    """The constraint a headroom figure measures."""

    MARGIN = "margin"
    COVENANT = "covenant"
    GATE = "gate"
    COMMITMENT = "commitment"
    LEVERAGE = "leverage"


@dataclass(frozen=True)
class Headroom:
    """``used``: share of the limit in use (1 = binds; capped at :data:`USED_CAP`);
    ``text``: the amounts behind it, in words."""

    limit: Limit
    used: float
    text: str

    @property
    def headroom(self) -> float:
        return 1.0 - self.used


def _cap(x: float) -> float:
    return float(min(max(x, 0.0), USED_CAP)) if np.isfinite(x) else USED_CAP


def agent_assets(model) -> np.ndarray:
    """Total assets by book row, retail's cash (kept in the population's arrays) included."""
    assets = np.asarray(model.total_assets(), dtype=float).copy()
    retail = getattr(model, "retail", None)
    if retail is not None and getattr(retail, "row", -1) >= 0 and hasattr(retail, "cash"):
        assets[retail.row] += float(np.sum(retail.cash))
    return assets


def _margins(model) -> np.ndarray:
    """This week's maintenance margin per asset (the cascade's own figure)."""
    return model.market.margins()[1]


def _hedge_fund(model, agent, mm) -> Headroom:
    b, p = model.book, model.prices
    values = b.units[agent.row] * p
    net_debt = max(float(b.external_debt[agent.row] - b.cash[agent.row]), 0.0)
    equity = float(values.sum()) - net_debt
    required = float(values @ mm)
    used = required / equity if equity > 1e-12 else USED_CAP
    return Headroom(Limit.MARGIN, _cap(used), f"margin required ${required:,.1f}bn of equity ${equity:,.1f}bn")


def _neocloud(model, agent) -> Headroom:
    from agents.neocloud import haircut, loan_to_value
    b, p = model.book, model.prices
    j = model.neoclouds.index(agent)
    loans = float(b.gpu_loans[:, j].sum()) if b.gpu_loans.size else 0.0
    fleet = float(b.units[agent.row, GPU])
    price = float(p[GPU])
    hc = haircut(price, 1.0, model.cfg.neoclouds.haircut_slope)
    ltv = float(loan_to_value(np.array([loans]), np.array([fleet]), price, hc)[0])
    limit = float(model.neoclouds.covenant_ltv[j])
    return Headroom(Limit.COVENANT, _cap(ltv / limit if limit > 0 else USED_CAP),
                    f"loan-to-value {ltv:.2f} against a covenant of {limit:.2f} (GPU loans ${loans:,.1f}bn)")


def _credit_fund(model, agent, nav: np.ndarray) -> Headroom:
    queued = float(sum(q[2] for q in agent.redemption_queue))
    gate = model.cfg.private_credit.gate_per_qtr * max(float(nav[agent.row]), 0.0) \
        - float(getattr(agent, "paid_this_quarter", 0.0))
    used = queued / gate if gate > 1e-12 else (USED_CAP if queued > 0 else 0.0)
    if getattr(agent, "gate_bound_this_quarter", False):
        used = max(used, 1.0)
    return Headroom(Limit.GATE, _cap(used), f"redemptions queued ${queued:,.1f}bn, gate leaves ${max(gate, 0):,.1f}bn "
                                            "this quarter")


def _sovereign(model, agent) -> Headroom:
    b, p = model.book, model.prices
    i = model.sovereigns.index(agent)
    undrawn = float(model.sovereigns.commitments[i].sum())
    liquid = max(float(b.cash[agent.row]), 0.0) + float(b.units[agent.row] @ p)
    used = undrawn / liquid if liquid > 1e-12 else (USED_CAP if undrawn > 0 else 0.0)
    return Headroom(Limit.COMMITMENT, _cap(used), f"undrawn commitments ${undrawn:,.1f}bn against liquid assets "
                                                  f"${liquid:,.1f}bn")


def _retail(model, agent, mm) -> Headroom:
    r, p = model.retail, model.prices
    if not r.n:
        return Headroom(Limit.MARGIN, 0.0, "no accounts")
    on_margin = r.debt > 0
    called = on_margin & (r.equity(p) < r.values(p) @ mm)
    trouble = int((called | r.closed).sum())
    n_margin = max(int(on_margin.sum()), 1)
    # half the margin accounts called or closed counts as the limit
    return Headroom(Limit.MARGIN, _cap(2.0 * trouble / n_margin),
                    f"{trouble:,} of {n_margin:,} margin accounts called or closed")


def _leverage(assets: float, liabilities: float) -> Headroom:
    used = liabilities / assets if assets > 1e-12 else (USED_CAP if liabilities > 0 else 0.0)
    return Headroom(Limit.LEVERAGE, _cap(used), f"liabilities ${liabilities:,.1f}bn of assets ${assets:,.1f}bn")


def constraint_headroom(model) -> dict[Any, list[Headroom]]:
    """Every holder's headroom figures: its binding constraint first, then leverage."""
    assets = agent_assets(model)
    liab = np.asarray(model.book.total_liabilities(), dtype=float)
    mm = _margins(model)
    nav = model.fund_nav()
    out: dict[Any, list[Headroom]] = {}
    for a in model.holders:
        figures = []
        if a.kind == "hedge_fund":
            figures.append(_hedge_fund(model, a, mm))
        elif a.kind == "neocloud":
            figures.append(_neocloud(model, a))
        elif a.kind == "private_credit":
            figures.append(_credit_fund(model, a, nav))
        elif a.kind == "sovereign":
            figures.append(_sovereign(model, a))
        elif a.kind == "retail":
            figures.append(_retail(model, a, mm))
        figures.append(_leverage(float(assets[a.row]), float(liab[a.row])))
        out[a.unique_id] = figures
    return out


def stress_levels(model) -> dict[Any, float]:
    """One number per holder for the network's outline: the binding constraint's ``used`` (the
    first figure of :func:`constraint_headroom`); defaulted agents are at :data:`USED_CAP`."""
    figures = constraint_headroom(model)
    return {a.unique_id: USED_CAP if a.defaulted else figures[a.unique_id][0].used for a in model.holders}
