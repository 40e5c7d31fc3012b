"""From runs to the peer's tables, and where each point stands against its target (SPEC.md §11-12).

:func:`point_table` summarises the runs of every point exactly as the peer does; :func:`compare`
sets each point beside the peer's summary of the same library version and gives a verdict:

* ``identical`` -- every statistic of the point equals the peer's (same runs);
* ``exact`` -- the peer's point is deterministic or saturated (standard error 0) and ours equals it;
* ``within`` -- |aeoc - aeoc_peer| <= 2 sqrt(se^2 + se_peer^2) and the number of systemic runs
  (per 10 runs) is within 3 of the peer's;
* ``outside`` -- none of these, or the step-1 (EBA) outcome differs.

:func:`joint_vs_parts_table` is the peer's FF11c: each combination of channels against the sum of its
single channels, at price impact 0 and 5 %.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.validation.system_wide import experiments as X
from sim.validation.system_wide.statistics import joint_vs_parts, point_stats

KEYS = ["crediting", "table", "institutions", "buffer_mode", "channels", "lev_y", "rwa_y", "price_impact"]
STATS = ["N", "n_systemic", "aeoc_pct", "stde_pct", "mean_eoc_all_runs_pct", "mean_bank_defaults",
         "mean_hf_defaults", "mean_am_defaults", "eba_eose_pct", "mean_bank_asset_loss_eur_m"]
COMPARED = ["n_systemic", "aeoc_pct", "stde_pct", "mean_bank_defaults", "mean_hf_defaults", "mean_am_defaults"]
SYSTEMIC_RUNS_TOLERANCE = 3     # out of 10 runs
SE_MULTIPLE = 2.0
IDENTICAL_TOL = 1e-9


def point_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per point, its runs summarised as the peer does (runs in replication order)."""
    rows = []
    steps = [c for c in runs.columns if c.startswith("defaults_t")]
    for key, g in runs.groupby(KEYS, sort=False):
        g = g.sort_values("replication")
        st = point_stats(g[steps].to_numpy().tolist(), g["hf_defaults"].tolist(), g["am_defaults"].tolist(),
                         g["bank_asset_loss_eur_m"].tolist())
        rows.append({**dict(zip(KEYS, key)), "N": st.n, "n_systemic": st.n_systemic, "aeoc_pct": st.aeoc_pct,
                     "stde_pct": st.stde_pct, "mean_eoc_all_runs_pct": st.mean_eoc_all_runs_pct,
                     "mean_bank_defaults": st.mean_bank_defaults, "mean_hf_defaults": st.mean_hf_defaults,
                     "mean_am_defaults": st.mean_am_defaults, "eba_eose_pct": st.eba_eose_pct,
                     "mean_bank_asset_loss_eur_m": st.mean_bank_asset_loss_eur_m})
    return pd.DataFrame(rows, columns=KEYS + STATS)


def _target_row(targets: dict[str, pd.DataFrame], p) -> pd.Series | None:
    t = targets.get(p.table)
    if t is None:
        return None
    if p.table == "FF10":
        hit = t[(t["institutions"] == p.institutions) & (t["buffer_mode"] == p.buffer_mode)]
    else:
        hit = t[(t["channels"] == p.channels) & (t["lev_y"] == p.lev_y) & (t["rwa_y"] == p.rwa_y)
                & ((t["price_impact_x"] - p.price_impact).abs() < 1e-9)]
    return None if hit.empty else hit.iloc[0]


def verdict(p, ref) -> str:
    eba_ref = ref["eba_eose_pct"] if "eba_eose_pct" in ref else ref["eba_eose_pct_seed0"]
    if abs(p.eba_eose_pct - eba_ref) > IDENTICAL_TOL:
        return "outside"
    if p.N == ref["N"] and all(abs(getattr(p, c) - ref[c]) <= IDENTICAL_TOL for c in COMPARED):
        return "identical"
    if ref["stde_pct"] == 0 and p.N == ref["N"]:
        same = abs(p.aeoc_pct - ref["aeoc_pct"]) <= IDENTICAL_TOL and p.n_systemic == ref["n_systemic"]
        return "exact" if same else "outside"
    close = abs(p.aeoc_pct - ref["aeoc_pct"]) <= SE_MULTIPLE * math.hypot(p.stde_pct, ref["stde_pct"]) + IDENTICAL_TOL
    systemic = abs(p.n_systemic * ref["N"] / p.N - ref["n_systemic"]) <= SYSTEMIC_RUNS_TOLERANCE * ref["N"] / 10
    return "within" if close and systemic else "outside"


