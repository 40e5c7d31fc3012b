"""The model as a whole: accounting identities at every step, determinism, the network, outputs."""

from __future__ import annotations

import io

import numpy as np
import pytest

from agents.fund import NEVER
from sim.config import ASSETS, load_config, resolve_config_arg
from sim.model import AGENT_KINDS, DryPowderModel

from tests.conftest import SMALL


def _system_checks(m: DryPowderModel) -> None:
    b = m.book
    # cash is conserved up to the documented sources and sinks
    assert abs(m.cash_conservation_gap()) < 1e-6
    # the pool never goes negative; prices stay positive and finite
    assert m.pool.level_bn >= 0
    assert np.all(np.isfinite(m.prices)) and np.all(m.prices > 0)
    # balance sheets are finite, and a fund's equity on the book equals its NAV computed from its
    # own items (two separate code paths: Book.equity over all claims, DryPowderModel.fund_nav)
    assets, liabilities, equity = m.total_assets(), b.total_liabilities(), m.equity()
    assert np.all(np.isfinite(assets)) and np.all(np.isfinite(liabilities))
    funds = m.pc_funds.row_index.tolist() + m.hedge_funds.row_index.tolist()
    np.testing.assert_allclose(equity[funds], m.fund_nav()[funds], rtol=0, atol=1e-9)
    # a claim is one number seen from both sides: loans receivable = loans payable
    assert b.loans_receivable().sum() == pytest.approx(b.loans_payable().sum(), abs=1e-9)
    # fund units held by the model's investors never exceed the units outstanding
    held = b.fund_units.sum(axis=0)
    assert np.all(held <= b.fund_units_outstanding + 1e-9)
    # no holder has negative holdings or negative debt
    assert b.units.min() >= -1e-9 and b.external_debt.min() >= -1e-9
    assert m.retail.units.min() >= -1e-9 and m.retail.debt.min() >= -1e-9
    # the retail totals kept trade by trade are the sum over holders
    np.testing.assert_allclose(m.retail.units_total, m.retail.aggregate_units(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("overrides", [
    {},
    {"dry_powder.initial_bn": 100.0, "dry_powder.savings_inflow_bn_per_yr": 0.0},
    {"gpu.generation_value_drop": 0.6, "gpu.generation_steps": [5, 25]},
    {"hedge_funds.leverage": 8.0, "retail.margin_share": 0.6},
    {"central_bank.backstop": True, "dry_powder.initial_bn": 100.0},
])
def test_identities_hold_at_every_step(overrides):
    m = DryPowderModel(rng=3, **{**SMALL, **overrides})
    _system_checks(m)
    defaulted_before: set[int] = set()
    for _ in range(m.horizon):
        m.step()
        _system_checks(m)
        now = {a.unique_id for a in m.holders if a.defaulted}
        assert defaulted_before <= now            # a defaulted agent stays defaulted
        defaulted_before = now


def test_defaulted_holders_pay_out_no_more_than_they_had():
    m = DryPowderModel(rng=1, **{**SMALL, "gpu.generation_value_drop": 0.7, "gpu.generation_steps": [3]})
    m.run()
    dead = [a for a in m.neoclouds if a.defaulted]
    assert dead, "a 70% GPU value drop should bankrupt some neocloud"
    for a in dead:
        assert m.book.loans_payable()[a.row] == 0               # obligations extinguished
        assert m.book.units[a.row].sum() == pytest.approx(0, abs=1e-9)
        assert m.book.cash[a.row] >= -1e-9
    assert m.defaults.credit_losses_bn > 0                                     # lenders took losses


def _parquet_bytes(df) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False, compression="zstd")
    return buf.getvalue()


def test_same_seed_same_bytes_different_seed_different_path():
    a = DryPowderModel(rng=11, **SMALL).run()
    b = DryPowderModel(rng=11, **SMALL).run()
    c = DryPowderModel(rng=12, **SMALL).run()
    for frame in ("model_frame", "agents_frame", "events_frame"):
        assert _parquet_bytes(getattr(a, frame)()) == _parquet_bytes(getattr(b, frame)())
    assert not a.model_frame().equals(c.model_frame())
    assert a.summary() == b.summary()


def test_config_seed_is_used_when_no_rng_is_given():
    a = DryPowderModel(**{**SMALL, "seed": 5}).run(10)
    b = DryPowderModel(rng=5, **SMALL).run(10)
    assert a.model_frame().equals(b.model_frame())


def test_sizes_and_network():
    m = DryPowderModel(**SMALL)
    kinds = {k: len(m.agents_by_type[type(a)]) for k, a in ((a.kind, a) for a in m.holders)}
    assert kinds["hyperscaler"] == 5 and kinds["neocloud"] >= 12 and kinds["private_credit"] == 20
    assert kinds["sovereign"] == 6 and kinds["hedge_fund"] == 20 and kinds["ai_lab"] == 3
    assert m.retail.n == SMALL["retail.holders"]
    g = m.network
    edge_kinds = {d["kind"] for *_, d in g.edges(data=True)}
    assert {"holding", "loan", "fund_share", "commitment", "compute_contract"} <= edge_kinds
    # every GPU loan edge matches the loan matrix
    loans = sum(d["value_bn"] for *_, d in g.edges(data=True) if d["kind"] == "loan")
    assert loans == pytest.approx(m.book.gpu_loans.sum())
    # the Mesa network space (built on first use) holds every holder at its own node
    assert m.space is not None and all(a.cell is not None for a in m.holders)
    assert {f"asset:{a}" for a in ASSETS} <= set(g.nodes)


def test_network_space_is_the_claims_between_agents_at_the_start():
    """The space is built when first used, yet its topology is the claims between agents at t=0
    (holdings of market assets are not edges), whenever it is first looked at."""
    m = DryPowderModel(rng=3, **SMALL)
    at_start = {frozenset((u, v)) for u, v, d in m.network.edges(data=True) if d["kind"] != "holding"}
    m.run(40)
    assert {frozenset(e) for e in m.graph.edges} == at_start
    assert set(m.graph.nodes) == {a.unique_id for a in m.holders}
    assert all(a.cell.coordinate == a.unique_id for a in m.holders)
    assert all(a in a.cell.agents for a in m.holders if a is not m.retail)   # institutions are fixed agents


def test_summary_has_every_documented_field():
    s = DryPowderModel(rng=2, **SMALL).run().summary()
    for key in ("max_drawdown", "peak_ig_spread_bp", "peak_ust10y_pct", "dry_powder_min_bn", "dry_powder_exhausted_step",
                "defaults", "fire_sale_volume_bn", "max_cascade_rounds", "crisis", "capex_planned_bn",
                "capex_realized_bn", "cb_balance_sheet_change_bn"):
        assert key in s
    assert set(s["max_drawdown"]) == set(ASSETS)
    assert set(s["defaults"]) == set(AGENT_KINDS)
    assert all(0 <= v <= 1 for v in s["max_drawdown"].values())
    assert all(0 <= v <= 1 for v in s["trinity"].values())


def test_events_record_who_sold_by_which_constraint():
    m = DryPowderModel(rng=0, **{**SMALL, "gpu.generation_value_drop": 0.5, "gpu.generation_steps": [5]}).run()
    e = m.events_frame()
    assert {"step", "round", "agent_id", "agent_kind", "constraint", "asset", "value_bn", "price_return"} <= set(e.columns)
    cov = e[e.constraint == "covenant_breach"]
    assert len(cov) and (cov.agent_kind == "neocloud").all()
    gpu_sales = cov[cov.asset == "used_gpu"]
    assert (gpu_sales.price_return < 0).all()          # forced GPU sales mark the market down
    forced = e[e.constraint.isin(["margin_call", "covenant_breach", "redemption", "commitment", "default"])
               & (e.asset != "cash") & (e.asset != "")]
    assert m.summary()["fire_sale_volume_bn"] == pytest.approx(forced.value_bn.sum())
    assert 1 <= m.summary()["max_cascade_rounds"] <= m.cfg.simulation.max_cascade_rounds
    assert e["round"].max() <= m.summary()["max_cascade_rounds"]


def test_realised_volatility_reads_the_last_window_of_weekly_returns():
    """The volatility window is a ring buffer: after more weeks than it holds, it holds exactly the
    last ``vol_window_weeks`` weekly log returns, oldest first, and margins use their std."""
    m = DryPowderModel(rng=5, **SMALL)
    window = m.cfg.hedge_funds.vol_window_weeks
    assert m.market.log_returns.shape == (0, m.K) and not m.market.realised_vol().any()
    m.run(3)
    prices = np.array(m.market.price_history)
    np.testing.assert_allclose(m.market.log_returns, np.log(prices[1:] / prices[:-1]), rtol=1e-12)
    m.run(window + 4)
    prices = np.array(m.market.price_history[-(window + 1):])
    want = np.log(prices[1:] / prices[:-1])
    np.testing.assert_allclose(m.market.log_returns, want, rtol=1e-12)
    np.testing.assert_allclose(m.market.realised_vol(), want.std(axis=0, ddof=1) * np.sqrt(52), rtol=1e-9)


def test_momentum_signal_is_the_13_week_return():
    """Retail momentum reads the return over the last 13 weeks (not since the start of the kept
    price history): checked against the closes in the model's own time series."""
    m = DryPowderModel(rng=2, **SMALL)
    m.run(5)
    frame = m.model_frame().set_index("step")
    cols = [f"price_{a}" for a in ASSETS]
    np.testing.assert_allclose(m.market.return_13w(), np.log(frame.loc[5, cols].to_numpy(float)), rtol=1e-12)
    m.run(35)
    frame = m.model_frame().set_index("step")
    want = np.log(frame.loc[40, cols].to_numpy(float) / frame.loc[27, cols].to_numpy(float))
    np.testing.assert_allclose(m.market.return_13w(), want, rtol=1e-12)


def test_a_capital_call_beyond_cash_is_raised_once_a_week_by_conviction():
    """A sovereign with no cash facing a call sells its lowest-conviction asset in round 0, with the
    week's other flows decided at the open, pays the call from the proceeds, and raises what the
    execution price left unpaid with the next week's sales (never in a later round of the same week)."""
    m = DryPowderModel(rng=4, **SMALL)
    sov, lab = m.sovereigns[0], m.labs[0]
    first_asset = next(a for a in m.cfg.sovereigns.conviction_order if a in ASSETS)
    k = ASSETS.index(first_asset)
    m.book.cash[sov.row] = 0.0
    for other in m.labs:        # labs flush with cash make no calls of their own in these weeks
        m.book.cash[other.row] += 1000.0
    call = 0.5 * m.book.units[sov.row, k] * m.prices[k]      # half of its first asset at today's price
    m.sovereigns.add_call(sov.row, lab.row, call)
    m.step()
    sales = m.events_frame().query(f"agent_id == {sov.unique_id} and constraint == 'commitment'")
    assert len(sales) and set(sales["round"]) == {0}
    assert set(sales.asset) == {first_asset}        # the first asset alone covers the call
    raised = sales.value_bn.sum()
    left = sum(c[2] for c in m.sovereigns.calls if c[0] == sov.row and c[1] == lab.row)
    assert 0 < raised < call and left == pytest.approx(call - raised, rel=1e-9)
    assert left < 0.01 * call                       # the price impact of the sale, not more
    m.step()
    assert not any(c[0] == sov.row and c[1] == lab.row for c in m.sovereigns.calls)


@pytest.mark.parametrize("scenario, seed", [("baseline", 0), ("dry_powder_exhausted", 4)])
def test_cascade_rounds_count_only_sales_forced_by_the_week_s_prices(scenario, seed):
    """What falls due at the open (redemptions, capital calls cash cannot cover, a hyperscaler's own
    Treasuries) trades in round 0; rounds 1... carry only what the week's price moves force: margin
    calls, covenant cures and the liquidation of holders that defaulted. A week has cascade rounds
    exactly when such a sale happened, and as many as the last round that had one."""
    cfg = load_config(resolve_config_arg(scenario), {"seed": seed, "simulation.steps": 104})
    m = DryPowderModel(cfg).run()
    events = m.events_frame()
    sales = events[(events.units_sold != 0) & (events.agent_kind != "market")]
    scheduled = sales[sales.constraint.isin(["redemption", "commitment", "crowding_out"])]
    reactive = sales[sales.constraint.isin(["margin_call", "covenant_breach", "default"])]
    assert len(scheduled) and len(reactive)
    assert set(scheduled["round"]) == {0}
    assert reactive["round"].min() >= 1
    rounds = m.model_frame().set_index("step")["cascade_rounds"].iloc[1:]
    last_reactive = reactive.groupby("step")["round"].max().reindex(rounds.index, fill_value=0)
    np.testing.assert_array_equal(rounds.to_numpy(), last_reactive.to_numpy())
    assert (rounds == 0).sum() > len(rounds) // 2       # most weeks have no cascade round at all


@pytest.mark.parametrize("scenario, seed", [("baseline", 0), ("dry_powder_exhausted", 4)])
def test_a_model_without_detail_runs_the_same_and_keeps_no_events_or_agent_rows(scenario, seed):
    """detail=False (what experiments build) changes what is kept, not what happens: the same
    model-level series and summary, fire-sale totals included, with no event log or agent rows."""
    cfg = load_config(resolve_config_arg(scenario), {"seed": seed, "simulation.steps": 104})
    full, lean = DryPowderModel(cfg).run(), DryPowderModel(cfg, detail=False).run()
    assert full.summary() == lean.summary()
    assert full.model_frame().equals(lean.model_frame())
    assert full.summary()["fire_sale_volume_bn"] > 0 and len(full.events) and len(full.agent_rows)
    assert lean.events is None and lean.agent_rows is None
    for frame in (lean.events_frame, lean.agents_frame):
        with pytest.raises(RuntimeError, match="detail=False"):
            frame()


def test_close_frees_a_finished_run_without_the_cyclic_collector():
    """Batch runners close each model once its outputs are read: the model, its agents and its
    arrays are freed by reference counting alone (a worker does not accumulate dead runs)."""
    import gc
    import weakref

    m = DryPowderModel(rng=1, **SMALL)
    m.run(10)
    summary = m.summary()
    refs = [weakref.ref(m), weakref.ref(m.retail), weakref.ref(m.cascade), weakref.ref(m.holders[0])]
    gc.disable()
    try:
        m.close()
        del m
        assert all(r() is None for r in refs)
    finally:
        gc.enable()
    assert summary["steps"] == 10


def test_without_close_a_finished_run_waits_for_the_cyclic_collector():
    """The reason close() exists: a model refers to its agents and they to it."""
    import gc
    import weakref

    m = DryPowderModel(rng=1, **SMALL)
    ref = weakref.ref(m)
    gc.disable()
    try:
        del m
        assert ref() is not None
        gc.collect()
        assert ref() is None
    finally:
        gc.enable()


def test_neocloud_loan_service_is_interest_plus_straight_line_amortisation():
    """MODEL.md 4 (neoclouds): each week every loan of neocloud n pays loan_rate dt + a_n of itself,
    a_n = min(originated_n / (L_n 52 T), 1); a neocloud with cash for only part of it pays that part
    to every lender in proportion, and defaults."""
    m = DryPowderModel(rng=6, **SMALL, **{"neoclouds.rent_yield": 0.0})
    nc, b = m.cfg.neoclouds, m.book
    rows, lenders = m.neoclouds.rows, m.pc_funds.rows
    loans = b.gpu_loans.copy()
    owed = loans.sum(axis=0)
    amort = np.minimum(m.neoclouds.loan_origination / (owed * 52 * nc.amortisation_years), 1.0)
    rate = nc.loan_rate_pct / 100 / 52
    due = owed * (rate + amort)
    short = int(np.argmax(owed))                     # this one can pay only 40% of what is due
    paid = np.ones(len(m.neoclouds))
    paid[short] = 0.4
    b.cash[rows] = np.where(paid < 1, 0.4, 10.0) * due
    b.cash[m.labs.rows] = 0.0                   # no compute payments reach the neoclouds this week
    b.external_debt[lenders] = 0.0                   # no facility interest: lenders only receive
    neocloud_cash, lender_cash = b.cash[rows].copy(), b.cash[lenders].copy()
    m.steps = 1
    m.neoclouds.collect_rents_and_service_loans()    # the neoclouds' part of stage 2 alone
    np.testing.assert_allclose(b.gpu_loans, loans * (1 - amort * paid), rtol=1e-12)
    np.testing.assert_allclose(b.cash[rows], neocloud_cash - due * paid, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.cash[lenders] - lender_cash, loans @ ((rate + amort) * paid), rtol=1e-12)
    assert m.neoclouds[short].defaulted and sum(a.defaulted for a in m.neoclouds) == 1


def test_quarter_end_redemption_requests_are_paid_after_their_lag_and_not_before():
    """Funds take requests at a quarter end and pay them ``redemption_lag_steps`` later; the cascade
    looks at the queues only from the earliest due step on (each fund group's ``next_due``)."""
    m = DryPowderModel(rng=4, **{**SMALL, "private_credit.redemption_lag_steps": 3, "hedge_funds.redemption_lag_steps": 3})
    m.run(13)                                              # step 13 ends the first quarter
    queued = {f.row: [q for q in f.redemption_queue if q[1] == -1] for f in m.funds}
    assert all(len(q) == 1 and q[0][0] == 16 for q in queued.values())     # one request each, due at 16
    assert m.pc_funds.next_due == m.hedge_funds.next_due == 16
    paid_before = m.book.sinks.get("redemptions_paid", 0.0)
    m.run(2)                                               # steps 14 and 15: nothing is due yet
    assert m.book.sinks.get("redemptions_paid", 0.0) == paid_before
    assert all([q for q in f.redemption_queue if q[1] == -1] == queued[f.row] for f in m.funds)
    m.run(1)                                               # step 16: the requests are paid
    paid = m.book.sinks["redemptions_paid"] - paid_before
    asked = sum(q[0][2] for q in queued.values())
    assert 0.5 * asked < paid <= asked + 1e-9              # private credit may be gated; nothing is overpaid
    m.run(1)                 # after a look at the queues, the tracker holds the earliest due step left
    for group in (m.pc_funds, m.hedge_funds):
        left = [q[0] for f in group if not f.defaulted for q in f.redemption_queue]
        assert group.next_due == min(left, default=NEVER)
