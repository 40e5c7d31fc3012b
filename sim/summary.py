"""Per-run summary (``summary.json``): the figures users quote. Definitions in MODEL.md §8."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim import metrics
from sim.domain import ASSETS


def max_drawdown(prices: np.ndarray) -> float:
    """Largest fall from a running peak, as a fraction (0 = never fell)."""
    peak = np.maximum.accumulate(prices)
    return float(np.max(1.0 - prices / peak)) if len(prices) else 0.0


def summarize(model) -> dict[str, Any]:
    col = model.model_column
    cfg = model.cfg
    crisis_cfg = cfg.crisis
    dd = {a: max_drawdown(col(f"price_{a}")) for a in ASSETS}
    peak_spread = float(np.max(col("ig_spread_bp")))
    defaults = model.defaults
    nc_share = defaults.by_kind["neocloud"] / max(len(model.neoclouds), 1) if model.neoclouds else 0.0
    reasons = []
    if peak_spread > crisis_cfg.ig_spread_bp:
        reasons.append("ig_spread")
    if nc_share > crisis_cfg.neocloud_default_share:
        reasons.append("neocloud_defaults")
    if model.pc_funds.gate_streak_max >= crisis_cfg.gate_quarters:
        reasons.append("private_credit_gates")
    trinity = metrics.trinity(model)
    hs = model.hyperscalers
    outside_losses = defaults.outside_losses_bn
    return {
        "scenario": cfg.name,
        "seed": model.seed_used,
        "steps": int(model.steps),
        "max_drawdown": dd,
        "peak_ig_spread_bp": peak_spread,
        "peak_ust10y_pct": float(np.max(col("ust10y_pct"))),
        "dry_powder_min_bn": float(np.min(col("dry_powder_bn"))),
        "dry_powder_exhausted_step": model.exhausted_step,
        "defaults": dict(defaults.by_kind),
        "fire_sale_volume_bn": float(model.event_log.fire_sale_volume_bn),
        "max_cascade_rounds": int(model.cascade.max_rounds),
        "crisis": bool(reasons),
        "crisis_reasons": reasons,
        "capex_planned_bn": float(hs.total_capex_planned_bn),
        "capex_realized_bn": float(hs.total_capex_realized_bn),
        "cb_balance_sheet_change_bn": float(model.central_bank.purchases_bn),
        "credit_losses_bn": float(defaults.credit_losses_bn),
        "outside_creditor_losses_bn": float(outside_losses),
        "system_losses_bn": float(defaults.credit_losses_bn + outside_losses),
        "trinity": {k.removeprefix("trinity_"): v for k, v in trinity.items()},
        "final_ai_revenue_bn": float(model.world.ai_revenue),
        "gpu_generations": int(model.world.generations),
    }
