"""Hyperscalers: AI capex as a strategic choice, funded by a waterfall (MODEL.md §4, §5).

Each week a hyperscaler collects operating cash flow and pays coupons and dividends
(:meth:`Hyperscalers.collect_cash_flows`), then funds the week's capex: cash above its floor first,
buybacks halted when cash runs short, and new bonds for the rest (:meth:`Hyperscalers.plan_capex`),
sold into the IG market in round 0 of the week's cascade, where buyers pay from idle cash or by
selling other assets and the price concession is the spread's rise (:mod:`sim.funding`). Capex is
paid after the cascade from cash (:meth:`Hyperscalers.spend_capex`). Firms hold their Treasuries
as a reserve and do not sell them (MODEL.md §13).

Once a quarter each firm picks a multiplier m_i on its planned capex path from a small strategy
set (:meth:`Hyperscalers.play_capex_game`). Payoff over the coming year:

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

from agents.base import AgentGroup, Holder
from sim.config import HyperscalerFirm
from sim.domain import AgentKind
from sim.engine import fixed
from sim.funding import FundingRequest


def _payable(amount: float, cash: float) -> float:
    """What a payment of ``amount`` to outside the model can be: never negative, never more than the
    cash there is (the rest is not paid)."""
    return min(max(amount, 0.0), max(cash, 0.0))


class Hyperscaler(Holder):
    kind = AgentKind.HYPERSCALER

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


class Hyperscalers(AgentGroup[Hyperscaler]):
    """The five spenders: cash flows, the capex race, the funding waterfall and capex spent."""

    kind = AgentKind.HYPERSCALER

    def __init__(self, model, members: list[Hyperscaler]):
        super().__init__(model, members)
        n = len(members)
        self.coupon_rate = np.full(n, model.cfg.hyperscalers.initial_coupon_pct / 100)   # blended coupon of each firm's debt
        self.capex_stock = np.zeros(n)                # capex in place, depreciating over the GPUs' life
        self.capex_due = np.zeros(n)                  # this week's capex to pay after the cascade
        self.nash_multiplier = np.ones(n)
        self.coop_multiplier = np.ones(n)
        self.multiplier_means = (_mean(self.nash_multiplier), _mean(self.coop_multiplier))   # as reported
        self.capex_planned_bn = 0.0                   # this week's plan and what was paid
        self.capex_realized_bn = 0.0
        self.total_capex_planned_bn = 0.0
        self.total_capex_realized_bn = 0.0
        self.total_issuance_bn = 0.0
        self.power_limited_share = 0.0                # share of the plan the grid cannot connect this week

    # ---------------------------------------------------------------- 2. cash flows
    def collect_cash_flows(self) -> None:
        """Operating cash flow in, then coupons (what cash cannot pay is added to the debt) and dividends
        (as far as cash goes) out. (Five firms: Python floats, one firm at a time, cost less than array
        operations.)"""
        m = self.model
        c, b, dt, t = m.cfg, m.book, m.dt, m.t_years
        cash = b.cash
        growth, margin = c.hyperscalers.ocf_growth, c.ai.hyperscaler_margin
        received = coupons = dividends = 0.0
        for i, h in enumerate(self.members):
            row, firm = h.row, h.firm
            ocf = operating_cash_flow(firm.ocf_bn, firm.ai_revenue_share, t, growth, margin, m.world.ai_revenue,
                                      m.world.ai_revenue0)
            inflow = (ocf if ocf > 0.0 else 0.0) * dt
            have = float(cash[row]) + inflow
            owed = float(b.external_debt[row] * self.coupon_rate[i]) * dt
            coupon = _payable(owed, have)
            if coupon < owed:
                b.external_debt[row] += owed - coupon
            have -= coupon
            dividend = _payable(firm.dividends_bn * dt, have)
            cash[row] = have - dividend
            received += inflow
            coupons += coupon
            dividends += dividend
        b.record(received, "operating_cash_flow")
        b.record(-coupons, "coupons_to_bondholders")
        b.record(-dividends, "shareholder_payouts")

    # ---------------------------------------------------------------- 3. decisions
    def plan_capex(self, requests) -> None:
        """This week's capex and its funding: the quarterly race first, then for each firm the capex
        due (capped by the grid when power limits are on), buybacks halted or resumed, and a bond
        request to the pool for what cash above the floor cannot cover."""
        m = self.model
        hs, power, b, dt, t = m.cfg.hyperscalers, m.cfg.power, m.book, m.dt, m.t_years
        if (m.steps - 1) % hs.decision_every_steps == 0:
            self.play_capex_game()
        self.capex_planned_bn = 0.0
        self.power_limited_share = 0.0
        cash = b.cash
        for i, h in enumerate(self.members):
            row, firm = h.row, h.firm
            plan = h.planned_capex_rate(t, hs.capex_growth) * dt
            self.capex_planned_bn += plan
            capex = plan * h.capex_multiplier
            if power.enabled:   # capex beyond what the grid can connect is deferred, not spent
                deployable = firm.capex_2026_bn * fixed.power(1.0 + power.deployable_growth, t) * dt
                if capex > deployable:
                    self.power_limited_share += (capex - deployable) / max(self.capex_planned_bn, 1e-12) / len(self)
                    capex = deployable
            self.capex_due[i] = capex
            buybacks = 0.0 if h.buybacks_halted else firm.buybacks_bn * dt
            floor = hs.cash_floor_share * (firm.cash_bn - firm.ust_bn)
            available = float(cash[row]) - floor
            if available < capex + buybacks:
                h.buybacks_halted = True
                buybacks = 0.0
            elif h.buybacks_halted and available > capex + firm.buybacks_bn * dt + hs.buyback_resume_cash_share * firm.cash_bn:
                h.buybacks_halted = False
            if buybacks > 0:
                b.pay_from_cash(row, buybacks, "shareholder_payouts")
            need = capex - max(float(cash[row]) - floor, 0.0)
            if need > 0:
                requests.append(FundingRequest(row, need, "bonds"))

    def play_capex_game(self) -> None:
        """The quarterly race: every firm's multiplier at the Nash equilibrium (and the cooperative
        optimum, reported beside it)."""
        m = self.model
        hs, c, t = m.cfg.hyperscalers, m.cfg, m.t_years
        world = m.world
        plan = np.array([h.planned_capex_rate(t, hs.capex_growth) for h in self.members])
        ocf = np.array([h.operating_cash_flow_rate(t, hs.ocf_growth, c.ai.hyperscaler_margin, world.ai_revenue,
                                                   world.ai_revenue0) for h in self.members])
        payouts = np.array([h.firm.dividends_bn + h.firm.buybacks_bn for h in self.members])
        spare = np.array([max(m.book.cash[h.row] - hs.cash_floor_share * (h.firm.cash_bn - h.firm.ust_bn), 0.0)
                          for h in self.members])
        coc = m.market.coc
        rate = np.full(len(self), coc.ust10y + coc.ig_spread + hs.bond_coupon_spread_bp / 1e4)
        penalty = hs.fcf_penalty * coc.ig_spread / m.market.s0
        expected_ai = world.ai_revenue0 * fixed.exp(c.ai.revenue_growth * t)
        prize = hs.race_prize_multiple * float(plan.sum()) * world.ai_revenue / expected_ai
        options = 1.0 + np.array(hs.capex_adjustments)
        nash, coop = capex_game(plan, options, prize_bn=prize, expansion=hs.market_expansion, financing_rate=rate,
                                ocf=ocf, payouts=payouts, spare_cash=spare, burn_penalty=penalty,
                                life_years=hs.gpu_life_years)
        self.nash_multiplier, self.coop_multiplier = nash, coop
        self.multiplier_means = (_mean(nash), _mean(coop))
        for h, mult in zip(self.members, nash):
            h.capex_multiplier = float(mult)

    # ---------------------------------------------------------------- 4. funding
    def issue_debt(self, row: int, amount: float) -> None:
        """Bonds sold at y + s + the issuer spread; the coupon of the firm's debt is the blend."""
        if amount <= 0:
            return
        m = self.model
        b = m.book
        i = row - self.rows.start
        rate = m.market.coc.ust10y + m.market.coc.ig_spread + m.cfg.hyperscalers.bond_coupon_spread_bp / 1e4
        old = b.external_debt[row]
        b.external_debt[row] = old + amount
        self.coupon_rate[i] = (self.coupon_rate[i] * old + rate * amount) / (old + amount)
        self.total_issuance_bn += amount

    # ---------------------------------------------------------------- 7. capex spent
    def spend_capex(self) -> None:
        """Capex is paid once funding (and any sale of own Treasuries) is in; what cannot be paid
        is not spent: realised capex falls short of the plan."""
        m = self.model
        b = m.book
        self.capex_realized_bn = 0.0
        life = m.cfg.hyperscalers.gpu_life_years
        for i, h in enumerate(self.members):
            row = h.row
            spend = min(float(self.capex_due[i]), max(float(b.cash[row]), 0.0))
            b.external(row, -spend, "capex_spent")
            b.other_assets[row] += spend
            self.capex_realized_bn += spend
            # capex in place depreciates over the GPUs' economic life
            depreciation = float(self.capex_stock[i]) * m.dt / life
            b.other_assets[row] -= depreciation
            self.capex_stock[i] += spend - depreciation
        self.total_capex_planned_bn += self.capex_planned_bn
        self.total_capex_realized_bn += self.capex_realized_bn


