"""Accounting that neither loses nor invents money: each test here states one rule that an earlier
version broke (the redemption gate binding only on orders, interest that hedge funds could not pay
vanishing, a defaulted lender's loans being forgiven, hyperscaler liquidity counted twice, capex
growth compounding from week 0) and checks it directly."""

from __future__ import annotations

import numpy as np
import pytest

from sim.domain import Asset
from sim.model import DryPowderModel
from tests.conftest import SMALL


def _fund_redemption_due(m: DryPowderModel, fund, share_of_nav: float) -> float:
    """Queue an outside investors' request of ``share_of_nav`` of the fund's NAV, due this week."""
    nav = m.fund_nav()[fund.row]
    group = m.group_of(fund)
    group.queue(fund, m.steps + 1, -1, share_of_nav * nav)
    return nav


def test_a_private_credit_gate_binds_at_payment_not_only_on_orders():
    m = DryPowderModel(rng=2, **SMALL)
    m.run(2)
    fund = m.pc_funds[0]
    m.book.cash[fund.row] += 500.0                      # cash is not what limits the payment
    nav = _fund_redemption_due(m, fund, 0.5)            # ask for half of NAV: ten times the 5% gate
    paid_before = m.book.sinks.get("redemptions_paid", 0.0)
    m.step()
    paid = m.book.sinks.get("redemptions_paid", 0.0) - paid_before
    gate = m.cfg.private_credit.gate_per_qtr * nav
    assert fund.gate_bound_this_quarter
    assert paid == pytest.approx(gate, rel=0.02)         # the gate, at the NAV of the week (moves a little)
    left = sum(q[2] for q in fund.redemption_queue if q[1] == -1)
    assert left == pytest.approx(0.5 * nav - paid, rel=1e-6)     # the rest stays queued


def test_prime_broker_interest_is_paid_or_accrues_to_the_debt():
    m = DryPowderModel(rng=3, **SMALL)
    hf = m.hedge_funds
    rows = hf.rows
    m.book.cash[rows] = 0.0                             # no cash: nothing can be paid out of it
    debt_before = m.book.external_debt[rows].copy()
    paid_before = m.book.sinks.get("prime_broker_interest", 0.0)
    m.steps = 1
    m.world.policy_rate = m.central_bank.policy_rate(0.0)
    hf.pay_financing()
    rate = m.world.policy_rate + m.cfg.hedge_funds.financing_spread_bp / 1e4
    owed = debt_before * rate * m.dt
    paid = m.book.sinks.get("prime_broker_interest", 0.0) - paid_before
    accrued = m.book.external_debt[rows] - debt_before
    assert owed.sum() > 0
    np.testing.assert_allclose(accrued + 0.0, owed, rtol=1e-12)      # capitalised, not forgotten
    assert paid == 0.0


def test_a_defaulted_lender_s_gpu_loans_pass_to_its_creditors_not_to_the_borrowers():
    m = DryPowderModel(rng=4, **SMALL)
    m.run(1)
    lender = next(f for i, f in enumerate(m.pc_funds) if m.book.gpu_loans[i].sum() > 0)
    i = m.pc_funds.index(lender)
    owed_before = m.book.gpu_loans.sum(axis=0).copy()
    borrowers = np.flatnonzero(m.book.gpu_loans[i] > 0)
    m.book.external_debt[lender.row] += 10 * m.fund_nav()[lender.row]      # insolvent: NAV far below zero
    m.run(2)                                            # declared after the first cascade, settled in the second
    assert lender.defaulted and m.book.external_debt[lender.row] == 0.0
    owed_after = m.book.gpu_loans.sum(axis=0)
    # the neoclouds still owe what they owed, less one week's amortisation at most
    for j in borrowers:
        if not m.neoclouds[j].defaulted:
            assert owed_after[j] > 0.97 * owed_before[j]
    assert abs(m.cash_conservation_gap()) < 1e-6


def test_hyperscaler_liquidity_is_counted_once():
    m = DryPowderModel(rng=1, **SMALL)
    liquid = sum(m.book.cash[h.row] + m.book.units[h.row, Asset.UST] * m.prices[Asset.UST] for h in m.hyperscalers)
    assert liquid == pytest.approx(sum(f.cash_bn for f in m.cfg.hyperscalers.firms), rel=1e-12)


def test_the_2026_capex_plan_is_the_guidance_and_growth_starts_after_2026():
    m = DryPowderModel(rng=1, **{**SMALL, "simulation.steps": 104})
    m.run()
    planned = m.model_column("capex_planned_bn")[1:]
    guidance = sum(f.capex_2026_bn for f in m.cfg.hyperscalers.firms)
    assert planned[:52].sum() == pytest.approx(guidance, rel=0.005)
    g = m.cfg.hyperscalers.capex_growth
    assert planned[52:].sum() == pytest.approx(guidance * g / np.log(1 + g), rel=0.02)     # the integral of (1+g)^u


@pytest.mark.parametrize("scenario", ["baseline", "dry_powder_exhausted", "gpu_generation_shock", "cb_backstop"])
def test_no_holder_s_cash_is_ever_negative(scenario):
    from sim.config import load_config, resolve_config_arg
    cfg = load_config(resolve_config_arg(scenario), {"retail.holders": 500, "seed": 101})
    m = DryPowderModel(cfg)
    for _ in range(m.horizon):
        m.step()
        assert m.book.cash.min() >= -1e-9, (m.steps, [m.holders[i].name for i in np.flatnonzero(m.book.cash < -1e-9)])
        assert m.retail.cash.min() >= -1e-9
