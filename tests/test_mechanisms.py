"""Each mechanism alone: one agent or one shock, expected sign and size (closed forms where they exist)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from agents.hyperscaler import capex_game, payoffs
from agents.neocloud import cure_amounts, haircut, loan_to_value
from agents.fund import redemption_request_share
from agents.private_credit import software_book_value
from sim.constraints import maintenance_margins, margin_call_sales
from sim.liquidity import absorb, depletion, pressure, signed_pressure
from sim.engine import clear, pecking_order_sale, pro_rata_sale


# ---------------------------------------------------------------- the pool
def test_depletion_and_pressure_are_zero_at_start_and_convex():
    assert depletion(1000, 1000) == 0 and depletion(0, 1000) == 1 and depletion(1500, 1000) == -0.5
    xs = np.linspace(0, 1, 21)
    h = np.array([pressure(x, 2.0, 0.05) for x in xs])
    assert h[0] == 0 and np.all(np.diff(h) > 0) and np.all(np.diff(h, 2) > 0)   # rising, convexly
    assert h[-1] == pytest.approx(1.0 / 0.05)                                     # finite at exhaustion
    assert pressure(-0.5, 2.0, 0.05) == 0                                          # no pressure while filling
    assert signed_pressure(-0.5, 2.0, 0.05) == pytest.approx(-0.25)                # but speculative assets gain


def test_depletion_is_relative_to_the_starting_pool():
    # the same $60bn of idle cash reads as abundance from a $1bn start and as scarcity from $1,200bn
    assert depletion(60, 1) == -59 and depletion(60, 1200) == pytest.approx(0.95)
    # an empty starting pool: 1 while empty, 0 once anything flows in (MODEL.md §2)
    assert depletion(0, 0) == 1 and depletion(1e-9, 0) == 0


def test_absorption_is_pro_rata_and_never_overdraws():
    got, short = absorb(np.array([100.0, 300.0]), 200.0)
    np.testing.assert_allclose(got, [50.0, 150.0])
    assert short == pytest.approx(200.0)
    got, short = absorb(np.array([10.0, 30.0]), 1000.0)
    np.testing.assert_allclose(got, [10.0, 30.0])
    assert short == 0
    got, short = absorb(np.array([10.0]), -5.0)
    assert got[0] == 0 and short == 10


def test_cost_of_capital_closed_form():
    from sim.config import load_config
    from sim.liquidity import DryPowderPool
    cfg = load_config(None, {"dry_powder.initial_bn": 1000})
    pool = DryPowderPool(cfg)
    pool.level_bn = 500                                   # x = 0.5
    coc = pool.update_cost_of_capital(0.03, shortfall_bn_week=0.0, credit_loss_share=0.0)
    h = 0.25 / (0.5 + cfg.dry_powder.eps)
    r = cfg.rates
    assert coc.term_premium == pytest.approx(pool.tp0 + r.term_premium_per_pressure_bp * h / 1e4)
    assert coc.ig_spread == pytest.approx(pool.s0 + r.spread_per_pressure_bp * h / 1e4)
    before = coc.ig_spread
    coc = pool.update_cost_of_capital(0.03, shortfall_bn_week=10.0, credit_loss_share=0.0)
    ema = 10.0 * 52 / 1000 / r.shortfall_memory_weeks
    assert coc.ig_spread - before == pytest.approx(r.spread_per_shortfall_bp_per_tn * ema / 1e4)


# ---------------------------------------------------------------- markets
def test_clearing_is_exponential_with_midpoint_execution():
    c = clear(np.array([1.0, 2.0]), np.array([[10.0, 0.0], [5.0, -4.0]]), np.array([0.01, 0.05]))
    np.testing.assert_allclose(c.new_prices, [np.exp(-0.15), 2.0 * np.exp(0.2)])
    np.testing.assert_allclose(c.execution_prices, 0.5 * (c.old_prices + c.new_prices))
    lin = clear(np.array([1.0]), np.array([10.0]), np.array([0.01]), law="linear")
    assert lin.new_prices[0] == pytest.approx(0.9)


def test_pro_rata_and_pecking_order_sales():
    h = np.array([[10.0, 30.0], [5.0, 0.0]])
    p = np.array([1.0, 2.0])
    s = pro_rata_sale(h, p, np.array([35.0, 100.0]))
    np.testing.assert_allclose(s @ p, [35.0, 5.0])             # capped at what the holder has
    np.testing.assert_allclose(s[0] / h[0], [0.5, 0.5])        # same fraction of every holding
    s = pecking_order_sale(h, p, np.array([25.0, 1.0]), order=np.array([0, 1]))
    np.testing.assert_allclose(s, [[10.0, 7.5], [1.0, 0.0]])   # first asset exhausted before the second


# ---------------------------------------------------------------- margin
def test_margins_rise_with_volatility_above_normal():
    mm = maintenance_margins(np.array([0.25, 0.1]), np.array([0.5, 0.3]), np.array([0.25, 0.0]))
    np.testing.assert_allclose(mm, [0.5, 0.1])                 # doubled vol doubles margin; no-vol asset unchanged
    mm = maintenance_margins(np.array([0.25]), np.array([0.1]), np.array([0.25]))
    assert mm[0] == 0.25                                         # calm markets never lower it
    mm = maintenance_margins(np.array([0.25, 0.1, 0.3]), np.array([2.0, 5.0, 0.0]), np.array([0.25, 0.0, 0.4]))
    np.testing.assert_array_equal(mm, [1.0, 0.1, 0.3])          # capped at 100%; no normal vol, no rise


def test_no_margin_call_of_a_thousand_dollars_or_less_but_close_outs_sell_everything():
    # mm 0.8 above the initial margin 1/2: s = A - E / 0.8 with E = 0.8 A (1 - d) is d A
    assets = np.array([100.0, 100.0, 100.0, 5e-7])
    d = np.array([0.5e-6, 2e-6, 0.1, 0.0]) / assets
    equity = 0.8 * assets * (1 - d)
    debt = assets - equity
    debt[3] = 1e-6                                              # a close-out worth $500
    sales, closed = margin_call_sales(assets[:, None], debt, np.array([0.8]), target_leverage=2.0)
    assert sales[0] == 0                                        # a $500 call is not made
    assert sales[1] == pytest.approx(2e-6, rel=1e-7) and sales[2] == pytest.approx(0.1)   # d A
    assert closed.tolist() == [False, False, False, True] and sales[3] == 5e-7


def test_margin_call_restores_target_leverage_and_closes_out_insolvent_accounts():
    values = np.array([[100.0], [100.0], [100.0]])
    debt = np.array([60.0, 80.0, 120.0])                        # equity 40, 20, -20
    sales, closed = margin_call_sales(values, debt, np.array([0.25]), target_leverage=2.0)
    assert sales[0] == 0                                        # 40% equity: no call
    assert sales[1] == pytest.approx(100.0 - 20.0 / 0.5)        # back to 50% equity after repaying debt
    assert closed.tolist() == [False, False, True] and sales[2] == 100.0


# ---------------------------------------------------------------- GPU collateral
def test_haircut_widens_as_price_falls_and_cure_restores_the_covenant():
    assert haircut(1.0, 1.0, 0.5) == 0 and haircut(0.6, 1.0, 0.5) == pytest.approx(0.2)
    loan, units, cash, price = np.array([72.0]), np.array([100.0]), np.array([2.0]), 0.8
    hc = haircut(price, 1.0, 0.25)
    ltv = loan_to_value(loan, units, price, hc)
    assert ltv[0] == pytest.approx(72.0 / (80.0 * (1 - hc)))
    prepay, sell, cannot = cure_amounts(loan, units, cash, price, hc, 0.9)
    assert prepay[0] == 2.0 and sell[0] > 0 and not cannot[0]      # cash first, then GPUs
    new_loan = loan - prepay - sell * price
    assert loan_to_value(new_loan, units - sell, price, hc)[0] == pytest.approx(0.9)


def test_cure_is_impossible_when_the_loan_exceeds_haircut_collateral():
    prepay, sell, cannot = cure_amounts(np.array([100.0]), np.array([100.0]), np.array([0.0]), 0.9, 0.1, 0.9)
    assert cannot[0]


# ---------------------------------------------------------------- funds
def test_redemptions_rise_with_losses_only():
    r = redemption_request_share(np.array([90.0, 110.0]), np.array([100.0, 100.0]), 0.02, 2.5)
    np.testing.assert_allclose(r, [0.02 + 0.25, 0.02])


def test_software_loans_lose_value_as_software_equity_falls():
    assert software_book_value(100, 1.0, 0.6, 0.6) == 100
    assert software_book_value(100, 0.5, 0.6, 0.6) == pytest.approx(100 * (1 - 0.3 * 0.6))


# ---------------------------------------------------------------- the capex race
def test_capex_game_nash_spends_more_than_the_cooperative_optimum():
    plan = np.array([150.0, 180.0, 200.0, 125.0, 50.0])
    options = np.array([0.7, 0.85, 1.0, 1.15])
    kw = dict(prize_bn=600.0, financing_rate=np.full(5, 0.05), ocf=np.array([136, 165, 140, 116, 22.0]),
              payouts=np.array([42, 56, 0, 35, 5.0]), spare_cash=np.zeros(5), burn_penalty=0.3, life_years=3.0)
    nash, coop = capex_game(plan, options, **kw)
    assert (nash * plan).sum() > (coop * plan).sum()
    # the Nash profile is an equilibrium: no firm gains by deviating alone
    u = payoffs(plan * nash, **kw)
    for i in range(5):
        for o in options:
            trial = plan * nash
            trial[i] = plan[i] * o
            assert payoffs(trial, **kw)[i] <= u[i] + 1e-9
    # cooperation maximises the sum of payoffs
    assert payoffs(plan * coop, **kw).sum() >= u.sum() - 1e-9


def _capex_game_by_brute_force(plan, options, **kw):
    """The game's definition read literally: best responses and welfare from the full payoffs."""
    n, m = len(plan), len(options)
    choice = np.full(n, int(np.argmin(np.abs(options - 1.0))))
    for _ in range(10 * n + 10):
        changed = False
        for i in range(n):
            trial = np.tile(plan * options[choice], (m, 1))
            trial[:, i] = plan[i] * options
            u = payoffs(trial, **kw)[:, i]
            if u.max() > u[choice[i]] + 1e-12:
                choice[i], changed = int(np.argmax(u)), True
        if not changed:
            break
    profiles = np.array(list(itertools.product(range(m), repeat=n)))
    welfare = payoffs(plan * options[profiles], **kw).sum(axis=-1)
    return options[choice], options[profiles[int(np.argmax(welfare))]]