def _mean(x: np.ndarray) -> float:
    """float(np.mean(x)) (1 for an empty array): the same sum divided by the count."""
    return float(x.sum() / len(x)) if len(x) else 1.0


def planned_capex(capex_2026_bn, t_years: float, growth: float):
    """capex_2026 through 2026 (t <= 1), then capex_2026 * (1 + g)^(t - 1), $bn/yr: a firm's guidance
    path, or every firm's (arrays of firms). ``growth`` is the growth per year after 2026."""
    return capex_2026_bn * fixed.power(1.0 + growth, max(t_years - 1.0, 0.0))


def operating_cash_flow(ocf_bn, ai_revenue_share, t_years: float, ocf_growth: float, ai_margin: float,
                        ai_revenue_bn: float, ai_revenue0_bn: float):
    """OCF = ocf_2025 * (1 + g)^t + margin * share * (AI revenue - AI revenue at t=0), $bn/yr, for one
    firm or every firm (arrays of firms)."""
    base = ocf_bn * fixed.power(1.0 + ocf_growth, t_years)
    return base + ai_margin * ai_revenue_share * (ai_revenue_bn - ai_revenue0_bn)


def own_payoffs(capex: np.ndarray, financing_rate: np.ndarray, ocf: np.ndarray, payouts: np.ndarray,
                spare_cash: np.ndarray, burn_penalty: float, life_years: float) -> np.ndarray:
    """The part of U_i that depends on firm i's own capex only (everything but the market share):
    - r_i * new_debt_i - phi * (s / s0) * max(0, -FCF_i) - c_i / life (last axis = firms)."""
    new_debt = np.maximum(0.0, capex + payouts - ocf - spare_cash)
    fcf = ocf - capex
    return -financing_rate * new_debt - burn_penalty * np.maximum(0.0, -fcf) - capex / life_years


