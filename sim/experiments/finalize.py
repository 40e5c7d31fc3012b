"""The end of a campaign: part files consolidated into tables, the report and the figures.

Each ``finalize_*`` returns ``{"failed": ..., "headline": ...}`` for the command's last line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from sim import jsonio
from sim.atomic import atomic_write_text
from sim.experiments.campaign import cmdline
from sim.experiments.stats import QUANTILES, mc_report, point_table, quantiles_from_frame, sensitivity_indices, \
    series_quantiles, wilson_interval
from sim.experiments.store import PartStore, consolidate, consolidate_series_full, write_frame
from sim.experiments.tasks import KEY_SERIES, leading_columns

RESULTS = {"mc": "runs.parquet", "sweep": "results.parquet", "sensitivity": "results.parquet"}


def _plots():
    """The figures module, imported when figures are drawn: matplotlib adds about 0.5 s to a
    command, which ``--no-figures`` should not pay (the command line imports it early when it
    can do so while the workers start)."""
    from sim.experiments import plots
    return plots


def finalize_mc(folder: Path, outcome, *, n, root, cfg, series, args, rerun) -> dict[str, Any]:
    store = PartStore(folder, key="replication", total=n, with_series=True)
    runs = folder / RESULTS["mc"]
    consolidate(store.parts(), runs, "replication", n, leading_columns("mc", []))
    sparts = store.series_parts()
    qtable = None
    if sparts:
        if series == "all":
            consolidate_series_full(sparts, folder / "series.parquet")
            full = pd.read_parquet(folder / "series.parquet")
            qtable = quantiles_from_frame(full, [c for c in KEY_SERIES if c in full.columns])
            series_info = {"file": "series.parquet", "kind": "all replications",
                           "layout": "one row per (replication, step); columns as model.parquet of `drypowder run`; "
                                     "join runs.parquet on replication"}
        else:
            qtable = series_quantiles(sparts, n, list(KEY_SERIES))
            write_frame(qtable, folder / "series.parquet")
            series_info = {"file": "series.parquet", "kind": "quantiles",
                           "quantiles": list(QUANTILES), "series": list(KEY_SERIES),
                           "layout": "one row per (series, step): n, mean, q05, q25, q50, q75, q95 across replications"}
    else:
        series_info = {"file": None, "kind": "none (no successful replication)"}
    report = {"command": cmdline(rerun), "scenario": cfg.name, "config_hash": cfg.digest(), "root_seed": root,
              "series": series_info}
    report.update(mc_report(runs, n=n))
    atomic_write_text(folder / "report.json", jsonio.dumps(report))
    if not args.no_figures:
        ep = _plots()
        figs = folder / "figures"
        figs.mkdir(exist_ok=True)
        if qtable is not None and len(qtable):
            ep.fan_charts(qtable, figs / "fan_charts.png", f"{cfg.name}: {n} replications (median, 50% and 90% bands)")
        names = pq.read_schema(runs).names
        cols = [c for c in ("peak_ig_spread_bp", "system_losses_bn", "fire_sale_volume_bn") if c in names]
        t = pd.read_parquet(runs, columns=["status", *cols, *(["crisis"] if "crisis" in names else [])])
        ok = t["status"] == "ok"
        ep.histograms({c: t.loc[ok, c].to_numpy(dtype=float) for c in cols}, figs / "histograms.png",
                      f"{cfg.name}: outcomes over {int(ok.sum())} replications")
        crisis = np.where(ok, pd.to_numeric(t.get("crisis", pd.Series(np.nan, index=t.index)).astype(float)),
                          np.nan)
        ep.convergence_figure(crisis, figs / "convergence.png")
    c = report["crisis"]
    head = (f"crisis probability {c['probability']:.3f} [95% CI {c['ci95'][0]:.3f}, {c['ci95'][1]:.3f}]; "
            f"convergence: {report['convergence']['verdict']}") if c["probability"] is not None else ""
    if report["convergence"].get("recommended_n"):
        head += f" (recommended N ~ {report['convergence']['recommended_n']})"
    return {"failed": report["failed"], "headline": head}


def finalize_sweep(folder: Path, prep, *, total: int, args) -> dict[str, Any]:
    spec = prep.spec
    params = prep.parameters
    store = PartStore(folder, key="run", total=total)
    res = folder / RESULTS["sweep"]
    consolidate(store.parts(), res, "run", total, leading_columns("sweep", params))
    metrics = [m for m in spec.plot.metrics]
    names = set(pq.read_schema(res).names)
    cols = ["point", *params, "replication", "status", *[m for m in dict.fromkeys(["crisis", *metrics]) if m in names]]
    df = pd.read_parquet(res, columns=cols)
    pts = point_table(df, params, metrics)
    write_frame(pts, folder / "points.parquet")
    ok = df["status"] == "ok"
    crisis = df.loc[ok, "crisis"].astype(float) if "crisis" in df else pd.Series(dtype=float)
    lo, hi = wilson_interval(float(crisis.sum()), len(crisis))
    x = spec.plot.x or params[0]
    y = spec.plot.y or next((p for p in params if p != x), None)
    report = {
        "command": cmdline(["drypowder", "sweep", str(args.spec)]), "spec": spec.model_dump(mode="json"),
        "parameters": params, "points": prep.n_points, "replications": prep.replications, "runs": total,
        "completed": int(ok.sum()), "failed": int((~ok).sum()) + (total - len(df)),
        "crisis": {"probability": float(crisis.mean()) if len(crisis) else None, "ci95": [lo, hi],
                   "ci_method": "Wilson score interval over all completed runs (pooled over points)"},
        "crisis_probability_by_point": {
            "min": float(pts["crisis_probability"].min()) if "crisis_probability" in pts else None,
            "max": float(pts["crisis_probability"].max()) if "crisis_probability" in pts else None},
        "plot": {"x": x, "y": y, "metrics": metrics},
        "files": {"results": "results.parquet (one row per run)",
                  "points": "points.parquet (one row per point: crisis probability with Wilson CI, "
                            "mean and 5/50/95% quantiles of each plotted metric)"},
    }
    atomic_write_text(folder / "report.json", jsonio.dumps(report))
    if not args.no_figures:
        ep = _plots()
        figs = folder / "figures"
        figs.mkdir(exist_ok=True)
        axis_values = spec.axis_values()
        if y is not None:
            ep.sweep_heatmaps(df, x, y, metrics, axis_values, figs, len(params))
        for p in params:
            ep.sweep_lines(df, p, metrics, axis_values, figs)
    head = ""
    if report["crisis"]["probability"] is not None:
        b = report["crisis_probability_by_point"]
        head = f"crisis probability by point {b['min']:.2f}-{b['max']:.2f}"
    return {"failed": report["failed"], "headline": head}


def finalize_sensitivity(folder: Path, prep, x, *, total: int, args) -> dict[str, Any]:
    spec = prep.spec
    store = PartStore(folder, key="run", total=total)
    res = folder / RESULTS["sensitivity"]
    consolidate(store.parts(), res, "run", total, leading_columns("sensitivity", prep.parameters))
    names = set(pq.read_schema(res).names)
    df = pd.read_parquet(res, columns=["point", "status", *[o for o in spec.outputs if o in names]])
    table, per_output = sensitivity_indices(spec, x, df)
    table.to_csv(folder / "indices.csv", index=False)
    failed = int((df["status"] != "ok").sum()) + (total - len(df))
    doc = {"method": spec.method, "n": spec.n, "points": int(x.shape[0]), "replications": prep.replications,
           "runs": total, "failed": failed, "confidence": spec.confidence, "resamples": spec.resamples,
           "problem": spec.problem(), "second_order": spec.second_order if spec.method == "sobol" else None,
           "num_levels": spec.num_levels if spec.method == "morris" else None, "outputs": per_output}
    atomic_write_text(folder / "indices.json", jsonio.dumps(doc))
    if not args.no_figures:
        ep = _plots()
        figs = folder / "figures"
        figs.mkdir(exist_ok=True)
        ep.sensitivity_bars(table, spec.method, figs / "indices.png", spec.confidence)
    key = "ST" if spec.method == "sobol" else "mu_star"
    heads = []
    for out in spec.outputs:
        g = table[(table["output"] == out)].dropna(subset=[key])
        if len(g):
            top = g.sort_values(key, ascending=False).iloc[0]
            heads.append(f"{out}: {top['parameter']} ({key} {top[key]:.2f})")
    return {"failed": failed, "headline": "top driver " + "; ".join(heads) if heads else ""}
