"""The fixed cases of the golden regression test and what is stored about each."""

from __future__ import annotations

import numpy as np

CASES = {
    "baseline_seed1": ({}, 1),
    "baseline_seed2": ({}, 2),
    "exhausted_seed3": ({"dry_powder.initial_bn": 150.0, "dry_powder.savings_inflow_bn_per_yr": 100.0}, 3),
    "gpu_shock_seed4": ({"gpu.generation_value_drop": 0.5, "gpu.generation_steps": [20]}, 4),
}
COMMON = {"retail.holders": 1000, "simulation.steps": 80}
SERIES = ["dry_powder_bn", "ust10y_pct", "ig_spread_bp", "price_crypto", "price_saas", "price_ai_hardware",
          "price_used_gpu", "fire_sales_bn", "defaults_total", "capex_realized_bn"]


def fingerprint(name: str) -> dict:
    from sim.model import DryPowderModel
    overrides, seed = CASES[name]
    m = DryPowderModel(rng=seed, **{**COMMON, **overrides}).run()
    df = m.model_frame()
    s = m.summary()
    return {
        "summary": {k: s[k] for k in ("peak_ig_spread_bp", "peak_ust10y_pct", "dry_powder_min_bn", "fire_sale_volume_bn",
                                      "max_cascade_rounds", "crisis", "capex_realized_bn", "credit_losses_bn")},
        "defaults": s["defaults"],
        "max_drawdown": s["max_drawdown"],
        "series_every_8_weeks": {c: [float(v) for v in df[c].to_numpy()[::8]] for c in SERIES},
        "series_sums": {c: float(np.sum(df[c].to_numpy())) for c in SERIES},
        "events": int(len(m.events_frame())),
    }
