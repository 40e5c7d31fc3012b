"""The two figures of the reproduction: institution sets (FF10) and channels over price impact (FF11).

Ours as bars or lines with +-1 standard error, the peer's points as open markers, for one library
version (crediting convention) at a time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.validation.system_wide import experiments as X

MARKER = dict(marker="o", mfc="none", color="k", linestyle="none")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def institutions_figure(points: pd.DataFrame, path: str, crediting: str) -> None:
    """FF10: share of banks defaulting in systemic runs, per institution set and buffer mode."""
    plt = _plt()
    ff10 = points[(points["table"] == "FF10") & (points["crediting"] == crediting)]
    fig, ax = plt.subplots(figsize=(9, 4.6))
    modes, sets = list(X.BUFFER_MODES), list(X.INSTITUTIONS)
    width = 0.8 / len(sets)
    x = np.arange(len(modes))
    for i, inst in enumerate(sets):
        sub = ff10[ff10["institutions"] == inst].set_index("buffer_mode").reindex(modes)
        pos = x + (i - (len(sets) - 1) / 2) * width
        ax.bar(pos, sub["aeoc_pct"], width * 0.95, yerr=sub["stde_pct"], capsize=3, label=inst, color=f"C{i}")
        if "target_aeoc_pct" in sub:
            ax.plot(pos, sub["target_aeoc_pct"], **MARKER, label="peer" if i == 0 else None)
    n = int(ff10["N"].max()) if len(ff10) else 0
    ax.set(xticks=x, xticklabels=[f"Disorderly liquidation\n({m})" for m in modes], ylim=(0, 105),
           ylabel="bank defaults in systemic runs (%)",
           title=f"FF10: institution types ({crediting} crediting, price impact 5 %, {n} runs a point)")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=120)
    plt.close(fig)


def channels_figure(points: pd.DataFrame, joint: pd.DataFrame, path: str, crediting: str) -> None:
    """FF11: aeoc over price impact per channel mode (top), joint minus parts at 0 and 5 % (bottom)."""
    plt = _plt()
    variants = list(X.FF11_VARIANTS)
    fig, axes = plt.subplots(2, len(variants), figsize=(12, 8.5), squeeze=False)
    for col, table in enumerate(variants):
        ax = axes[0, col]
        sub = points[(points["table"] == table) & (points["crediting"] == crediting)]
        for i, mode in enumerate(X.CHANNEL_MODES):
            m = sub[sub["channels"] == mode].sort_values("price_impact")
            x = m["price_impact"] * 100
            ax.plot(x, m["aeoc_pct"], "-", color=f"C{i}", label=mode)
            ax.fill_between(x, m["aeoc_pct"] - m["stde_pct"], m["aeoc_pct"] + m["stde_pct"], color=f"C{i}", alpha=0.2)
            if "target_aeoc_pct" in m:
                ax.plot(x, m["target_aeoc_pct"], marker="o", mfc="none", color=f"C{i}", linestyle="none", ms=4)
        lev_y, rwa_y = X.FF11_VARIANTS[table]
        ax.set(xlabel="price impact (%)", ylabel="bank defaults in systemic runs (%)", ylim=(-2, 105),
               title=f"{table}: lev_y {lev_y:g}, rwa_y {rwa_y:g} (lines ours, circles peer)")
        if col == 0:
            ax.legend(fontsize=8, ncol=3, loc="center right")
        _joint_panel(axes[1, col], joint, table, crediting)
    fig.suptitle(f"FF11: contagion channels ({crediting} crediting)")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=120)
    plt.close(fig)


def _joint_panel(ax, joint: pd.DataFrame, table: str, crediting: str) -> None:
    j = joint[(joint["table"] == table) & (joint["crediting"] == crediting)] if len(joint) else joint
    combos = list(X.JOINT_MODES)
    width = 0.8 / len(combos)
    x = np.arange(len(X.JOINT_PRICE_IMPACTS))
    for i, combo in enumerate(combos):
        sub = j[j["combination"] == combo].set_index("price_impact_x").reindex(list(X.JOINT_PRICE_IMPACTS))
        pos = x + (i - (len(combos) - 1) / 2) * width
        ax.bar(pos, sub["minus_raw"], width * 0.95, yerr=sub["minus_err"], capsize=3, color=f"C{4 + i}", label=combo)
        if "target_minus_raw" in sub:
            ax.plot(pos, sub["target_minus_raw"], **MARKER, label="peer" if i == 0 else None)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(xticks=x, xticklabels=[f"price impact {pi * 100:g} %" for pi in X.JOINT_PRICE_IMPACTS],
           ylabel="joint minus sum of parts (share of banks)",
           title="channels together vs alone (> 0: super-additive)")
    ax.legend(fontsize=8)
