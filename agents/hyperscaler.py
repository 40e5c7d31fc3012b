"""Hyperscalers: AI capex as a strategic choice, funded by a waterfall.

Once a quarter each firm picks a multiplier m_i on its planned capex path from a small strategy
set. Payoff over the coming year (MODEL.md §4):

    U_i = M * c_i / sum_j c_j - r_i * new_debt_i - phi * (s / s0) * max(0, -FCF_i) - c_i / life

a share of the AI market M won by relative capex, less financing cost on new bonds, less the
market's penalty on cash burn (harsher when spreads are wide), less GPU depreciation. The share
term is zero-sum, so the cooperative optimum spends less than the Nash equilibrium: the
prisoner's dilemma the articles describe.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from agents.base import Holder
from sim.config import HyperscalerFirm


class Hyperscaler(Holder):
    kind = "hyperscaler"

    def __init__(self, model, firm: HyperscalerFirm):
        super().__init__(model, firm.name)
        self.firm = firm
        self.capex_multiplier = 1.0
        self.buybacks_halted = False

    def planned_capex_rate(self, t_years: float, growth: float) -> float:
        """Guidance path: 2026 capex growing at ``hyperscalers.capex_growth`` per year, $bn/yr."""
        return planned_capex(self.firm.capex_2026_bn, t_years, growth)

    def operating_cash_flow_rate(self, t_years: float, ocf_growth: float, ai_margin: float,
                                 ai_revenue_bn: float, ai_revenue0_bn: float) -> float:
        """Non-AI OCF growing steadily plus the AI margin on AI revenue growth since t=0, $bn/yr."""
        return operating_cash_flow(self.firm.ocf_bn, self.firm.ai_revenue_share, t_years, ocf_growth, ai_margin,
                                   ai_revenue_bn, ai_revenue0_bn)


def planned_capex(capex_2026_bn, t_years: float, growth: float):
    """capex_2026 * (1 + g)^t, $bn/yr: a firm's guidance path, or every firm's (arrays of firms)."""
    return capex_2026_bn * (1.0 + growth) ** t_years


def operating_cash_flow(ocf_bn, ai_revenue_share, t_years: float, ocf_growth: float, ai_margin: float,
                        ai_revenue_bn: float, ai_revenue0_bn: float):
    """OCF = ocf_2025 * (1 + g)^t + margin * share * (AI revenue - AI revenue at t=0), $bn/yr, for one
    firm or every firm (arrays of firms)."""
    base = ocf_bn * (1.0 + ocf_growth) ** t_years
    return base + ai_margin * ai_revenue_share * (ai_revenue_bn - ai_revenue0_bn)


def own_payoffs(capex: np.ndarray, financing_rate: np.ndarray, ocf: np.ndarray, payouts: np.ndarray,
                spare_cash: np.ndarray, burn_penalty: float, life_years: float) -> np.ndarray:
    """The part of U_i that depends on firm i's own capex only (everything but the market share):
    - r_i * new_debt_i - phi * (s / s0) * max(0, -FCF_i) - c_i / life (last axis = firms)."""
    new_debt = np.maximum(0.0, capex + payouts - ocf - spare_cash)
    fcf = ocf - capex
    return -financing_rate * new_debt - burn_penalty * np.maximum(0.0, -fcf) - capex / life_years


def payoffs(capex: np.ndarray, prize_bn: float, financing_rate: np.ndarray, ocf: np.ndarray,
            payouts: np.ndarray, spare_cash: np.ndarray, burn_penalty: float, life_years: float) -> np.ndarray:
    """U_i for a profile of annual capex rates (last axis = firms; leading axes broadcast)."""
    total = capex.sum(axis=-1, keepdims=True)
    spent = total > 0
    share = capex / np.where(spent, total, 1.0)
    if not spent.all():
        share = np.where(spent, share, 0.0)
    return prize_bn * share + own_payoffs(capex, financing_rate, ocf, payouts, spare_cash, burn_penalty, life_years)


@functools.lru_cache(maxsize=16)
def _profiles(m: int, n: int) -> np.ndarray:
    """Every strategy profile of n firms with m options each (rows of option indices), read-only."""
    out = np.array(list(itertools.product(range(m), repeat=n)))
    out.setflags(write=False)
    return out


def capex_game(plan: np.ndarray, options: np.ndarray, prize_bn: float, **own) -> tuple[np.ndarray, np.ndarray]:
    """Nash equilibrium (best-response iteration) and cooperative optimum (max sum of payoffs).

    ``plan`` (n,) planned annual capex, ``options`` (m,) multipliers; the other arguments those of
    :func:`payoffs`. Returns the chosen multiplier per firm for each. Best responses start from the
    plan (multiplier closest to 1) and iterate until no firm wants to deviate; should they cycle,
    the last profile is kept (MODEL.md §4).

    U_i separates into the market share M c_i / sum_j c_j and a part that depends on c_i alone
    (:func:`own_payoffs`), so the own part of every firm's every option is computed once, an (m, n)
    table; a best response then only recomputes the share term against the others' current capex.
    The share terms of a profile sum to M whenever anything is spent, so the welfare of a profile
    is M plus the sum of its own parts.
    """
    n, m = len(plan), len(options)
    capex = options[:, None] * plan                       # (m, n): firm i's capex under option o
    own_u = own_payoffs(capex, **own)                     # (m, n)
    capex_cols, own_cols = capex.T.tolist(), own_u.T.tolist()
    choice = [int(np.argmin(np.abs(options - 1.0)))] * n
    for _ in range(10 * n + 10):
        changed = False
        for i in range(n):
            others = sum(capex_cols[j][choice[j]] for j in range(n) if j != i)
            u = [(prize_bn * c / (c + others) if c + others > 0 else 0.0) + o
                 for c, o in zip(capex_cols[i], own_cols[i])]
            best = max(range(m), key=u.__getitem__)       # first of equal maxima, as argmax
            if u[best] > u[choice[i]] + 1e-12:
                choice[i] = best
                changed = True
        if not changed:
            break
    nash = options[choice]
    if m ** n <= 20000:
        profiles = _profiles(m, n)
        own_welfare = own_u[profiles, np.arange(n)].sum(axis=-1)
        spent = (capex[profiles, np.arange(n)].sum(axis=-1) > 0)
        welfare = own_welfare + prize_bn * spent
        coop = options[profiles[int(np.argmax(welfare))]]
    else:  # too many profiles: symmetric cooperative choice
        sym = np.array([payoffs(plan * o, prize_bn, **own).sum() for o in options])
        coop = np.full(n, options[int(np.argmax(sym))])
    return nash, coop
