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


def crisis_reasons(model, peak_spread_bp: float) -> list[str]:
    """Which system outcomes make the run a crisis (MODEL.md §8): a spread blow-out, defaults of a
    large part of the financial sector, or a quarter of fire sales of a size seen only in crises."""
    c = model.cfg.crisis
    reasons = []
    if peak_spread_bp > c.ig_spread_bp:
        reasons.append("ig_spread")
    assets0 = model.initial_assets
    defaulted = sum(v for row, v in assets0.items() if model.holders[row].defaulted)
    if assets0 and defaulted > c.defaulted_assets_share * sum(assets0.values()):
        reasons.append("financial_defaults")
    weekly = model.model_column("fire_sales_bn")
    quarter = np.convolve(weekly, np.ones(13), mode="valid") if len(weekly) >= 13 else np.array([weekly.sum()])
    if float(quarter.max(initial=0.0)) > c.forced_sales_share_qtr * model.initial_market_value:
        reasons.append("fire_sales")
    return reasons


def summarize(model) -> dict[str, Any]:
    col = model.model_column
    cfg = model.cfg
    dd = {a: max_drawdown(col(f"price_{a}")) for a in ASSETS}
    peak_spread = float(np.max(col("ig_spread_bp")))
    defaults = model.defaults
    reasons = crisis_reasons(model, peak_spread)
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
        "crowding_out_bn": float(model.cascade.rotation_total_bn),
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
