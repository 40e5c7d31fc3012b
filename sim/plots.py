"""Figures for a single run: the dashboard a person looks at first."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.domain import ASSETS, Constraint  # noqa: E402

#: Colours of the forced sales' constraints (keys compare equal to the names in ``events.parquet``).
CONSTRAINT_COLOURS = {Constraint.MARGIN_CALL: "#d62728", Constraint.COVENANT_BREACH: "#9467bd",
                      Constraint.REDEMPTION: "#ff7f0e", Constraint.COMMITMENT: "#8c564b",
                      Constraint.DEFAULT: "#000000"}


def dashboard(df: pd.DataFrame, events: pd.DataFrame, summary: dict, path: Path) -> None:
    weeks = df["step"]
    fig, ax = plt.subplots(2, 3, figsize=(15, 8.5), constrained_layout=True)
    fig.suptitle(f"drypowder — {summary.get('scenario', '')} (seed {summary.get('seed')}); "
                 f"crisis: {'yes (' + ', '.join(summary.get('crisis_reasons', [])) + ')' if summary.get('crisis') else 'no'}",
                 fontsize=13)

    a = ax[0, 0]
    a.fill_between(weeks, df["dry_powder_bn"], color="#2ca02c", alpha=0.3)
    a.plot(weeks, df["dry_powder_bn"], color="#2ca02c")
    a.set_title("Dry-powder pool ($bn)")
    b = a.twinx()
    b.bar(weeks, df["funding_shortfall_bn"], color="#d62728", alpha=0.6, width=1.0)
    b.set_ylabel("private raises not funded ($bn/wk)", color="#d62728")

    a = ax[0, 1]
    a.plot(weeks, df["ust10y_pct"], label="10y Treasury (%)", color="#1f77b4")
    a.set_ylabel("%")
    b = a.twinx()
    b.plot(weeks, df["ig_spread_bp"], label="IG spread (bp)", color="#ff7f0e")
    b.set_ylabel("bp", color="#ff7f0e")
    a.set_title("Cost of capital: 10y yield and IG spread")

    a = ax[0, 2]
    for asset in ASSETS:
        a.plot(weeks, df[f"price_{asset}"], label=asset, lw=1.4)
    a.set_yscale("log")
    a.set_title("Asset price indices (t=0 = 1, log scale)")
    a.legend(fontsize=7, ncol=2)

    a = ax[1, 0]
    a.plot(weeks, df["capex_planned_bn"] * 52, label="planned (guidance path)", color="grey", ls="--")
    a.plot(weeks, df["capex_realized_bn"] * 52, label="realised", color="#1f77b4")
    a.set_title("Hyperscaler capex run-rate ($bn/yr)")
    a.legend(fontsize=8)

    a = ax[1, 1]
    if len(events):
        sales = events[events["constraint"].isin([c.value for c in CONSTRAINT_COLOURS]) & (events["value_bn"] > 0)]
        pivot = sales.pivot_table(index="step", columns="constraint", values="value_bn", aggfunc="sum").reindex(
            weeks, fill_value=0.0).fillna(0.0)
        bottom = None
        for c in pivot.columns:
            a.bar(pivot.index, pivot[c], bottom=bottom, color=CONSTRAINT_COLOURS.get(c), width=1.0,
                  label=c + ("" if Constraint(c).forced else " (scheduled)"))
            bottom = pivot[c] if bottom is None else bottom + pivot[c]
    a.set_title("Sales holders had to make ($bn/wk): forced and scheduled")
    b = a.twinx()
    b.step(weeks, df["defaults_total"], color="black", where="post", label="defaults (cum.)")
    b.set_ylabel("defaults (cumulative)")
    if a.get_legend_handles_labels()[0]:
        a.legend(fontsize=8, loc="upper left")

    a = ax[1, 2]
    a.bar(weeks, df["cascade_rounds"], color="#7f7f7f", width=1.0)
    a.set_title("Cascade rounds per week; impossible trinity")
    tri = summary.get("trinity", {})
    txt = "\n".join(f"{k.replace('_', ' ')}: {v:.2f}" for k, v in tri.items())
    a.text(0.02, 0.97, txt, transform=a.transAxes, va="top", fontsize=10,
           bbox=dict(boxstyle="round", fc="white", alpha=0.8))
    for row in ax:
        for a in row:
            a.set_xlabel("week")
    fig.savefig(path, dpi=90)
    plt.close(fig)
