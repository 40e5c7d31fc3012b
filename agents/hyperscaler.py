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
        return self.firm.capex_2026_bn * (1.0 + growth) ** t_years

    def operating_cash_flow_rate(self, t_years: float, ocf_growth: float, ai_margin: float,
                                 ai_revenue_bn: float, ai_revenue0_bn: float) -> float:
        """Non-AI OCF growing steadily plus the AI margin on AI revenue growth since t=0, $bn/yr."""
        base = self.firm.ocf_bn * (1.0 + ocf_growth) ** t_years
        return base + ai_margin * self.firm.ai_revenue_share * (ai_revenue_bn - ai_revenue0_bn)


def payoffs(capex: np.ndarray, prize_bn: float, financing_rate: np.ndarray, ocf: np.ndarray,
            payouts: np.ndarray, spare_cash: np.ndarray, burn_penalty: float, life_years: float) -> np.ndarray:
    """U_i for a profile of annual capex rates (last axis = firms; leading axes broadcast)."""
    total = capex.sum(axis=-1, keepdims=True)
    share = np.divide(capex, total, out=np.zeros_like(capex), where=total > 0)
    new_debt = np.maximum(0.0, capex + payouts - ocf - spare_cash)
    fcf = ocf - capex
    return prize_bn * share - financing_rate * new_debt - burn_penalty * np.maximum(0.0, -fcf) - capex / life_years


def capex_game(plan: np.ndarray, options: np.ndarray, **kw) -> tuple[np.ndarray, np.ndarray]:
    """Nash equilibrium (best-response iteration) and cooperative optimum (max sum of payoffs).

    ``plan`` (n,) planned annual capex, ``options`` (m,) multipliers. Returns the chosen multiplier
    per firm for each. Best responses start from the plan (multiplier closest to 1) and iterate
    until no firm wants to deviate; should they cycle, the last profile is kept (MODEL.md §4).
    """
    n = len(plan)
    choice = np.full(n, int(np.argmin(np.abs(options - 1.0))))
    for _ in range(10 * n + 10):
        changed = False
        for i in range(n):
            trial = np.tile(plan * options[choice], (len(options), 1))
            trial[:, i] = plan[i] * options
            u = payoffs(trial, **kw)[:, i]
            best = int(np.argmax(u))
            if u[best] > u[choice[i]] + 1e-12:
                choice[i] = best
                changed = True
        if not changed:
            break
    nash = options[choice]
    if len(options) ** n <= 20000:
        profiles = np.array(list(itertools.product(range(len(options)), repeat=n)))
        welfare = payoffs(plan * options[profiles], **kw).sum(axis=-1)
        coop = options[profiles[int(np.argmax(welfare))]]
    else:  # too many profiles: symmetric cooperative choice
        sym = np.array([payoffs(plan * o, **kw).sum() for o in options])
        coop = np.full(n, options[int(np.argmax(sym))])
    return nash, coop
