"""Tests of sim.contagion: Eisenberg-Noe clearing, the GLT fire-sale round, the deleveraging engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import linprog

from sim import engine as markets
from sim.contagion import (
    DeleveragingCascade,
    clearing_losses,
    clearing_vector,
    deleveraging_cascade,
    fire_sale_round,
)

# =============================================================================================
# a) Eisenberg-Noe clearing vector
# =============================================================================================


def fixed_point_from_top(L: np.ndarray, e: np.ndarray, tol: float = 1e-15, max_iter: int = 1_000_000):
    """Independent solver: p0 = pbar, p <- min(pbar, e + Pi' p); decreases monotonically to the
    greatest clearing vector (Eisenberg & Noe 2001, Lemma 4)."""
    pbar = L.sum(axis=1)
    pi = np.divide(L, pbar[:, None], out=np.zeros_like(L), where=pbar[:, None] > 0)
    p = pbar.copy()
    for _ in range(max_iter):
        nxt = np.minimum(pbar, e + pi.T @ p)
        assert (nxt <= p + 1e-12).all(), "the iteration from the top must be non-increasing"
        if np.max(np.abs(nxt - p)) <= tol * max(1.0, pbar.max()):
            return nxt
        p = nxt
    raise AssertionError("fixed-point iteration did not converge")


def linprog_clearing(L: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Second independent solver: max 1'p s.t. p <= pbar, (I - Pi') p <= e, p >= 0."""
    pbar = L.sum(axis=1)
    pi = np.divide(L, pbar[:, None], out=np.zeros_like(L), where=pbar[:, None] > 0)
    n = len(e)
    res = linprog(-np.ones(n), A_ub=np.eye(n) - pi.T, b_ub=e, bounds=list(zip(np.zeros(n), pbar)),
                  method="highs")
    assert res.status == 0
    return res.x


def is_clearing(L, e, p, tol=1e-9) -> bool:
    pbar = L.sum(axis=1)
    pi = np.divide(L, pbar[:, None], out=np.zeros_like(L), where=pbar[:, None] > 0)
    return np.allclose(p, np.minimum(pbar, e + pi.T @ p), rtol=0, atol=tol * max(1.0, pbar.max()))


def random_network(n: int, seed: int, density: float = 0.4):
    """Random interbank network; node n-1 is an outside creditor (households) owed by everyone."""
    rng = np.random.default_rng(seed)
    L = rng.exponential(10.0, (n, n)) * (rng.random((n, n)) < density)
    L[:, -1] += rng.exponential(5.0, n)  # everybody owes the outside creditor something
    L[-1, :] = 0.0  # ... which owes nothing
    np.fill_diagonal(L, 0.0)
    owed_out = L.sum(axis=1)
    e = owed_out * rng.uniform(0.0, 0.6, n)  # thin external assets: several defaults
    return L, e


def test_no_default_pays_in_full():
    L = np.array([[0, 10, 0], [0, 0, 10], [10, 0, 0]], float)  # ring, everyone owes 10
    e = np.array([1.0, 1.0, 1.0])
    p = clearing_vector(L, e)
    np.testing.assert_array_equal(p, [10, 10, 10])
    np.testing.assert_array_equal(clearing_losses(L, p), [0, 0, 0])


def test_ring_with_one_defaulter_by_hand():
    # 0 owes 1 10; 1 owes 2 20; 2 owes 0 10; only 1 has outside assets (5).
    # p0 = min(10, p2), p1 = min(20, 5 + p0), p2 = min(10, p1)  ->  p = (10, 15, 10): 1 defaults.
    L = np.array([[0, 10, 0], [0, 0, 20], [10, 0, 0]], float)
    p = clearing_vector(L, [0.0, 5.0, 0.0])
    np.testing.assert_allclose(p, [10, 15, 10], rtol=0, atol=1e-12)
    np.testing.assert_allclose(clearing_losses(L, p), [0, 0, 5], rtol=0, atol=1e-12)


def test_chain_defaults_in_two_stages_by_hand():
    # A owes B 10, B owes C 10; e = (4, 3, 0). A defaults at stage 1 (4 < 10); only once A pays 4
    # does B default (3 + 4 < 10) at stage 2: p = (4, 7, 0), B loses 6, C loses 3.
    L = np.array([[0, 10, 0], [0, 0, 10], [0, 0, 0]], float)
    p = clearing_vector(L, [4.0, 3.0, 0.0])
    np.testing.assert_allclose(p, [4, 7, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(clearing_losses(L, p), [0, 6, 3], rtol=0, atol=1e-12)


def test_all_banks_default_by_hand():
    # Banks 0-2 each owe the sink (3) 10 and each other 2 (pbar = 14), e = (1, 2, 3). All default:
    # p_i = e_i + (1/7)(S - p_i), S = sum p  ->  S = 8.4, p_i = 7 (e_i + 1.2) / 8.
    L = np.zeros((4, 4))
    L[:3, :3] = 2.0
    np.fill_diagonal(L, 0.0)
    L[:3, 3] = 10.0
    e = np.array([1.0, 2.0, 3.0, 0.0])
    p = clearing_vector(L, e)
    np.testing.assert_allclose(p, [1.925, 2.8, 3.675, 0.0], rtol=0, atol=1e-12)
    assert (p[:3] < 14).all()
    losses = clearing_losses(L, p)
    np.testing.assert_allclose(losses[3], 30 - 10 / 14 * 8.4, atol=1e-12)  # sink owed 30, gets 6
    np.testing.assert_allclose(losses[0], 4 - (2 / 14) * (2.8 + 3.675), atol=1e-12)


def test_greatest_not_least_clearing_vector():
    # A ring with no outside assets has every p = t (1, 1, 1), 0 <= t <= 10, as clearing vector:
    # the greatest one is full payment.
    L = np.array([[0, 10, 0], [0, 0, 10], [10, 0, 0]], float)
    np.testing.assert_array_equal(clearing_vector(L, np.zeros(3)), [10, 10, 10])


def test_empty_and_isolated_nodes():
    assert clearing_vector(np.zeros((0, 0)), np.zeros(0)).shape == (0,)
    np.testing.assert_array_equal(clearing_vector(np.zeros((2, 2)), [1.0, 0.0]), [0.0, 0.0])


@pytest.mark.parametrize("n", [2, 5, 20, 60])
@pytest.mark.parametrize("seed", range(5))
def test_random_networks_match_independent_solvers(n, seed):
    L, e = random_network(n, seed)
    p = clearing_vector(L, e)
    pbar = L.sum(axis=1)
    assert (p >= 0).all() and (p <= pbar).all()
    assert is_clearing(L, e, p)
    np.testing.assert_allclose(p, fixed_point_from_top(L, e), rtol=0, atol=1e-9 * max(1.0, pbar.max()))
    np.testing.assert_allclose(p, linprog_clearing(L, e), rtol=0, atol=1e-6 * max(1.0, pbar.max()))
    losses = clearing_losses(L, p)
    assert (losses >= 0).all()
    np.testing.assert_allclose(losses.sum(), pbar.sum() - p.sum(), rtol=1e-12, atol=1e-9)  # conservation


def test_random_networks_really_have_defaults():
    n_default = [int((clearing_vector(*random_network(20, s)) < random_network(20, s)[0].sum(1) - 1e-9).sum())
                 for s in range(5)]
    assert all(0 < k < 20 for k in n_default), n_default


@pytest.mark.parametrize("seed", range(3))
def test_payments_are_monotone_in_external_assets(seed):
    L, e = random_network(15, seed)
    rng = np.random.default_rng(100 + seed)
    p_low = clearing_vector(L, e)
    p_high = clearing_vector(L, e + rng.uniform(0, 5, len(e)))
    assert (p_high >= p_low - 1e-12).all()


@pytest.mark.parametrize("bad, message", [
    ((np.ones((2, 3)), np.ones(2)), "square"),
    ((np.ones(3), np.ones(3)), "2-dimensional"),
    ((np.array([[0, -1], [0, 0]], float), np.ones(2)), "non-negative"),
    ((np.array([[0, np.nan], [0, 0]]), np.ones(2)), "NaN"),
    ((np.array([[0, 1], [0, 0]], float), np.array([1.0, np.nan])), "NaN"),
    ((np.array([[0, 1], [0, 0]], float), np.array([1.0, -1.0])), "non-negative"),
    ((np.array([[0, 1], [0, 0]], float), np.ones(3)), "length"),
    ((np.array([[1, 1], [0, 0]], float), np.ones(2)), "diagonal"),
    ((np.array([[0, np.inf], [0, 0]]), np.ones(2)), "infinite"),
])
def test_clearing_vector_rejects_bad_inputs(bad, message):
    with pytest.raises(ValueError, match=message):
        clearing_vector(*bad)


def test_clearing_losses_rejects_overpayment():
    L = np.array([[0, 10], [0, 0]], float)
    with pytest.raises(ValueError, match="exceeds"):
        clearing_losses(L, [11.0, 0.0])


# =============================================================================================
# b) Greenwood-Landier-Thesmar fire-sale round
# =============================================================================================


def random_banks(seed: int, n: int = 12, k: int = 6):
    rng = np.random.default_rng(seed)
    holdings = rng.exponential(100.0, (n, k)) * (rng.random((n, k)) < 0.7)
    holdings[:, 0] += 1.0  # nobody is empty
    a = holdings.sum(axis=1)
    debt = a * rng.uniform(0.80, 0.97, n)  # leverage b = d/e between 4 and 32
    impact = rng.uniform(1e-5, 1e-4, k)
    shock = -rng.uniform(0.0, 0.05, k)
    return holdings, debt, impact, shock


def glt_matrices(holdings, debt, impact, shock):
    a = holdings.sum(axis=1)
    e = a - debt
    A, M, L, B, F = np.diag(a), holdings / a[:, None], np.diag(impact), np.diag(debt / e), shock
    return A, M, L, B, F, e


@pytest.mark.parametrize("seed", range(6))
def test_one_round_reproduces_glt_closed_forms(seed):
    H, d, lam, F = random_banks(seed, n=8 + 3 * seed, k=3 + seed)
    A, M, L, B, F, e = glt_matrices(H, d, lam, F)
    E = e.sum()
    ones = np.ones(len(e))
    res = fire_sale_round(H, d, lam, F)

    # bank sales: GLT's required purchases are A B M F (negative = sales)
    np.testing.assert_allclose(res.sales, -(A @ B @ M @ F), rtol=1e-12)
    # aggregate vulnerability: GLT's 1'AMLM'ABMF / E is the change in equity, we report the loss
    av_glt = ones @ A @ M @ L @ M.T @ A @ B @ M @ F / E
    assert av_glt < 0 < res.aggregate_vulnerability
    assert res.aggregate_vulnerability == pytest.approx(-av_glt, rel=1e-12)
    # indirect vulnerability: bank i's own loss over its own equity, -(AMLM'ABMF)_i / e_i
    np.testing.assert_allclose(res.indirect_vulnerability, -(A @ M @ L @ M.T @ A @ B @ M @ F) / e, rtol=1e-12)
    # systemicness: S_i = 1'AMLM' delta_i delta_i' ABMF / E, the part of AV caused by bank i's sales
    s_closed = np.array([-(ones @ A @ M @ L @ M.T)[None, :] @ (np.outer(np.eye(len(e))[i], np.eye(len(e))[i])
                                                           @ A @ B @ M @ F) / E for i in range(len(e))]).ravel()
    np.testing.assert_allclose(res.systemicness, s_closed, rtol=1e-12)
    assert res.systemicness.sum() == pytest.approx(res.aggregate_vulnerability, rel=1e-12)
    # AV = sum_i (e_i / E) IV_i
    assert (e / E) @ res.indirect_vulnerability == pytest.approx(res.aggregate_vulnerability, rel=1e-12)


def test_glt_hand_case_and_signs():
    # a = 100, d = 90, e = 10, b = 9; shock -1 %: sell 9 * 100 * 1 % = 9; impact 1e-3 per $ gives
    # a price return of -0.9 %, a loss of 0.9 on the 100 held, AV = 0.9 / 10.
    res = fire_sale_round([[100.0]], [90.0], [1e-3], [-0.01])
    assert res.sales[0] == pytest.approx(9.0, rel=1e-12)
    assert res.price_returns[0] == pytest.approx(-0.009, rel=1e-12)
    assert res.losses[0] == pytest.approx(0.9, rel=1e-12)
    assert res.aggregate_vulnerability == pytest.approx(0.09, rel=1e-12)
    assert res.shock_losses[0] == pytest.approx(1.0)


def test_glt_sales_are_pro_rata_to_pre_shock_weights():
    H, d, lam, F = random_banks(7)
    res = fire_sale_round(H, d, lam, F)
    M = H / H.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(res.sales_by_asset, M * res.sales[:, None], rtol=1e-12)
    np.testing.assert_allclose(res.sales_by_asset.sum(axis=1), res.sales, rtol=1e-12)
    rec = res.rounds[0]
    np.testing.assert_allclose(rec.price_returns, -lam * res.sales_by_asset.sum(axis=0), rtol=1e-12)
    assert (res.sales > 0).all() and (res.price_returns < 0).all() and (res.losses > 0).all()


def test_glt_target_rule_is_two_sided():
    # a gain makes a leverage targeter buy (negative sales) and prices rise
    res = fire_sale_round([[100.0, 50.0]], [140.0], [1e-3, 1e-3], [0.02, 0.0])
    assert res.sales[0] < 0 and (res.price_returns > 0).all() and res.losses[0] < 0


def test_glt_no_shock_no_sales():
    H, d, lam, _ = random_banks(3)
    res = fire_sale_round(H, d, lam, np.zeros(H.shape[1]))
    np.testing.assert_allclose(res.sales, 0.0, atol=1e-9)
    np.testing.assert_allclose(res.losses, 0.0, atol=1e-9)


def test_glt_explicit_target_ratio():
    # target lambda* = 10 %, i.e. b* = 9: sell x = d - 9 (e + a r)
    res = fire_sale_round([[100.0]], [92.0], [0.0], [-0.01], leverage_target=0.10)
    assert res.sales[0] == pytest.approx(92 - 9 * (8 - 1), rel=1e-12)
    assert res.losses[0] == 0.0  # no impact, no fire-sale loss


def test_threshold_rule_by_hand():
    # bank 0: a 100, d 95 (5 %); bank 1: a 100, d 80 (20 %). Shock -2 %.
    # bank 0: a' 98, e' 3, 3/98 < 4 % -> sells to 5 %: x = 98 - 3 / 0.05 = 38. Bank 1 does nothing.
    res = fire_sale_round([[100.0], [100.0]], [95.0, 80.0], [1e-3], [-0.02], rule="threshold",
                          leverage_threshold=0.04, leverage_target=0.05)
    np.testing.assert_allclose(res.sales, [38.0, 0.0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(res.price_returns, [-0.038], rtol=1e-12)
    np.testing.assert_allclose(res.losses, [3.8, 3.8], rtol=1e-12)
    # just above the threshold nobody sells; an insolvent holder sells everything it has
    calm = fire_sale_round([[100.0]], [95.0], [1e-3], [-0.0], rule="threshold", leverage_threshold=0.04,
                           leverage_target=0.05)
    assert calm.sales[0] == 0.0
    bust = fire_sale_round([[100.0]], [95.0], [1e-3], [-0.10], rule="threshold", leverage_threshold=0.04,
                           leverage_target=0.05)
    assert bust.sales[0] == pytest.approx(90.0)


def test_threshold_rule_never_buys():
    res = fire_sale_round([[100.0]], [97.0], [1e-3], [0.5], rule="threshold", leverage_threshold=0.04)
    assert res.sales[0] == 0.0


def test_exponential_law_uses_markets_impact_factor():
    H, d, lam, F = random_banks(4)
    lin = fire_sale_round(H, d, lam, F)
    exp = fire_sale_round(H, d, lam, F, impact_law="exponential")
    np.testing.assert_allclose(exp.sales, lin.sales, rtol=1e-12)  # the rule does not depend on the law
    phi = exp.rounds[0].net_sales
    np.testing.assert_allclose(exp.price_returns, markets.impact_factor(phi, lam, "exponential") - 1, rtol=1e-12)
    # exp(-x) - 1 > -x: smaller losses than linear, equal to first order
    assert (exp.losses < lin.losses).all()
    np.testing.assert_allclose(exp.losses, lin.losses, rtol=0.05)
    assert exp.systemicness is None


@pytest.mark.parametrize("seed", range(3))
def test_rounds_post_shock_mark_conserves_equity(seed):
    H, d, lam, F = random_banks(seed)
    res = fire_sale_round(H, d, lam, F, rounds=4, mark="post_shock")
    equity_after = res.holdings_after.sum(axis=1) - res.debt_after
    np.testing.assert_allclose(equity_after, res.equity - res.shock_losses - res.losses, rtol=1e-10)
    assert len(res.rounds) == 4
    # with small impact the cascade damps: every round sells and loses less than the one before
    sales = [rec.sales.sum() for rec in res.rounds]
    losses = [rec.losses.sum() for rec in res.rounds]
    assert all(s > 0 for s in sales) and all(x > y for x, y in zip(sales, sales[1:]))
    assert all(x > y > 0 for x, y in zip(losses, losses[1:]))
    np.testing.assert_allclose(res.losses, sum(rec.losses for rec in res.rounds))
    # round 2 is driven by round 1's price returns
    np.testing.assert_allclose(res.rounds[1].incoming_returns, res.rounds[0].price_returns)


def test_rounds_restore_target_leverage_before_impact():
    # after round r's sales (and before its impact), each holder is back at its pre-shock debt/equity
    H, d, lam, F = random_banks(11)
    res = fire_sale_round(H, d, lam, F, rounds=2, mark="post_shock")
    b0 = d / (H.sum(1) - d)
    r1 = res.rounds[0]
    h1 = H * (1 + F) - r1.sales_by_asset
    d1 = d - r1.sales
    np.testing.assert_allclose(d1 / (h1.sum(1) - d1), b0, rtol=1e-10)


def test_fire_sale_round_rejects_bad_inputs():
    H, d, lam, F = random_banks(0)
    with pytest.raises(ValueError, match="rule"):
        fire_sale_round(H, d, lam, F, rule="panic")
    with pytest.raises(ValueError, match="leverage_threshold"):
        fire_sale_round(H, d, lam, F, rule="threshold")
    with pytest.raises(ValueError, match="mark"):
        fire_sale_round(H, d, lam, F, mark="later")
    with pytest.raises(ValueError, match="impact law"):
        fire_sale_round(H, d, lam, F, impact_law="cubic")
    with pytest.raises(ValueError, match="rounds"):
        fire_sale_round(H, d, lam, F, rounds=0)
    with pytest.raises(ValueError, match="length"):
        fire_sale_round(H, d[:-1], lam, F)
    with pytest.raises(ValueError, match="NaN"):
        fire_sale_round(H, d, lam, np.full_like(F, np.nan))
    with pytest.raises(ValueError, match="positive pre-shock equity"):
        fire_sale_round([[10.0]], [12.0], [0.1], [-0.1])


# =============================================================================================
# c) Deleveraging engine
# =============================================================================================
#
# A one-asset holder with A = 100 (cash 1, 10 units at 1, other assets 89) and liabilities loan
# 50 + other 50 - E, so that E/A = lambda exactly. lev_min / buffer / target = 3 / 4 / 5 %.


def holder(leverage_pct: float, *, units=10.0, cash=1.0, loan=50.0, n=1):
    equity = leverage_pct  # A = 100
    other_liab = 100.0 - equity - loan
    return dict(holdings=np.full((n, 1), units), prices=np.ones(1), cash=np.full(n, cash),
                loan=np.full(n, loan), other_assets=np.full(n, 100.0 - cash - units),
                other_liabilities=np.full(n, other_liab))


def engine(leverage_pct, impact=0.01, *, units=10.0, cash=1.0, loan=50.0, n=1, **options):
    sheet = holder(leverage_pct, units=units, cash=cash, loan=loan, n=n)
    return DeleveragingCascade(**sheet, impact_per_unit=np.full(1, impact), **options)


def test_balance_sheet_identities():
    eng = engine(3.5)
    assert eng.assets()[0] == 100.0
    assert eng.equity()[0] == pytest.approx(3.5) and eng.leverage()[0] == pytest.approx(0.035)


def test_threshold_deleveraging_by_hand_with_one_round_lag():
    eng = engine(3.5)  # lambda = 3.5 % < 4 %: D = 100 - 3.5 / 0.05 = 30
    r1 = eng.step()
    assert r1.quantity_sold[0] == 0.0 and r1.prices[0] == 1.0  # empty book: nothing clears in round 1
    assert r1.repaid[0] == pytest.approx(1.0)  # cash first: pay = min(D, C, loan) = 1
    assert eng.cash[0] == 0.0 and eng.loan[0] == pytest.approx(49.0)
    assert r1.orders[0, 0] == pytest.approx(10.0)  # D - C = 29 > 10 available: sells everything
    assert eng.holdings[0, 0] == 10.0  # orders stay on the book (and the balance sheet) until clearing
    assert eng.assets()[0] == pytest.approx(99.0)
    r2 = eng.step()
    p_new = math.exp(-0.01 * 10)
    assert r2.prices[0] == pytest.approx(p_new, rel=1e-14)
    assert r2.proceeds[0] == pytest.approx(10 * (1 + p_new) / 2, rel=1e-14)  # mid-point execution
    assert eng.holdings[0, 0] == 0.0
    # the proceeds repay the loan in round 2's act (still below buffer, D > C)
    assert r2.repaid[0] == pytest.approx(10 * (1 + p_new) / 2, rel=1e-14)
    assert r2.n_defaults == 0 and r2.leverage[0] > 0.03


def test_same_round_settlement_clears_orders_immediately():
    eng = engine(3.5, settlement="same_round")
    r1 = eng.step()
    assert r1.orders[0, 0] == pytest.approx(10.0)
    assert r1.quantity_sold[0] == pytest.approx(10.0)
    assert r1.prices[0] == pytest.approx(math.exp(-0.1))
    assert eng.pending.sum() == 0.0


@pytest.mark.parametrize("execution, price", [("mid", (1 + math.exp(-0.1)) / 2), ("new", math.exp(-0.1)),
                                              ("old", 1.0)])
def test_execution_price_options(execution, price):
    eng = engine(3.5, execution=execution)
    eng.step()
    r2 = eng.step()
    assert r2.proceeds[0] == pytest.approx(10 * price, rel=1e-14)
    # every holder is re-marked at the new price whatever the execution price
    assert eng.assets()[0] == pytest.approx(eng.cash[0] + eng.other_assets[0])


def test_linear_impact_law():
    eng = engine(3.5, impact=0.02, impact_law="linear")
    eng.step()
    assert eng.step().prices[0] == pytest.approx(1 - 0.02 * 10, rel=1e-14)


def test_threshold_vs_targeting_rule():
    # lambda = 4.5 %: above the 4 % buffer (threshold does nothing) but below the 5 % target
    thr = engine(4.5).step()
    assert thr.orders.sum() == 0.0 and thr.repaid[0] == 0.0
    tgt = engine(4.5, rule="targeting").step()
    need = 100 - 4.5 / 0.05  # D = 10
    assert tgt.repaid[0] == pytest.approx(1.0)
    assert tgt.orders[0, 0] == pytest.approx(need - 1.0)  # D - C = 9 units at price 1
    # at or above the target, targeting does nothing either (it never levers up)
    assert engine(5.0, rule="targeting").step().orders.sum() == 0.0
    assert engine(20.0, rule="targeting").step().orders.sum() == 0.0


def test_targeting_equals_threshold_with_buffer_one():
    rng = np.random.default_rng(5)
    n = 10
    kw = dict(holdings=rng.uniform(0, 10, (n, 2)), prices=np.ones(2), cash=rng.uniform(0, 5, n),
              loan=rng.uniform(20, 50, n), other_assets=rng.uniform(70, 90, n), impact_per_unit=[0.01, 0.02],
              shock=[-0.1, 0.0])
    a = kw["cash"] + kw["holdings"].sum(1) + kw["other_assets"]
    kw["other_liabilities"] = a - kw["loan"] - a * rng.uniform(0.035, 0.07, n)
    r_tgt = deleveraging_cascade(**kw, rounds=5, rule="targeting")
    r_one = deleveraging_cascade(**kw, rounds=5, rule="threshold", lev_buffer=1.0)
    r_thr = deleveraging_cascade(**kw, rounds=5, rule="threshold")
    np.testing.assert_array_equal(r_tgt.cumulative_sold, r_one.cumulative_sold)
    assert r_tgt.defaults_per_round == r_one.defaults_per_round
    assert r_tgt.cumulative_sold[-1].sum() > r_thr.cumulative_sold[-1].sum()


def test_cash_first_when_cash_covers_the_need():
    # lambda 3.9 %: D = 100 - 78 = 22 <= cash 30: repay 22 of the loan, sell nothing
    eng = engine(3.9, cash=30.0, units=10.0)
    r1 = eng.step()
    assert r1.repaid[0] == pytest.approx(22.0) and r1.orders.sum() == 0.0
    assert eng.leverage()[0] == pytest.approx(0.05)


def test_loan_caps_repayment():
    # loan 2 < cash 5 < D 30: repay 2, still sell D - C = 25 of assets (capped at the 10 held)
    eng = engine(3.5, cash=5.0, loan=2.0)
    r1 = eng.step()
    assert r1.repaid[0] == pytest.approx(2.0) and eng.cash[0] == pytest.approx(3.0)
    assert r1.orders[0, 0] == pytest.approx(10.0)
    eng2 = engine(3.5, cash=5.0, loan=2.0, units=50.0)
    assert eng2.step().orders[0, 0] == pytest.approx(25.0)


@pytest.mark.parametrize("lev, defaults, acts", [(3.0, False, True), (4.0, False, False), (2.9, True, False)])
def test_strict_comparisons(lev, defaults, acts):
    # lambda == lambda_min does not default; lambda == lambda_buffer does not delever
    eng = engine(lev)
    if lev != 2.9:
        assert eng.leverage()[0] == lev / 100  # exactly on the boundary
    r1 = eng.step()
    assert bool(r1.new_defaults[0]) is defaults
    assert bool(r1.orders.sum() > 0) is acts


def test_defaulted_holder_liquidates_next_round_once():
    eng = engine(2.0)
    r1 = eng.step()
    assert r1.n_defaults == 1 and r1.orders.sum() == 0.0  # default defers the liquidation
    r2 = eng.step()
    # round 2: all units go on the book before the clearing, so they clear at once
    assert r2.quantity_sold[0] == pytest.approx(10.0)
    assert r2.prices[0] == pytest.approx(math.exp(-0.1))
    assert eng.holdings[0, 0] == 0.0 and r2.n_defaults == 0 and eng.default_round[0] == 1
    assert r2.orders.sum() == 0.0  # a defaulted holder no longer acts
    r3 = eng.step()
    assert r3.quantity_sold[0] == 0.0 and eng.pending.sum() == 0.0  # once only
    assert eng.result().defaults_per_round == [1, 0, 0]


def test_liquidation_sells_only_unsold_units():
    # a holder defaulting while it still has units on the book (same-round settlement never leaves
    # any, so put them there by hand) liquidates the rest, not the same units twice
    eng = engine(2.0)
    eng.step()
    eng.pending[0, 0] = 4.0
    eng.round += 1
    eng._liquidate()
    assert eng.pending[0, 0] == pytest.approx(10.0)


def test_defaulted_holder_liquidation_same_round_settlement():
    eng = engine(2.0, settlement="same_round")
    assert eng.step().n_defaults == 1
    assert eng.step().quantity_sold[0] == pytest.approx(10.0)


def test_no_liquidation_option():
    res = deleveraging_cascade(**holder(2.0), impact_per_unit=[0.01], rounds=4, liquidate_defaulted=False)
    assert res.defaults_per_round == [1, 0, 0, 0] and res.cumulative_sold[-1, 0] == 0.0


def test_one_clearing_per_asset_from_total_orders_and_order_independence():
    # two identical holders at 3.5 % each sell all 10 units: one clearing of 20 units
    eng = engine(3.5, n=2)
    eng.step()
    r2 = eng.step()
    assert r2.prices[0] == pytest.approx(math.exp(-0.01 * 20), rel=1e-14)
    np.testing.assert_allclose(r2.proceeds, 10 * (1 + math.exp(-0.2)) / 2, rtol=1e-14)
    # permuting the holders permutes the records and nothing else
    rng = np.random.default_rng(0)
    n = 8
    kw = dict(holdings=rng.uniform(0, 10, (n, 2)), prices=np.ones(2), cash=rng.uniform(0, 5, n),
              loan=rng.uniform(20, 50, n), other_assets=rng.uniform(70, 90, n), impact_per_unit=[0.02, 0.03])
    a = kw["cash"] + kw["holdings"].sum(1) + kw["other_assets"]
    kw["other_liabilities"] = a - kw["loan"] - a * rng.uniform(0.025, 0.06, n)
    perm = rng.permutation(n)
    kw_p = {key: (val[perm] if key not in ("prices", "impact_per_unit") else val) for key, val in kw.items()}
    res, res_p = deleveraging_cascade(**kw, rounds=6), deleveraging_cascade(**kw_p, rounds=6)
    np.testing.assert_allclose(res.prices, res_p.prices, rtol=1e-13)
    np.testing.assert_array_equal(res.default_round[perm], res_p.default_round)
    assert sum(res.defaults_per_round) > 0  # the case is not trivial


def test_pro_rata_to_unsold_market_value_and_pecking_order():
    kw = dict(holdings=[[10.0, 30.0]], prices=[2.0, 1.0], cash=[0.0], loan=[50.0], other_assets=[50.0],
              impact_per_unit=[0.0, 0.0])
    kw["other_liabilities"] = [100.0 - 50.0 - 3.5]  # A = 20 + 30 + 50 = 100, lambda 3.5 %: D = 30
    r1 = DeleveragingCascade(**kw).step()
    # market values 20 and 30: raise 30 pro rata -> 12 and 18 in value -> 6 and 18 units
    np.testing.assert_allclose(r1.orders, [[6.0, 18.0]])
    r1p = DeleveragingCascade(**kw, sale_order=[1, 0]).step()
    np.testing.assert_allclose(r1p.orders, [[0.0, 30.0]])  # asset 1 first, it covers all 30
    r1q = DeleveragingCascade(**kw, sale_order=[0, 1]).step()
    np.testing.assert_allclose(r1q.orders, [[10.0, 10.0]])  # all of asset 0 (20), then 10 of asset 1


def test_shock_option_and_unit_conservation():
    rng = np.random.default_rng(3)
    n = 12
    q0 = rng.uniform(0, 10, (n, 3))
    kw = dict(holdings=q0, prices=[1.0, 2.0, 0.5], cash=rng.uniform(0, 3, n), loan=rng.uniform(20, 50, n),
              other_assets=rng.uniform(70, 90, n), impact_per_unit=[0.01, 0.01, 0.02])
    a = kw["cash"] + q0 @ np.array(kw["prices"]) + kw["other_assets"]
    kw["other_liabilities"] = a - kw["loan"] - a * rng.uniform(0.035, 0.08, n)
    eng = DeleveragingCascade(**kw, shock=[-0.2, 0.0, 0.0])
    np.testing.assert_allclose(eng.prices, [0.8, 2.0, 0.5])
    res = eng.run(6)
    assert sum(res.defaults_per_round) > 0
    np.testing.assert_allclose(res.holdings.sum(0) + res.cumulative_sold[-1], q0.sum(0), rtol=1e-12)
    # cash in = units sold at execution prices; prices only fall
    for rec in res.rounds:
        exec_price = (rec.old_prices + rec.prices) / 2
        np.testing.assert_allclose(rec.proceeds, rec.sold @ exec_price, rtol=1e-12)
        assert (rec.prices <= rec.old_prices).all()
    # closed form of the multiplicative exponential law: p(T) = p(0) exp(-lambda cum_sold)
    np.testing.assert_allclose(res.prices, np.array([0.8, 2.0, 0.5]) * np.exp(-np.array([0.01, 0.01, 0.02])
                                                                            * res.cumulative_sold[-1]), rtol=1e-12)


def test_engine_rejects_bad_options():
    sheet = holder(3.5)
    for bad, msg in ((dict(rule="sometimes"), "rule"), (dict(impact_law="cubic"), "impact law"),
                     (dict(execution="vwap"), "execution"), (dict(settlement="t+2"), "settlement"),
                     (dict(lev_target=0.0), "lev_target"), (dict(lev_min=0.06), "lev_min"),
                     (dict(lev_buffer=0.01), "lev_buffer"), (dict(sale_order=[1]), "sale_order"),
                     (dict(shock=[-2.0]), "shock")):
        with pytest.raises(ValueError, match=msg):
            DeleveragingCascade(**sheet, impact_per_unit=[0.01], **bad)
    with pytest.raises(ValueError, match="cash"):
        DeleveragingCascade(**{**sheet, "cash": [-1.0]}, impact_per_unit=[0.01])
    with pytest.raises(ValueError, match="rounds"):
        DeleveragingCascade(**sheet, impact_per_unit=[0.01]).run(-1)