@pytest.mark.parametrize("seed", range(8))
def test_capex_game_matches_the_payoffs_read_literally(seed):
    """The game separates each payoff into the share term and the firm's own part; on random games
    it finds the same Nash profile and the same cooperative optimum as the full payoffs do."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 6))
    plan = rng.uniform(20, 250, n)
    options = np.sort(rng.uniform(0.5, 1.5, int(rng.integers(2, 6))))
    kw = dict(prize_bn=float(rng.uniform(0, 1500)), financing_rate=rng.uniform(0.03, 0.09, n),
              ocf=rng.uniform(10, 200, n), payouts=rng.uniform(0, 60, n), spare_cash=rng.uniform(0, 80, n),
              burn_penalty=float(rng.uniform(0, 1)), life_years=float(rng.uniform(2, 6)))
    nash, coop = capex_game(plan, options, **kw)
    want_nash, want_coop = _capex_game_by_brute_force(plan, options, **kw)
    assert nash.tolist() == want_nash.tolist()
    assert payoffs(plan * coop, **kw).sum() == pytest.approx(payoffs(plan * want_coop, **kw).sum(), rel=1e-12)


def test_without_a_prize_nobody_races():
    plan = np.array([100.0, 100.0])
    nash, coop = capex_game(plan, np.array([0.7, 1.0, 1.3]), prize_bn=0.0, financing_rate=np.full(2, 0.05),
                            ocf=np.array([50.0, 50.0]), payouts=np.zeros(2), spare_cash=np.zeros(2),
                            burn_penalty=0.3, life_years=3.0)
    assert nash.tolist() == [0.7, 0.7] and coop.tolist() == [0.7, 0.7]


def test_ledger_records_one_amount_paid_by_several_rows():
    from sim.balance_sheets import Book
    b = Book(4, 2)
    b.external(np.array([0, 2]), 5.0, "test_source")
    b.external(slice(1, 4), -1.0, "test_sink")
    np.testing.assert_allclose(b.cash, [5.0, -1.0, 4.0, -1.0])
    assert b.sources["test_source"] == 10.0 and b.sinks["test_sink"] == 3.0
    b.transfer(0, np.array([1, 3]), 2.0)
    assert b.cash.sum() == pytest.approx(10.0 - 3.0)                 # transfers create nothing


def test_one_payer_pays_each_payee_in_turn_as_subtract_at_would():
    """Book.transfer from one holder to many, and transfer_to_each for payees known to be distinct,
    move the same cash bit for bit as numpy's unbuffered subtract.at / add.at (repeated payees add up)."""
    from sim.balance_sheets import Book
    rng = np.random.default_rng(11)
    start = rng.random(8) * 10
    amounts = rng.random(5) / 7
    for payees in (np.array([1, 3, 4, 6, 7]), np.array([1, 3, 3, 6, 1])):
        want = start.copy()
        np.subtract.at(want, np.zeros(5, dtype=int), amounts)
        np.add.at(want, payees, amounts)
        books = [Book(8, 1) for _ in range(2)]
        for b in books:
            b.cash[:] = start
        books[0].transfer(0, payees, amounts)
        np.testing.assert_array_equal(books[0].cash, want)
        if len(set(payees.tolist())) == len(payees):
            books[1].transfer_to_each(0, payees, amounts)
            np.testing.assert_array_equal(books[1].cash, want)
        assert books[0].cash.sum() == pytest.approx(start.sum(), rel=1e-15)     # nothing created


def test_divide_where_positive_matches_the_masked_divide():
    from sim.arrays import divide_where_positive
    rng = np.random.default_rng(3)
    num = rng.random((20, 12))
    for den in (rng.random(12) + 0.1, np.where(rng.random(12) < 0.3, 0.0, rng.random(12))):
        want = np.divide(num, den, out=np.full(num.shape, -1.0), where=den > 0)
        got = divide_where_positive(num, den, -1.0)
        np.testing.assert_array_equal(got, want)                     # the same numbers, bit for bit
    assert np.array_equal(divide_where_positive(np.array([1.0, 2.0]), np.array([0.0, -1.0]), 7.0), [7.0, 7.0])


def test_divide_where_positive_takes_an_array_fill():
    from sim.arrays import divide_where_positive
    got = divide_where_positive(np.array([1.0, 2.0, 0.0]), np.array([2.0, 0.0, 0.0]), np.array([9.0, np.inf, 0.0]))
    np.testing.assert_array_equal(got, [0.5, np.inf, 0.0])