def market_prize(prize_bn: float, total_capex, planned_total: float, expansion: float):
    """The AI market the firms share, M (C / C_plan)^e: capacity grows the market (e > 0), with
    diminishing returns; e = 0 is a fixed prize (pure share-stealing)."""
    if expansion == 0.0 or planned_total <= 0:
        return prize_bn + 0.0 * np.asarray(total_capex)
    ratio = np.maximum(np.asarray(total_capex, dtype=float) / planned_total, 0.0)
    return prize_bn * fixed.power(np.where(ratio > 0, ratio, 1.0), expansion) * (ratio > 0)


def payoffs(capex: np.ndarray, prize_bn: float, financing_rate: np.ndarray, ocf: np.ndarray,
            payouts: np.ndarray, spare_cash: np.ndarray, burn_penalty: float, life_years: float,
            planned_total: float = 0.0, expansion: float = 0.0) -> np.ndarray:
    """U_i for a profile of annual capex rates (last axis = firms; leading axes broadcast)."""
    total = capex.sum(axis=-1, keepdims=True)
    spent = total > 0
    share = capex / np.where(spent, total, 1.0)
    if not spent.all():
        share = np.where(spent, share, 0.0)
    prize = market_prize(prize_bn, total, planned_total, expansion)
    return prize * share + own_payoffs(capex, financing_rate, ocf, payouts, spare_cash, burn_penalty, life_years)


