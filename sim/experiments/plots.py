"""Figures of Monte Carlo runs, sweeps and sensitivity analyses (matplotlib, Agg backend)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.experiments.stats import CONVERGENCE_TOL, running_proportion, wilson_interval  # noqa: E402

FAN_SERIES = {"dry_powder_bn": "Dry-powder pool ($bn)", "ust10y_pct": "10y Treasury yield (%)",
              "ig_spread_bp": "IG spread (bp)", "price_crypto": "Crypto price index", "price_saas": "SaaS price index"}
LABELS = {"crisis": "crisis probability", "peak_ig_spread_bp": "peak IG spread (bp)",
          "fire_sale_volume_bn": "fire-sale volume ($bn)", "system_losses_bn": "system losses ($bn)",
          "peak_ust10y_pct": "peak 10y yield (%)", "dry_powder_min_bn": "dry powder low ($bn)"}
DPI = 90


def _label(name: str) -> str:
    return LABELS.get(name, name)


# =============================================================================================
# Monte Carlo
# =============================================================================================
def fan_charts(q: pd.DataFrame, path: Path, title: str) -> None:
    """Median with 50% and 90% bands of the key series (q: the per-step quantile table)."""
    series = [s for s in FAN_SERIES if s in set(q["series"])]
    if not series:
        return
    fig, axes = plt.subplots(1, len(series), figsize=(4.2 * len(series), 3.6), constrained_layout=True,
                             squeeze=False)
    for ax, s in zip(axes[0], series):
        g = q[q["series"] == s].sort_values("step")
        ax.fill_between(g["step"], g["q05"], g["q95"], color="#1f77b4", alpha=0.18, label="90% band")
        ax.fill_between(g["step"], g["q25"], g["q75"], color="#1f77b4", alpha=0.35, label="50% band")
        ax.plot(g["step"], g["q50"], color="#1f77b4", lw=1.8, label="median")
        ax.set_title(FAN_SERIES[s])
        ax.set_xlabel("week")
    axes[0][0].legend(fontsize=8, loc="best")
    fig.suptitle(title)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def histograms(values: dict[str, np.ndarray], path: Path, title: str) -> None:
    items = [(k, np.asarray(v, dtype=float)) for k, v in values.items() if v is not None]
    if not items:
        return
    fig, axes = plt.subplots(1, len(items), figsize=(4.2 * len(items), 3.4), constrained_layout=True, squeeze=False)
    for ax, (name, v) in zip(axes[0], items):
        v = v[np.isfinite(v)]
        if v.size:
            ax.hist(v, bins=min(40, max(5, int(np.sqrt(v.size)) + 1)), color="#7f7f7f", edgecolor="white")
            ax.axvline(np.median(v), color="#d62728", lw=1.2, label=f"median {np.median(v):.3g}")
            ax.legend(fontsize=8)
        ax.set_title(_label(name))
        ax.set_ylabel("replications")
    fig.suptitle(title)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


def convergence_figure(crisis_in_order: np.ndarray, path: Path, tol: float = CONVERGENCE_TOL) -> None:
    succ, comp = running_proportion(crisis_in_order)
    n = np.arange(1, len(succ) + 1)
    keep = comp > 0
    p = np.divide(succ, comp, out=np.full(len(succ), np.nan), where=keep)
    bounds = np.array([wilson_interval(s, c) if c > 0 else (np.nan, np.nan) for s, c in zip(succ, comp)])
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    if len(n):
        ax[0].fill_between(n, bounds[:, 0], bounds[:, 1], color="#ff7f0e", alpha=0.3, label="Wilson 95% CI")
        ax[0].plot(n, p, color="#ff7f0e", label="running crisis probability")
        ax[1].plot(n, (bounds[:, 1] - bounds[:, 0]) / 2, color="#1f77b4", label="CI half-width")
    ax[1].axhline(tol, color="grey", ls="--", label=f"tolerance {tol}")
    ax[0].set_ylim(-0.02, 1.02)
    for a in ax:
        a.set_xlabel("replications")
        a.legend(fontsize=8)
    ax[0].set_title("Crisis probability")
    ax[1].set_title("Convergence")
    fig.savefig(path, dpi=DPI)
    plt.close(fig)


# =============================================================================================
# Sweeps
# =============================================================================================
def _axis(df: pd.DataFrame, param: str, values: tuple | None, bins: int = 8):
    """Group labels along one parameter: grid values as they are, sampled values in equal bins."""
    if values is not None:
        order = list(values)
        pos = {json_key(v): i for i, v in enumerate(order)}
        idx = df[param].map(lambda v: pos.get(json_key(v), -1))
        labels = [_fmt(v) for v in order]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in order)
        centres = [float(v) for v in order] if numeric else list(range(len(order)))
        return idx.to_numpy(), labels, centres, numeric
    v = pd.to_numeric(df[param], errors="coerce").to_numpy(dtype=float)
    lo, hi = np.nanmin(v), np.nanmax(v)
    edges = np.linspace(lo, hi, bins + 1)
    idx = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, bins - 1)
    centres = list((edges[:-1] + edges[1:]) / 2)
    return idx, [_fmt(c) for c in centres], centres, True


def json_key(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _cell_values(ok: pd.DataFrame, metric: str) -> pd.Series:
    return pd.to_numeric(ok[metric].astype(float) if metric == "crisis" else ok[metric], errors="coerce")


def sweep_heatmaps(df: pd.DataFrame, x: str, y: str, metrics: list[str], axis_values: dict | None,
                   folder: Path, n_params: int) -> list[Path]:
    ok = df[df["status"] == "ok"]
    if ok.empty:
        return []
    xi, xl, _, _ = _axis(ok, x, axis_values.get(x) if axis_values else None)
    yi, yl, _, _ = _axis(ok, y, axis_values.get(y) if axis_values else None)
    paths = []
    for metric in metrics:
        if metric not in ok:
            continue
        vals = _cell_values(ok, metric).to_numpy(dtype=float)
        grid = np.full((len(yl), len(xl)), np.nan)
        frame = pd.DataFrame({"x": xi, "y": yi, "v": vals})
        for (i, j), g in frame.groupby(["y", "x"]):
            if i >= 0 and j >= 0:
                grid[i, j] = np.nanmean(g["v"]) if np.isfinite(g["v"]).any() else np.nan
        fig, ax = plt.subplots(figsize=(1.0 * len(xl) + 3.5, 0.7 * len(yl) + 2.5), constrained_layout=True)
        cmap = "Reds" if metric == "crisis" else "viridis"
        im = ax.imshow(grid, origin="lower", aspect="auto", cmap=cmap,
                       vmin=0 if metric == "crisis" else None, vmax=1 if metric == "crisis" else None)
        ax.set_xticks(range(len(xl)), xl, rotation=45 if len(xl) > 6 else 0)
        ax.set_yticks(range(len(yl)), yl)
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        if len(xl) * len(yl) <= 150:
            finite = grid[np.isfinite(grid)]
            mid = (finite.min() + finite.max()) / 2 if finite.size else 0
            for i in range(len(yl)):
                for j in range(len(xl)):
                    if np.isfinite(grid[i, j]):
                        text = f"{grid[i, j]:.2f}" if metric == "crisis" else f"{grid[i, j]:.4g}"
                        ax.text(j, i, text, ha="center", va="center", fontsize=7,
                                color="white" if grid[i, j] > mid else "black")
        fig.colorbar(im, ax=ax, label=("mean " if metric != "crisis" else "") + _label(metric))
        extra = " (averaged over the other parameters)" if n_params > 2 else ""
        ax.set_title(f"{_label(metric)}{extra}", fontsize=10)
        path = folder / f"heatmap_{metric.replace('.', '_')}.png"
        fig.savefig(path, dpi=DPI)
        plt.close(fig)
        paths.append(path)
    return paths


def sweep_lines(df: pd.DataFrame, param: str, metrics: list[str], axis_values: dict | None, folder: Path) -> Path | None:
    ok = df[df["status"] == "ok"]
    metrics = [m for m in metrics if m in ok]
    if ok.empty or not metrics:
        return None
    idx, labels, centres, numeric = _axis(ok, param, axis_values.get(param) if axis_values else None)
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 3.6), constrained_layout=True,
                             squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        vals = _cell_values(ok, metric).to_numpy(dtype=float)
        xs, med, q25, q75, q05, q95 = [], [], [], [], [], []
        for k in range(len(labels)):
            v = vals[idx == k]
            v = v[np.isfinite(v)]
            if not v.size:
                continue
            xs.append(centres[k])
            if metric == "crisis":
                lo, hi = wilson_interval(float(v.sum()), v.size)
                med.append(v.mean())
                q25.append(lo)
                q75.append(hi)
            else:
                a = np.quantile(v, [0.05, 0.25, 0.5, 0.75, 0.95])
                q05.append(a[0])
                q25.append(a[1])
                med.append(a[2])
                q75.append(a[3])
                q95.append(a[4])
        if metric == "crisis":
            ax.fill_between(xs, q25, q75, color="#d62728", alpha=0.25, label="Wilson 95% CI")
            ax.plot(xs, med, "o-", color="#d62728", label="probability")
            ax.set_ylim(-0.02, 1.02)
        else:
            if q05:
                ax.fill_between(xs, q05, q95, color="#1f77b4", alpha=0.15, label="5-95%")
            ax.fill_between(xs, q25, q75, color="#1f77b4", alpha=0.35, label="25-75%")
            ax.plot(xs, med, "o-", color="#1f77b4", label="median")
        if not numeric:
            ax.set_xticks(centres, labels)
        ax.set_xlabel(param)
        ax.set_title(_label(metric), fontsize=10)
        ax.legend(fontsize=7)
    path = folder / f"lines_{param.replace('.', '_')}.png"
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


# =============================================================================================
# Sensitivity
# =============================================================================================
def sensitivity_bars(indices: pd.DataFrame, method: str, path: Path, confidence: float) -> None:
    outputs = list(dict.fromkeys(indices["output"]))
    if not outputs:
        return
    fig, axes = plt.subplots(1, len(outputs), figsize=(5.0 * len(outputs), 4.2), constrained_layout=True,
                             squeeze=False)
    for ax, output in zip(axes[0], outputs):
        g = indices[indices["output"] == output]
        names = list(g["parameter"])
        pos = np.arange(len(names))
        if method == "sobol":
            ax.bar(pos - 0.2, g["S1"], 0.4, yerr=g["S1_conf"], capsize=3, label="first order S1", color="#1f77b4")
            ax.bar(pos + 0.2, g["ST"], 0.4, yerr=g["ST_conf"], capsize=3, label="total ST", color="#ff7f0e")
            ax.set_ylabel(f"Sobol index ({confidence:.0%} CI)")
        else:
            ax.bar(pos - 0.2, g["mu_star"], 0.4, yerr=g["mu_star_conf"], capsize=3, label="mu*", color="#1f77b4")
            ax.bar(pos + 0.2, g["sigma"], 0.4, label="sigma", color="#ff7f0e")
            ax.set_ylabel(f"Morris elementary effects ({confidence:.0%} CI on mu*)")
        ax.set_xticks(pos, names, rotation=35, ha="right", fontsize=8)
        ax.set_title(_label(output))
        ax.axhline(0, color="black", lw=0.6)
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
