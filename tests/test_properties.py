"""Property-based tests: random configs validate or are rejected cleanly; random (extreme) scenarios
keep every invariant."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.config import ConfigError, load_config
from sim.model import DryPowderModel
from tests.test_model import _system_checks

KEYS = ["dry_powder.initial_bn", "hyperscalers.capex_growth", "gpu.generation_value_drop", "retail.margin_share",
        "hedge_funds.leverage", "central_bank.backstop", "ai.revenue_growth", "retail.holders", "neoclouds.count",
        "simulation.steps", "rates.ig_spread_bp", "private_credit.gate_per_qtr", "dry_powder.inital_bn", "nonsense"]
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6), st.booleans(),
                   st.text(max_size=5), st.none(), st.lists(st.integers(-3, 3), max_size=3))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4))
def test_random_configs_validate_or_are_rejected_with_a_message(overrides):
    try:
        cfg = load_config(None, overrides)
    except ConfigError as exc:
        msg = str(exc)
        assert msg.startswith("invalid config") or "override" in msg
        assert any(k.split(".")[0] in msg for k in overrides)     # the message names the key
        return
    for key, value in overrides.items():                           # accepted values are kept
        node = cfg.to_dict()
        for part in key.split("."):
            node = node[part]
        if isinstance(value, float) and not isinstance(value, bool):
            assert np.isfinite(node)


EXTREME = st.fixed_dictionaries({
    "dry_powder.initial_bn": st.sampled_from([0.0, 50.0, 1200.0, 20000.0]),
    "hedge_funds.leverage": st.sampled_from([1.0, 3.0, 50.0]),
    "retail.margin_share": st.sampled_from([0.0, 0.5, 1.0]),
    "gpu.generation_value_drop": st.sampled_from([0.0, 0.5, 0.9]),
    "gpu.generation_steps": st.sampled_from([[], [2], [2, 6]]),
    "neoclouds.count": st.sampled_from([0, 1, 40, 1000]),
    "central_bank.backstop": st.booleans(),
    "ai.revenue_growth": st.sampled_from([-0.5, 0.6, 2.0]),
})


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXTREME, st.integers(0, 2**31), st.sampled_from([0.0, -0.9]))
def test_invariants_hold_in_random_extreme_scenarios(overrides, seed, crash):
    m = DryPowderModel(rng=seed, **{"retail.holders": 200, "simulation.steps": 10, **overrides})
    defaulted: set[int] = set()
    for step in range(10):
        if step == 3 and crash:                  # a -90% crash of every risky asset
            factor = np.ones(m.K)
            factor[2:] = 1.0 + crash
            m.market.apply_price_factor(factor)
        m.step()
        _system_checks(m)
        now = {a.unique_id for a in m.holders if a.defaulted}
        assert defaulted <= now
        defaulted = now
    frame = m.model_frame()
    assert np.isfinite(frame.select_dtypes("number").to_numpy()).all()
    s = m.summary()
    assert all(np.isfinite(v) for v in s["max_drawdown"].values())