@functools.lru_cache(maxsize=16)
def _profiles(m: int, n: int) -> np.ndarray:
    """Every strategy profile of n firms with m options each (rows of option indices), read-only."""
    out = np.array(list(itertools.product(range(m), repeat=n)))
    out.setflags(write=False)
    return out


def capex_game(plan: np.ndarray, options: np.ndarray, prize_bn: float, expansion: float = 0.0,
               **own) -> tuple[np.ndarray, np.ndarray]:
    """Nash equilibrium (best-response iteration) and cooperative optimum (max sum of payoffs).

    ``plan`` (n,) planned annual capex, ``options`` (m,) multipliers; the other arguments those of
    :func:`payoffs`. Returns the chosen multiplier per firm for each. Best responses start from the
    plan (multiplier closest to 1) and iterate until no firm wants to deviate; should they cycle,
    the last profile is kept (MODEL.md §4).

    U_i separates into the market share M(C) c_i / C and a part that depends on c_i alone
    (:func:`own_payoffs`), so the own part of every firm's every option is computed once, an (m, n)
    table; a best response then only recomputes the share term against the others' current capex.
    The share terms of a profile sum to M(C) whenever anything is spent, so the welfare of a profile
    is M(C) plus the sum of its own parts. With ``expansion`` e > 0 the market grows with total capex
    (:func:`market_prize`), so the cooperative optimum is interior and the Nash profile overshoots it.
    """
    n, m = len(plan), len(options)
    planned_total = float(plan.sum())
    capex = options[:, None] * plan                       # (m, n): firm i's capex under option o
    own_u = own_payoffs(capex, **own)                     # (m, n)
    capex_cols, own_cols = capex.T.tolist(), own_u.T.tolist()
    choice = [int(np.argmin(np.abs(options - 1.0)))] * n

    def prize(total: float) -> float:
        return float(market_prize(prize_bn, total, planned_total, expansion))

    for _ in range(10 * n + 10):
        changed = False
        for i in range(n):
            others = sum(capex_cols[j][choice[j]] for j in range(n) if j != i)
            u = [(prize(c + others) * c / (c + others) if c + others > 0 else 0.0) + o
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
        totals = capex[profiles, np.arange(n)].sum(axis=-1)
        welfare = own_welfare + market_prize(prize_bn, totals, planned_total, expansion) * (totals > 0)
        coop = options[profiles[int(np.argmax(welfare))]]
    else:  # too many profiles: symmetric cooperative choice
        sym = np.array([payoffs(plan * o, prize_bn, planned_total=planned_total, expansion=expansion, **own).sum()
                        for o in options])
        coop = np.full(n, options[int(np.argmax(sym))])
    return nash, coop
