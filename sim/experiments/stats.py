"""Statistics of many runs: Wilson intervals, quantiles, expected shortfall, convergence, per-step
quantiles of Monte Carlo series, the Monte Carlo report, per-point sweep tables and the SALib
sensitivity analysis.

Conventions (docs/experiments.md, "Statistics"): quantiles are numpy's default (linear
interpolation between order statistics); failed runs are left out of every statistic and counted
separately; a 95% interval uses z = 1.959964.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from sim.config import ASSETS
from sim.experiments.store import unified_schema
from sim.experiments.tasks import STATUS_OK
from sim.jsonio import plain

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
Z95 = 1.959963984540054
TAIL_ALPHA = 0.05
CONVERGENCE_TOL = 0.05
AGENT_KINDS = ("hyperscaler", "neocloud", "private_credit", "sovereign", "hedge_fund", "ai_lab", "retail")


# =============================================================================================
# Building blocks
# =============================================================================================
def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (0 <= lo <= p <= hi <= 1); (0, 1) if n = 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0))
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return lo, hi


def wilson_half_width(p: float, n: float, z: float = Z95) -> float:
    lo, hi = wilson_interval(p * n, n, z)
    return (hi - lo) / 2


def recommended_n(p: float, tol: float = CONVERGENCE_TOL, z: float = Z95) -> int:
    """Smallest n whose Wilson 95% half-width at proportion ``p`` is below ``tol``."""
    lo, hi = 1, 2
    while wilson_half_width(p, hi, z) >= tol:
        hi *= 2
        if hi > 10**9:
            return hi
    while lo < hi:
        mid = (lo + hi) // 2
        if wilson_half_width(p, mid, z) < tol:
            hi = mid
        else:
            lo = mid + 1
    return lo


def quantile_dict(values: np.ndarray, qs=QUANTILES) -> dict[str, float | None]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {f"q{int(round(q * 100)):02d}": None for q in qs}
    return {f"q{int(round(q * 100)):02d}": float(x) for q, x in zip(qs, np.quantile(v, qs))}


def describe(values: np.ndarray) -> dict[str, Any]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "mean": None, "std": None, "min": None, **quantile_dict(v), "max": None}
    return {"n": int(v.size), "mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0,
            "min": float(v.min()), **quantile_dict(v), "max": float(v.max())}


def expected_shortfall(values: np.ndarray, alpha: float = TAIL_ALPHA) -> dict[str, Any]:
    """Mean of the worst ``alpha`` share of outcomes, worst = largest (losses, volumes).

    The tail holds the k = ceil(alpha * n) largest values (at least one); ``var`` is the
    (1 - alpha) empirical quantile."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"alpha": alpha, "expected_shortfall": None, "var": None, "tail_count": 0, "mean": None}
    k = max(1, int(math.ceil(alpha * v.size - 1e-9)))
    tail = np.sort(v)[-k:]
    return {"alpha": alpha, "expected_shortfall": float(tail.mean()), "var": float(np.quantile(v, 1 - alpha)),
            "tail_count": int(k), "mean": float(v.mean())}


def running_proportion(x: np.ndarray):
    """Running successes and completed counts over runs in order (NaN = failed run)."""
    x = np.asarray(x, dtype=float)
    ok = np.isfinite(x)
    return np.cumsum(np.where(ok, x, 0.0)), np.cumsum(ok)


def convergence(crisis_in_order: np.ndarray, tol: float = CONVERGENCE_TOL) -> dict[str, Any]:
    """Crisis probability and its Wilson half-width after N/4, N/2 and N replications (in
    replication order). Verdict 'converged' when the final half-width is below ``tol``."""
    x = np.asarray(crisis_in_order, dtype=float)
    n = x.size
    succ, comp = running_proportion(x)
    checkpoints = []
    for k in sorted({max(1, math.ceil(n / 4)), max(1, math.ceil(n / 2)), n}):
        if k < 1 or n == 0:
            continue
        s, c = float(succ[k - 1]), int(comp[k - 1])
        lo, hi = wilson_interval(s, c)
        checkpoints.append({"replications": int(k), "completed": c, "probability": s / c if c else None,
                            "ci95": [lo, hi], "half_width": (hi - lo) / 2})
    final = checkpoints[-1] if checkpoints else None
    converged = bool(final and final["completed"] > 0 and final["half_width"] < tol)
    p = final["probability"] if final and final["probability"] is not None else 0.5
    completion = (final["completed"] / n) if final and n else 1.0
    need = recommended_n(p, tol)
    need_total = int(math.ceil(need / completion)) if completion > 0 else None
    return {"tolerance": tol, "checkpoints": checkpoints, "verdict": "converged" if converged else "not converged",
            "recommended_n": None if converged else need_total,
            "n_for_tolerance": need_total,
            "rule": f"converged if the Wilson 95% half-width of the crisis probability at N is below {tol}; "
                    f"otherwise recommended_n is the N whose half-width would be below {tol} at the observed "
                    f"probability (scaled up for the failure rate)"}


