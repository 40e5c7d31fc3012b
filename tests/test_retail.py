"""The retail population (agents/retail.py, MODEL.md §6.1) against the plain numpy statement of the
same rule in tests/retail_reference.py, holder by holder, on a path with a rally (momentum
buying), a crash (panic sales, margin calls, close-outs) and noise."""

from __future__ import annotations

import mesa
import numpy as np
import pytest

from agents.retail import RetailPopulation
from sim.config import RetailConfig
from sim.config_sections import weight_vector
from sim.engine import MATERIAL_BN
from tests import retail_reference as rr

RETAIL_WEIGHTS = np.array(weight_vector(RetailConfig().portfolio_weights))


def _population(holders: int, **params) -> RetailPopulation:
    return RetailPopulation(mesa.Model(rng=5), RetailConfig(holders=holders, **params), np.random.default_rng(5))


@pytest.fixture(scope="module")
def weeks():
    return rr.price_path(26)


@pytest.mark.parametrize("kappa, concentrated", [(0.5, False), (200.0, False), (0.5, True)])
def test_population_follows_the_numpy_rule_holder_by_holder(weeks, kappa, concentrated):
    """kappa 0.5 (the default): the kappa / 13 cap binds for every buyer; kappa 200: some holders
    spend min(kappa / 13, 1 / strength) = 1 / strength, the other branch of the momentum rate.
    concentrated: a tenth of the holders own crypto alone, so in weeks when crypto has not risen they
    buy nothing while the others buy (the rate's branch for holders with no rising asset)."""
    pop = _population(3000, margin_share=0.3, momentum_sensitivity=kappa)
    crypto = 5
    if concentrated:
        weights, units = pop.weights, pop.units
        weights[::10] = 0.0
        weights[::10, crypto] = 1.0
        units[::10] = 0.0
        units[::10, crypto] = pop.peak[::10] - pop.cash[::10]      # the same wealth, in crypto (prices 1)
        pop.weights, pop.units = weights, units
    start = pop.units.sum(axis=0)
    ref = rr.NumpyRetail(pop)
    panicked = margin_called = 0
    # and a last week in which the risky assets lose 80%: it wipes out margin accounts (close-outs)
    last = weeks[-1]
    gap = rr.Week(prices=last.prices * np.array([1, 1, 0.2, 0.2, 0.2, 0.2, 0.2, 1]), r13=last.r13 - 1.6,
                  mm=np.minimum(last.mm * 2, 1.0), inflow=last.inflow)
    # and a first week in which every asset has risen over 13 weeks: momentum buys all of them
    boom = rr.Week(prices=weeks[0].prices, r13=np.abs(weeks[0].r13) + 0.05, mm=weeks[0].mm, inflow=weeks[0].inflow)
    strength_capped = some_hold_no_riser = 0
    for w in [boom, *weeks, gap]:
        signal = np.minimum(np.maximum(w.r13, 0.0), 0.5)
        strength_capped += int(np.any(pop.weights @ signal * (kappa / 13) > 1.0))
        strength = pop.weights @ signal
        some_hold_no_riser += int(np.any(strength == 0) and np.any(strength > 0))
        peak_before, debt_before = pop.peak.copy(), pop.debt.copy()
        rr.population_week(pop, w)
        ref.week(w)
        panicked += int(np.count_nonzero(pop.peak < peak_before))        # a panic resets the peak
        margin_called += int(np.count_nonzero(pop.debt < debt_before))   # proceeds repay debt
        np.testing.assert_allclose(pop.cash, ref.cash, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(pop.debt, ref.debt, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(pop.units, ref.units, rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(pop.closed, ref.closed)
        np.testing.assert_allclose(pop.units_total, ref.units.sum(axis=0), rtol=1e-9, atol=1e-9)
    # the path exercises every branch of the rule
    assert panicked > 0 and margin_called > 0 and pop.closed.any()
    assert (strength_capped > 0) == (kappa > 26)
    assert (some_hold_no_riser > 0) == concentrated
    assert not np.allclose(pop.units.sum(axis=0), start)


@pytest.mark.parametrize("kappa, crypto_only, crypto_r13, shortcut", [
    (0.5, False, -0.1, True),      # the usual week: the cap binds for every holder
    (0.5, True, -0.1, False),      # some holders own only crypto, which fell: they buy nothing
    (0.5, True, 0.2, True),        # ... unless crypto rose, which every holder owns some of
    (200.0, False, -0.1, False),   # kappa / 13 above 1 / strength: the cap need not bind
])
def test_the_usual_week_s_momentum_rate_is_read_off_the_weight_bounds(kappa, crypto_only, crypto_r13, shortcut):
    """Without the holder-by-holder strength, the momentum rate is cash * kappa / 13 when the weight
    bounds prove the cap binds for every holder (MODEL.md §6.1); either way the rate equals
    cash * min(kappa / 13, 1 / strength) where strength > 0 and 0 elsewhere, holder by holder."""
    pop = _population(2000, momentum_sensitivity=kappa)
    if crypto_only:
        weights = pop.weights
        weights[::4] = 0.0
        weights[::4, 5] = 1.0
        pop.weights = weights
    r13 = np.array([0.0, 0.0, 0.3, 0.1, -0.2, crypto_r13, 0.0, 0.0])
    signal = np.minimum(np.maximum(r13, 0.0), 0.5)
    assert pop._cap_binds_for_all(signal[pop.assets], kappa / 13) == shortcut
    rate, _ = pop._momentum_rate(r13, np.ones(8))
    strength = pop.weights @ signal
    with np.errstate(divide="ignore"):
        expected = np.where(strength > 0, pop.cash * np.minimum(kappa / 13, 1.0 / strength), 0.0)
    np.testing.assert_allclose(rate, expected, rtol=1e-15, atol=0)
    assert (np.count_nonzero(rate) == 2000) == (not crypto_only or crypto_r13 > 0)


@pytest.mark.parametrize("crypto_r13", [-0.1, 0.2])
def test_momentum_buyers_are_the_open_accounts_holding_a_rising_asset(crypto_r13):
    """The momentum book counts as buyers exactly the holders with cash, an open account and some
    weight in an asset that rose over 13 weeks (strength > 0), and each spends
    cash * kappa * strength / 13 (MODEL.md §6.1), the others nothing."""
    pop = _population(2000)
    weights = pop.weights
    weights[::4] = 0.0
    weights[::4, 5] = 1.0                                   # a quarter of the holders own crypto alone
    pop.weights = weights
    pop.closed[1::8] = True                                 # and some accounts are closed
    r13 = np.array([0.0, 0.0, 0.3, 0.1, -0.2, crypto_r13, 0.0, 0.0])
    prices = np.ones(8)
    cash = pop.cash.copy()
    books = pop.round_zero_orders(r13, prices)
    momentum = next(b for b in books if b.label == "momentum")
    strength = pop.weights @ np.maximum(r13, 0.0)
    buyers = (strength > 0) & ~pop.closed & (cash > 0)
    assert momentum.holders == np.count_nonzero(buyers)
    assert (momentum.holders < 2000 - np.count_nonzero(pop.closed)) == (crypto_r13 < 0)
    spent = momentum.units.sum(axis=0)                      # prices 1: units bought = cash spent
    np.testing.assert_allclose(spent, np.where(buyers, cash * pop.params.momentum_sensitivity * strength / 13, 0.0),
                               rtol=1e-12, atol=0)


def test_population_holds_only_the_assets_retail_portfolios_contain(weeks):
    pop = _population(2000)
    for w in weeks[:20]:                 # the rally: momentum buys every asset with a positive return
        rr.population_week(pop, w)
    held = RETAIL_WEIGHTS > 0
    assert np.all(pop.units[:, ~held] == 0) and np.all(pop.units_total[~held] == 0)
    assert np.all(pop.units_total[held] > 0)


@pytest.mark.parametrize("sale_bn", [0.5 * MATERIAL_BN, 2 * MATERIAL_BN, 0.01])
def test_a_margin_call_of_a_thousand_dollars_or_less_is_not_made(sale_bn):
    """Maintenance margins above the initial margin (mm = 0.8 > 1 / 1.8) call an account with equity
    E = (1 - d) * 0.8 A for s = A - E / 0.8 = d * A: the call is made only when it is worth more than
    MATERIAL_BN ($1 thousand), as for institutions (MODEL.md §6.6)."""
    pop = _population(200, margin_share=0.5)
    m = pop._n_margin
    prices, mm = np.ones(len(RETAIL_WEIGHTS)), np.full(len(RETAIL_WEIGHTS), 0.8)
    pop.debt[1:m] = 0.0                                       # only account 0 owes anything
    assets = float(pop.units[0] @ prices)
    equity = 0.8 * assets * (1.0 - sale_bn / assets)
    pop.cash[0], pop.debt[0] = 0.0, assets - equity
    book, closed = pop.margin_orders(prices, mm)
    assert len(closed) == 0
    if sale_bn <= MATERIAL_BN:
        assert book is None
    else:
        assert book is not None and book.rows.tolist() == [0]
        assert book.totals(len(prices)) @ prices == pytest.approx(sale_bn, rel=1e-6)
