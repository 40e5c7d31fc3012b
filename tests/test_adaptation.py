"""Agents that adapt (the leverage cycle, fund-raising that follows returns and spreads, capex that
answers the cost of capital), a calm start, and channel switches that each remove one channel."""

from __future__ import annotations

import numpy as np
import pytest

from agents.hyperscaler import capex_game
from sim.config import load_config, resolve_config_arg
from sim.domain import Asset
from sim.engine.fixed import row_dot
from sim.model import DryPowderModel
from tests.conftest import SMALL


def _leverage(m, rows):
    b = m.book
    assets = row_dot(b.units[rows], m.prices)
    return assets / (assets + b.cash[rows] - b.external_debt[rows])


def test_no_hedge_fund_starts_beyond_its_margin():
    m = DryPowderModel(rng=3, **SMALL)
    b, hf = m.book, m.hedge_funds
    _, mm = m.market.margins()
    values = b.units[hf.rows] * m.prices
    equity = values.sum(axis=1) + b.cash[hf.rows] - b.external_debt[hf.rows]
    required = row_dot(values, mm)
    assert (equity >= (1.0 + m.cfg.hedge_funds.initial_margin_headroom) * required * (1 - 1e-9)).all()


def test_hedge_funds_re_lever_after_gains_with_borrowed_money():
    m = DryPowderModel(rng=2, **{**SMALL, "assets.hyperscaler_equity.depth_bn": 1e6, "assets.ai_hardware.depth_bn": 1e6})
    hf = m.hedge_funds
    factor = np.ones(m.K)
    factor[[Asset.HYPERSCALER_EQUITY, Asset.AI_HARDWARE, Asset.SAAS, Asset.CRYPTO]] = 1.3    # a rally
    m.market.apply_price_factor(factor)
    before, debt_before = _leverage(m, hf.rows), m.book.external_debt[hf.rows].copy()
    m.step()
    e = m.events_frame().query("constraint == 'releverage' and agent_kind == 'hedge_fund'")
    assert len(e) and (e.units_sold < 0).all() and set(e.kind) == {"voluntary"} and not e.forced.any()
    buyers = sorted({a.row for a in hf if a.unique_id in set(e.agent_id)})
    assert (m.book.external_debt[buyers] > debt_before[np.array(buyers) - hf.rows.start]).all()
    after = _leverage(m, hf.rows)
    assert (after[np.array(buyers) - hf.rows.start] > before[np.array(buyers) - hf.rows.start]).all()


def test_leverage_targets_fall_when_volatility_rises():
    m = DryPowderModel(rng=2, **SMALL)
    calm = m.hedge_funds.leverage_targets()
    m.market._returns *= 3.0                    # the last quarter three times as volatile
    m.market._margins_step = None
    assert (m.hedge_funds.leverage_targets() < calm).all()


def test_retail_margin_accounts_re_lever_after_gains():
    m = DryPowderModel(rng=2, **{**SMALL, "retail.releverage_speed": 0.5})
    pop = m.retail
    debt_before = pop.debt.copy()
    factor = np.ones(m.K)
    factor[[Asset.HYPERSCALER_EQUITY, Asset.AI_HARDWARE]] = 1.5
    m.market.apply_price_factor(factor)
    m.step()
    e = m.events_frame().query("constraint == 'releverage' and agent_kind == 'retail'")
    assert len(e) and (e.units_sold < 0).all()
    margin = pop.debt[:pop._n_margin] > 0
    assert (pop.debt[:pop._n_margin][margin] >= debt_before[:pop._n_margin][margin]).all()
    assert pop.debt.sum() > debt_before.sum()
    assert abs(m.cash_conservation_gap()) < 1e-6 and pop.cash.min() >= 0


def test_private_credit_appetite_follows_returns_and_spreads():
    m = DryPowderModel(rng=1, **SMALL)
    pc = m.pc_funds
    nav = pc.nav()
    m.steps = 13
    base = pc.appetite(nav)
    assert pc.appetite(nav * 1.05) > base > pc.appetite(nav * 0.95)     # a good quarter draws money in
    factor = np.ones(m.K)
    factor[Asset.IG_BONDS] = np.exp(-0.01 * m.market.duration[Asset.IG_BONDS])        # spread +100bp
    m.market.apply_price_factor(factor)
    assert pc.appetite(nav) < base
    assert 0.0 <= pc.appetite(nav * 0.5) <= pc.appetite(nav * 2.0) <= 2.0


def test_capex_game_answers_the_cost_of_capital_and_cooperation_is_interior():
    plan = np.array([150.0, 180.0, 200.0, 125.0, 50.0])
    options = 1.0 + np.array([-0.3, -0.15, 0.0, 0.15])
    own = dict(ocf=np.array([136.0, 165.0, 140.0, 116.0, 22.0]), payouts=np.array([42.0, 56.0, 0.0, 35.0, 5.0]),
               spare_cash=np.zeros(5), life_years=3.0)
    calm = capex_game(plan, options, 0.75 * plan.sum(), expansion=0.5, financing_rate=np.full(5, 0.05),
                      burn_penalty=0.3, **own)
    tight = capex_game(plan, options, 0.75 * plan.sum(), expansion=0.5, financing_rate=np.full(5, 0.07),
                       burn_penalty=0.3 * 2.5, **own)
    assert (tight[0] <= calm[0]).all() and tight[0].mean() < calm[0].mean()      # dearer capital, less capex
    assert calm[1].mean() <= calm[0].mean()                                       # cooperation spends less
    assert set(calm[1]) != {options.min()}                                        # ... but not the least possible


@pytest.mark.parametrize("switch, constraint", [("margin_calls", "margin_call"), ("covenants", "covenant_breach"),
                                                ("redemptions", "redemption"), ("commitments", "commitment"),
                                                ("crowding_out", "crowding_out")])
def test_each_channel_switch_removes_its_channel(switch, constraint):
    cfg = load_config(resolve_config_arg("dry_powder_exhausted"), {"seed": 3, "retail.holders": 500, "simulation.steps": 80,
                                                                   "gpu.generation_value_drop": 0.5, "gpu.generation_steps": [5]})
    on = DryPowderModel(cfg).run().events_frame()
    off = DryPowderModel(cfg, **{f"channels.{switch}": False}).run().events_frame()
    assert (on.constraint == constraint).sum() > 0
    assert (off.constraint == constraint).sum() == 0


def test_without_price_impact_trades_move_no_price():
    cfg = load_config(resolve_config_arg("dry_powder_exhausted"), {"seed": 1, "retail.holders": 500, "simulation.steps": 30,
                                                                   "channels.price_impact": False})
    m = DryPowderModel(cfg).run()
    e = m.events_frame()
    trades = e[e.units_sold != 0]
    assert len(trades) and (trades.price_return == 0).all()
    assert not m.market.impact_permanent.any() and not m.market.impact_transient.any()