# =============================================================================================
# Per-step quantiles of Monte Carlo series
# =============================================================================================
def _step_record(series: str, step: Any, values: pd.Series) -> dict[str, Any]:
    """One row of a per-step quantile table: count, mean and quantiles of the finite values."""
    v = values.to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    rec = {"series": series, "step": int(step), "n": int(v.size), "mean": float(v.mean()) if v.size else np.nan}
    qs = np.quantile(v, QUANTILES) if v.size else [np.nan] * len(QUANTILES)
    rec.update({f"q{int(round(q * 100)):02d}": float(x) for q, x in zip(QUANTILES, qs)})
    return rec


def series_quantiles(paths: list[Path], n_runs: int, columns: list[str] | None = None,
                     budget_bytes: int = 64 * 2**20):
    """Per-step quantiles (5, 25, 50, 75, 95), mean and count of each series, streamed step-block by
    step-block from the series part files (memory ~ budget, whatever the number of runs)."""
    schema = unified_schema(paths)
    dataset = ds.dataset([str(p) for p in paths], schema=schema, format="parquet")
    cols = [c for c in (columns or [c for c in schema.names if c not in ("replication", "step")])
            if c in schema.names]
    steps = dataset.to_table(columns=["step"]).column("step")
    s_min, s_max = int(pc.min(steps).as_py()), int(pc.max(steps).as_py())
    del steps
    per_step = max(1, budget_bytes // max(1, 8 * (len(cols) + 2) * max(n_runs, 1)))
    out = []
    for lo in range(s_min, s_max + 1, per_step):
        hi = lo + per_step
        t = dataset.to_table(columns=["replication", "step", *cols],
                             filter=(ds.field("step") >= lo) & (ds.field("step") < hi))
        df = t.to_pandas().sort_values(["step", "replication"], kind="stable")
        for step, g in df.groupby("step", sort=True):
            out.extend(_step_record(c, step, g[c]) for c in cols)
    res = pd.DataFrame(out)
    if len(res):
        res["series"] = pd.Categorical(res["series"], categories=cols, ordered=True)
        res = res.sort_values(["series", "step"]).reset_index(drop=True)
        res["series"] = res["series"].astype(str)
    return res


def quantiles_from_frame(df, columns: list[str]):
    """The same quantile table from an in-memory long frame (replication, step, series...)."""
    out = []
    df = df.sort_values(["step", "replication"], kind="stable")
    for c in columns:
        if c not in df.columns:
            continue
        for step, g in df.groupby("step", sort=True):
            out.append(_step_record(c, step, g[c]))
    return pd.DataFrame(out)


# =============================================================================================
# Monte Carlo report
# =============================================================================================
def _column(path: Path, name: str, names: list[str]) -> np.ndarray | None:
    if name not in names:
        return None
    col = pq.read_table(path, columns=[name]).column(0)
    return col.to_numpy(zero_copy_only=False)


def _as_float(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    return np.array([np.nan if v is None else float(v) for v in a], dtype=float) if a.dtype == object \
        else a.astype(float)


def mc_report(runs_path: Path, *, n: int) -> dict[str, Any]:
    """report.json of a Monte Carlo run, read column by column from runs.parquet."""
    names = pq.read_schema(runs_path).names
    status = _column(runs_path, "status", names)
    ok = status == STATUS_OK
    n_ok = int(ok.sum())

    def metric(name):
        a = _as_float(_column(runs_path, name, names))
        return None if a is None else a[ok]

    crisis_all = _as_float(_column(runs_path, "crisis", names))
    crisis_ordered = np.where(ok, crisis_all, np.nan) if crisis_all is not None else np.full(len(ok), np.nan)
    crisis = crisis_ordered[ok]
    k = float(np.nansum(crisis))
    lo, hi = wilson_interval(k, n_ok)
    report: dict[str, Any] = {
        "n": int(n), "completed": n_ok, "failed": int(len(ok) - n_ok), "missing": int(n - len(ok)),
        "crisis": {"probability": k / n_ok if n_ok else None, "count": int(k), "n": n_ok, "ci95": [lo, hi],
                   "ci_method": "Wilson score interval, z = 1.959964"},
    }
    reasons = _column(runs_path, "crisis_reasons", names)
    if reasons is not None:
        counts: dict[str, int] = {}
        for r in reasons[ok]:
            for part in (r or "").split(","):
                if part:
                    counts[part] = counts.get(part, 0) + 1
        report["crisis_reasons"] = {r: {"share": c / n_ok, "count": c} for r, c in sorted(counts.items())}
    report["max_drawdown"] = {a: describe(metric(f"max_drawdown.{a}")) for a in ASSETS
                              if f"max_drawdown.{a}" in names}
    defaults = {}
    for kind in AGENT_KINDS:
        v = metric(f"defaults.{kind}")
        if v is not None:
            defaults[kind] = {"share_with_any": float(np.mean(v > 0)) if v.size else None, **describe(v)}
    report["defaults"] = defaults
    for name in ("peak_ig_spread_bp", "peak_ust10y_pct", "dry_powder_min_bn", "fire_sale_volume_bn",
                 "system_losses_bn", "credit_losses_bn", "max_cascade_rounds", "cb_balance_sheet_change_bn"):
        v = metric(name)
        if v is not None:
            report[name] = describe(v)
    ex = metric("dry_powder_exhausted_step")
    if ex is not None:
        hit = np.isfinite(ex)
        lo_e, hi_e = wilson_interval(float(hit.sum()), n_ok)
        report["dry_powder_exhaustion"] = {
            "share_exhausted": float(hit.mean()) if n_ok else None, "count": int(hit.sum()), "ci95": [lo_e, hi_e],
            "step_among_exhausted": describe(ex[hit]) if hit.any() else None}
    report["tail"] = {name: expected_shortfall(metric(name)) for name in ("system_losses_bn", "fire_sale_volume_bn")
                      if name in names}
    report["convergence"] = convergence(crisis_ordered)
    return plain(report)


# =============================================================================================
# Sweeps: one row per point
# =============================================================================================
def point_table(df: pd.DataFrame, params: list[str], metrics: list[str]) -> pd.DataFrame:
    """Per-point outcomes: runs, failed, crisis probability with Wilson CI, mean/quantiles of metrics."""
    rows = []
    for point, g in df.groupby("point", sort=True):
        ok = g[g["status"] == STATUS_OK]
        rec: dict[str, Any] = {"point": int(point)}
        for p in params:
            rec[p] = g[p].iloc[0]
        rec.update(runs=int(len(g)), failed=int(len(g) - len(ok)))
        if "crisis" in ok:
            c = ok["crisis"].astype(float)
            lo, hi = wilson_interval(float(c.sum()), len(c))
            rec.update(crisis_probability=float(c.mean()) if len(c) else np.nan, crisis_ci_low=lo, crisis_ci_high=hi)
        for m in metrics:
            if m == "crisis" or m not in ok:
                continue
            v = pd.to_numeric(ok[m], errors="coerce").to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            rec[f"{m}.mean"] = float(v.mean()) if v.size else np.nan
            for q in (0.05, 0.5, 0.95):
                rec[f"{m}.q{int(q * 100):02d}"] = float(np.quantile(v, q)) if v.size else np.nan
        rows.append(rec)
    return pd.DataFrame(rows)


# =============================================================================================
# Sensitivity (SALib)
# =============================================================================================
def sensitivity_indices(spec, x: np.ndarray, df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Sobol (first-order and total, with CIs) or Morris indices of every output in ``spec``."""
    problem = spec.problem()
    n_points = x.shape[0]
    ok = df[df["status"] == STATUS_OK]
    rows: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    seed = spec.seed % 2**32
    for output in spec.outputs:
        entry: dict[str, Any] = {}
        if output not in ok.columns:
            y = np.full(n_points, np.nan)
        else:
            vals = pd.to_numeric(ok[output].astype(float), errors="coerce")
            y = vals.groupby(ok["point"]).mean().reindex(range(n_points)).to_numpy(dtype=float)
        missing = int((~np.isfinite(y)).sum())
        entry["points_without_result"] = missing
        note = None
        if missing:
            note = f"{missing} of {n_points} sample points have no successful run: indices cannot be computed"
        elif np.nanvar(y) == 0:
            note = "the output is constant over the sample: every index is zero/undefined"
        res: dict[str, np.ndarray] = {}
        if note is None:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if spec.method == "sobol":
                    from SALib.analyze import sobol   # here: SALib imports scipy.stats, 0.4 s an mc never needs
                    si = sobol.analyze(problem, y, calc_second_order=spec.second_order, num_resamples=spec.resamples,
                                       conf_level=spec.confidence, seed=seed)
                    res = {k: np.asarray(si[k]) for k in ("S1", "S1_conf", "ST", "ST_conf")}
                    if spec.second_order:
                        entry["S2"] = np.asarray(si["S2"]).tolist()
                        entry["S2_conf"] = np.asarray(si["S2_conf"]).tolist()
                else:
                    from SALib.analyze import morris  # (likewise)
                    si = morris.analyze(problem, x, y, num_resamples=spec.resamples, conf_level=spec.confidence,
                                        num_levels=spec.num_levels, seed=seed)
                    res = {k: np.asarray(si[k], dtype=float) for k in ("mu", "mu_star", "mu_star_conf", "sigma")}
        keys = ("S1", "S1_conf", "ST", "ST_conf") if spec.method == "sobol" else ("mu", "mu_star", "mu_star_conf", "sigma")
        params: dict[str, Any] = {}
        for i, name in enumerate(problem["names"]):
            rec = {k: (float(res[k][i]) if k in res else np.nan) for k in keys}
            params[name] = rec
            rows.append({"output": output, "method": spec.method, "parameter": name, **rec})
        entry["output_mean"] = float(np.nanmean(y)) if np.isfinite(y).any() else None
        entry["output_std"] = float(np.nanstd(y)) if np.isfinite(y).any() else None
        entry["indices"] = params
        if note:
            entry["note"] = note
        out[output] = entry
    return pd.DataFrame(rows), plain(out)