def compare(points: pd.DataFrame, targets: dict[str, dict[str, pd.DataFrame]]) -> pd.DataFrame:
    """``points`` with the peer's aeoc, stde and systemic runs beside ours and a verdict per point.

    ``targets`` maps a crediting ("head", "v08") to that library version's summaries.
    """
    out = points.copy()
    cols = {"target_N": [], "target_n_systemic": [], "target_aeoc_pct": [], "target_stde_pct": [], "verdict": []}
    for p in points.itertuples(index=False):
        ref = _target_row(targets.get(p.crediting, {}), p)
        if ref is None:
            for v in cols.values():
                v.append(np.nan)
            cols["verdict"][-1] = "no target"
            continue
        cols["target_N"].append(ref["N"])
        cols["target_n_systemic"].append(ref["n_systemic"])
        cols["target_aeoc_pct"].append(ref["aeoc_pct"])
        cols["target_stde_pct"].append(ref["stde_pct"])
        cols["verdict"].append(verdict(p, ref))
    for c, v in cols.items():
        out[c] = v
    return out


def joint_vs_parts_table(points: pd.DataFrame) -> pd.DataFrame:
    """FF11c in the peer's layout, per crediting and FF11 variant (fractions, not per cent)."""
    rows = []
    ff11 = points[points["table"] != "FF10"]
    for (crediting, table), g in ff11.groupby(["crediting", "table"], sort=False):
        def outcome(mode, pi):
            r = g[(g["channels"] == mode) & ((g["price_impact"] - pi).abs() < 1e-9)]
            if r.empty:
                return None
            r = r.iloc[0]
            return r["aeoc_pct"] / 100, r["stde_pct"] / 100, r["eba_eose_pct"] / 100
        lev_y, rwa_y = X.FF11_VARIANTS[table]
        for combination in X.JOINT_MODES:
            for pi in X.JOINT_PRICE_IMPACTS:
                joint = outcome(combination, pi)
                parts = [outcome(m, pi) for m in combination.split("&")]
                if joint is None or any(part is None for part in parts):
                    continue
                j = joint_vs_parts(joint, parts)
                rows.append({"crediting": crediting, "table": table, "lev_y": lev_y, "rwa_y": rwa_y,
                             "combination": combination, "price_impact_x": pi,
                             "joint_minus_eba": j.joint_minus_eba, "sum_parts_minus_eba": j.sum_parts_minus_eba,
                             "minus_raw": j.minus_raw, "minus_truncated_0_1": j.minus_truncated,
                             "over_raw": j.over_raw, "over_truncated_min1": j.over_truncated,
                             "minus_err": j.minus_err, "over_err": j.over_err})
    return pd.DataFrame(rows)


def compare_joint(joint: pd.DataFrame, targets: dict[str, dict[str, pd.DataFrame]]) -> pd.DataFrame:
    """``joint`` with the peer's joint-minus-parts beside ours."""
    out = joint.copy()
    ref_minus, ref_err = [], []
    for r in joint.itertuples(index=False):
        t = targets.get(r.crediting, {}).get(r.table)
        hit = None if t is None else t[(t["combination"] == r.combination)
                                       & ((t["price_impact_x"] - r.price_impact_x).abs() < 1e-9)]
        ok = hit is not None and not hit.empty
        ref_minus.append(hit.iloc[0]["minus_raw"] if ok else np.nan)
        ref_err.append(hit.iloc[0]["minus_err"] if ok else np.nan)
    out["target_minus_raw"], out["target_minus_err"] = ref_minus, ref_err
    return out
