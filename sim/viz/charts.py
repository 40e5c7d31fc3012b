"""The page's time-series charts as data (drawn in the browser by ``vue/chart.vue``): each chart is
a dict of series read from the model's collected metrics, so a new week sends numbers, never a
picture. When a comparison runs, every chart also gets the second run's series, dashed.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pandas as pd

from sim.config import ASSETS

PRICE_COLORS = dict(zip(ASSETS, ("#1f77b4", "#17becf", "#4C78A8", "#9467bd", "#8c564b", "#e377c2", "#F58518",
                                 "#d62728")))
TRINITY = (("trinity_compute_race", "compute race", "#1a9641"),
           ("trinity_bond_stability", "bond-market stability", "#2c7bb6"),
           ("trinity_independence", "central-bank independence", "#d95f02"))
COMPARE_DASH = "5 3"


def _values(df: pd.DataFrame, col: str) -> list[float | None]:
    if col not in df:
        return []
    out = []
    for v in df[col].to_numpy(dtype=float).tolist():
        out.append(None if not math.isfinite(v) else float(f"{v:.5g}"))
    return out


def _series(df: pd.DataFrame, col: str, name: str, color: str, **kw) -> dict[str, Any]:
    return {"name": name, "color": color, "values": _values(df, col), "type": kw.pop("type", "line"), **kw}


def pool_chart(df: pd.DataFrame) -> dict[str, Any]:
    start = float(df["dry_powder_bn"].iloc[0]) if len(df) else 0.0
    return {"title": "Dry-powder pool", "unit": "$bn", "zero_floor": True, "y_range": [0, None],
            "series": [_series(df, "dry_powder_bn", "pool, $bn", "#4C78A8", type="area")],
            "hlines": [{"y": start, "color": "#777"}]}


def rates_chart(df: pd.DataFrame) -> dict[str, Any]:
    return {"title": "Yields and spreads", "unit": "10y, %", "unit2": "IG spread, bp",
            "series": [_series(df, "ust10y_pct", "UST 10y (%)", "#1f77b4"),
                       _series(df, "ig_spread_bp", "IG spread (bp, right)", "#d62728", axis=1)]}


def prices_chart(df: pd.DataFrame) -> dict[str, Any]:
    return {"title": "Asset prices (start = 1)", "unit": "index",
            "series": [_series(df, f"price_{a}", a.replace("_", " "), PRICE_COLORS[a], width=1.6) for a in ASSETS],
            "hlines": [{"y": 1.0, "color": "#999"}]}


def defaults_chart(df: pd.DataFrame) -> dict[str, Any]:
    return {"title": "Defaults and fire sales", "unit": "defaults", "unit2": "$bn / week", "zero_floor": True,
            "y_range": [0, 1], "y2_range": [0, None],
            "series": [_series(df, "defaults_total", "defaults (cumulative)", "#b2182b", type="step"),
                       _series(df, "fire_sales_bn", "fire sales ($bn/wk, right)", "#F58518", type="bar", axis=1)]}


def timeline_chart(df: pd.DataFrame) -> dict[str, Any]:
    return {"title": "Cascades: forced sales and rounds per week (click a week to replay it)", "unit": "$bn / week",
            "unit2": "rounds", "zero_floor": True, "clickable": True, "y_range": [0, None], "y2_range": [0, None],
            "series": [_series(df, "fire_sales_bn", "forced sales ($bn)", "#F58518", type="bar", alpha=0.8),
                       _series(df, "cascade_rounds", "cascade rounds (right)", "#7b3294", axis=1, type="step",
                               width=1.4)]}


def trinity_chart(df: pd.DataFrame) -> dict[str, Any]:
    return {"title": "Impossible trinity (1 = fully kept)", "unit": "share kept", "y_range": [0, 1.05],
            "series": [_series(df, k, name, c) for k, name, c in TRINITY]}


CHARTS: dict[str, Callable[[pd.DataFrame], dict[str, Any]]] = {
    "pool": pool_chart, "rates": rates_chart, "prices": prices_chart,
    "timeline": timeline_chart, "defaults": defaults_chart, "trinity": trinity_chart,
}
KEY_CHARTS = ("pool", "rates", "prices")


def chart_spec(name: str, df: pd.DataFrame, horizon: int, cursor: int | None = None,
               twin_df: pd.DataFrame | None = None, twin_label: str = "B", height: int = 132) -> dict[str, Any]:
    """The spec ``vue/chart.vue`` draws for chart ``name`` of :data:`CHARTS`: the run's series,
    the second run's dashed when ``twin_df`` is given, a cursor at ``cursor``."""
    spec = CHARTS[name](df)
    if twin_df is not None:
        spec["series"] = spec["series"] + compare_series(CHARTS[name](twin_df)["series"], twin_label)
    spec.update({"name": name, "x_max": int(horizon), "cursor": cursor, "height": height})
    return spec


def compare_series(series: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    """The second run's series: dashed lines (bars become dashed lines too, so both stay visible)."""
    out = []
    for s in series:
        s = dict(s, name=f"{label}: {s['name']}", dash=COMPARE_DASH)
        if s["type"] in ("bar", "area"):
            s["type"] = "line"
        out.append(s)
    return out


def agent_chart(history, row: int, horizon: int, cursor: int | None, name: str) -> dict[str, Any]:
    """An agent's balance sheet and stress over the weeks run (from the page's recorded history)."""
    weeks = history.weeks
    assets = np.array([w.assets[row] for w in weeks])
    liab = np.array([w.liabilities[row] for w in weeks])
    stress = np.array([w.stress[row] for w in weeks])

    def vals(a: np.ndarray) -> list[float]:
        return [float(f"{v:.5g}") for v in a.tolist()]
    return {"name": "agent", "title": f"{name}: balance sheet and stress by week", "unit": "$bn",
            "unit2": "stress (1 = limit)", "x_max": int(horizon), "cursor": cursor, "height": 130,
            "y2_range": [0, 1.2],
            "series": [{"name": "assets", "color": "#4C78A8", "values": vals(assets), "type": "line"},
                       {"name": "liabilities", "color": "#b2182b", "values": vals(liab), "type": "line"},
                       {"name": "equity", "color": "#1a9641", "values": vals(assets - liab), "type": "line"},
                       {"name": "stress (right)", "color": "#ff7f00", "values": vals(stress), "type": "line",
                        "axis": 1, "width": 1.4}]}
