"""The cascade engine (sim/engine): its primitives by hand, and the fact that the model's weekly
cascade and the INET fire-sale validation run the same ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import engine
from sim.domain import Constraint
from sim.engine import loop as engine_loop
from sim.engine import MATERIAL_BN, CascadeLoop, OrderSheet, OutsideFlows, RoundRecord, clear, settle_sales
from sim.model import DryPowderModel
from sim.validation import inet_firesale
from tests.conftest import SMALL


class _Market:
    def __init__(self, prices, impact):
        self.prices = np.asarray(prices, dtype=float)
        self._impact = np.asarray(impact, dtype=float)

    def impact_per_unit(self):
        return self._impact

    def move(self, clearing):
        self.prices = clearing.new_prices


class _Rules:
    """Sells ``plan[r]`` (an (N, K) array) in round r; records what it was told."""

    def __init__(self, plan):
        self.plan, self.settled, self.idled = plan, [], []

    def act(self, sheet, round_no):
        for row, units in enumerate(self.plan.get(round_no, [])):
            sheet.put(row, np.asarray(units, dtype=float), Constraint.MARGIN_CALL)

    def settle(self, record):
        self.settled.append(record)

    def idle(self, round_no):
        self.idled.append(round_no)

    def busy(self):
        return False


def test_order_sheet_keeps_one_order_per_holder_by_priority_and_never_more_than_held():
    holdings = np.array([[10.0, 5.0], [1.0, 0.0]])
    sheet = OrderSheet(holdings, np.array([2.0, 1.0]))
    sheet.put(0, np.array([4.0, 0.0]), Constraint.REDEMPTION)
    sheet.put(0, np.array([1.0, 1.0]), Constraint.COMMITMENT)        # lower priority: ignored
    assert sheet.labels[0] == Constraint.REDEMPTION and sheet.units[0].tolist() == [4.0, 0.0]
    sheet.put(0, np.array([20.0, 20.0]), Constraint.DEFAULT)         # higher: replaces, capped at holdings
    assert sheet.labels[0] == Constraint.DEFAULT and sheet.units[0].tolist() == [10.0, 5.0]
    sheet.put(1, np.array([MATERIAL_BN / 4, 0.0]), Constraint.MARGIN_CALL)   # worth MATERIAL_BN / 2: not placed
    assert sheet.labels[1] is None and not sheet.units[1].any()
    np.testing.assert_array_equal(sheet.totals(), [10.0, 5.0])


def test_settle_sales_sells_at_most_what_is_held_at_the_execution_price():
    holdings = np.array([[10.0, 0.0], [2.0, 3.0]])
    sold, proceeds = settle_sales(holdings, np.array([[12.0, 0.0], [1.0, 3.0]]), np.array([0.5, 2.0]))
    np.testing.assert_array_equal(sold, [[10.0, 0.0], [1.0, 3.0]])
    np.testing.assert_array_equal(proceeds, [5.0, 6.5])
    np.testing.assert_array_equal(holdings, [[0.0, 0.0], [1.0, 0.0]])


def test_a_round_clears_every_asset_once_and_outside_flows_move_prices_without_settling():
    holdings = np.array([[10.0, 0.0], [0.0, 4.0]])
    market = _Market([1.0, 1.0], [0.01, 0.02])
    rules = _Rules({})
    cascade = CascadeLoop(holdings, market, rules)
    sheet = cascade.new_sheet()
    sheet.put(0, np.array([10.0, 0.0]), Constraint.MARGIN_CALL)
    sheet.books.append(OutsideFlows(np.array([5.0, -4.0]), Constraint.CROWDING_OUT))
    record = cascade.clear_round(0, sheet)
    want = clear(np.ones(2), np.array([15.0, -4.0]), np.array([0.01, 0.02]))
    np.testing.assert_allclose(market.prices, want.new_prices, rtol=0)
    assert market.prices[0] < 1.0 < market.prices[1]             # net sold falls, net bought rises
    np.testing.assert_allclose(record.proceeds, [10.0 * want.execution_prices[0], 0.0], rtol=0)
    assert holdings[1, 1] == 4.0                                    # outside flows change no holder
    assert rules.settled == [record] and isinstance(record, RoundRecord)


def test_run_until_quiet_stops_at_the_first_round_without_a_forced_sale():
    holdings = np.full((2, 1), 10.0)
    rules = _Rules({1: [[1.0], [0.0]], 2: [[0.0], [2.0]]})
    cascade = CascadeLoop(holdings, _Market([1.0], [0.001]), rules)
    records = cascade.run_until_quiet(cascade.new_sheet(), max_rounds=10)
    assert [r.round for r in records] == [0, 1, 2] and rules.idled == [3]
    assert holdings[:, 0].tolist() == [9.0, 8.0]
    capped = CascadeLoop(np.full((2, 1), 10.0), _Market([1.0], [0.001]), _Rules({1: [[1.0], [0.0]], 2: [[1.0], [0.0]]}))
    assert [r.round for r in capped.run_until_quiet(capped.new_sheet(), max_rounds=1)] == [0, 1]


@pytest.fixture
def engine_calls(monkeypatch):
    """Count calls of the engine's clearing, settlement and round functions."""
    calls = {"clear_round": 0, "clear": 0, "settle_sales": 0}

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(CascadeLoop, "clear_round", counting("clear_round", CascadeLoop.clear_round))
    monkeypatch.setattr(engine_loop, "clear", counting("clear", engine_loop.clear))
    monkeypatch.setattr(engine_loop, "settle_sales", counting("settle_sales", engine_loop.settle_sales))
    return calls


def _banks() -> pd.DataFrame:
    """Three banks in the INET peer's layout, one of them thinly capitalised."""
    rows = [("A", 30.0, 10.0, 5.0, 55.0, 40.0, 56.0), ("B", 20.0, 20.0, 5.0, 55.0, 30.0, 66.5),
            ("C", 10.0, 30.0, 5.0, 55.0, 50.0, 47.0)]
    df = pd.DataFrame(rows, columns=["bank_id", "gov_bonds", "corp_bonds", "cash", "other_assets", "loan",
                                     "other_liabilities"])
    df["equity"] = df.gov_bonds + df.corp_bonds + df.cash + df.other_assets - df.loan - df.other_liabilities
    return df


def test_the_weekly_cascade_and_the_inet_validation_run_the_same_engine(engine_calls):
    DryPowderModel(rng=1, **{**SMALL, "simulation.steps": 30}).run()
    weekly = dict(engine_calls)
    assert weekly["clear_round"] >= 30 and weekly["clear"] == weekly["clear_round"] and weekly["settle_sales"] > 0
    for key in engine_calls:
        engine_calls[key] = 0
    run = inet_firesale(_banks(), 0.05, 0.20)
    assert sum(run.defaults) >= 1                     # the thin bank fails: the rounds did something
    assert engine_calls["clear_round"] == len(run.result.rounds) == 6
    assert engine_calls["clear"] == 6 and engine_calls["settle_sales"] >= 1
    assert engine.CascadeLoop is CascadeLoop
