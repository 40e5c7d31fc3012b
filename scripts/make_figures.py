"""Make the figures of README.md and MODEL.md from real runs (docs/img/*.png).

    .venv/bin/python scripts/make_figures.py

Each figure shows one channel of MODEL.md with the same seeds in both arms (common random numbers),
so the difference between the arms is the channel, not the noise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.model import DryPowderModel  # noqa: E402
from sim.plots import CONSTRAINT_COLOURS, dashboard  # noqa: E402

OUT = ROOT / "docs" / "img"
ABUNDANT = {"dry_powder.initial_bn": 5000.0, "dry_powder.savings_inflow_bn_per_yr": 400.0}
SCARCE = {"dry_powder.initial_bn": 150.0, "dry_powder.savings_inflow_bn_per_yr": 100.0}
SEED = 3


def run(**overrides) -> DryPowderModel:
    return DryPowderModel(rng=SEED, **overrides).run()


def three_panels():
    """One row of three panels, the shape of every channel figure."""
    return plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)


def save(fig, weekly_axes, name: str) -> None:
    """Label the panels whose x axis is the week, write docs/img/<name>.png, free the figure."""
    for x in weekly_axes:
        x.set_xlabel("week")
    fig.savefig(OUT / f"{name}.png", dpi=80)
    plt.close(fig)


def squeeze() -> None:
    a, s = run(**ABUNDANT), run(**SCARCE)
    fa, fs = a.model_frame(), s.model_frame()
    fig, ax = three_panels()
    ax[0].plot(fa.step, fa.dry_powder_bn, label="abundant ($5tn)")
    ax[0].plot(fs.step, fs.dry_powder_bn, label="exhausted ($150bn)")
    ax[0].set_title("Dry-powder pool ($bn)")
    ax[0].legend()
    ax[1].plot(fa.step, fa.ig_spread_bp, label="IG spread, abundant")
    ax[1].plot(fs.step, fs.ig_spread_bp, label="IG spread, exhausted")
    ax[1].plot(fs.step, fs.ust10y_pct * 50, ls="--", label="10y yield x50, exhausted")
    ax[1].set_title("Cost of capital (bp)")
    ax[1].legend(fontsize=8)
    for asset in ("crypto", "saas", "neocloud_equity", "hyperscaler_equity", "ai_hardware", "ig_bonds", "ust"):
        ax[2].plot(fs.step, np.log(fs[f"price_{asset}"] / fa[f"price_{asset}"]), label=asset)
    ax[2].axhline(0, color="grey", lw=0.5)
    ax[2].set_title("Squeeze by asset, same seed: log(P exhausted / P abundant)", fontsize=10)
    ax[2].legend(fontsize=8)
    save(fig, ax, "squeeze")


def gpu_shock() -> None:
    m = run(**{"gpu.generation_value_drop": 0.45, "gpu.generation_steps": [40, 92]})
    f, e = m.model_frame(), m.events_frame()
    fig, ax = three_panels()
    ax[0].plot(f.step, f.price_used_gpu, label="used-GPU price")
    ax[0].plot(f.step, f.price_neocloud_equity, label="neocloud equity")
    ax[0].plot(f.step, f.rental_index, ls="--", label="rental index")
    ax[0].set_title("GPU generations in weeks 40 and 92")
    ax[0].legend()
    ax[1].plot(f.step, f.neocloud_max_ltv.clip(upper=2), label="highest neocloud LTV (haircut)")
    ax[1].step(f.step, f.neocloud_defaults / max(len(m.neoclouds), 1), where="post", label="share of neoclouds in default")
    ax[1].set_title("Covenants break, defaults follow")
    ax[1].legend()
    cov = e[(e.asset == "used_gpu") & (e.value_bn > 0)].groupby(["step", "constraint"]).value_bn.sum().unstack(fill_value=0)
    for c in cov.columns:
        ax[2].bar(cov.index, cov[c], label=c, color=CONSTRAINT_COLOURS.get(c), width=1.0)
    ax2 = ax[2].twinx()
    ax2.plot(f.step, f.credit_losses_bn, color="black", label="lenders' credit losses (cum.)")
    ax[2].set_title("Forced GPU sales ($bn/wk) and lenders' losses")
    ax[2].legend(loc="upper left", fontsize=8)
    ax2.legend(loc="upper right", fontsize=8)
    save(fig, ax, "gpu_shock")


def backstop() -> None:
    s, b = run(**SCARCE), run(**SCARCE, **{"central_bank.backstop": True})
    fs, fb = s.model_frame(), b.model_frame()
    fig, ax = three_panels()
    ax[0].plot(fs.step, fs.ust10y_pct, label="no backstop")
    ax[0].plot(fb.step, fb.ust10y_pct, label="backstop")
    ax[0].set_title("10-year Treasury yield (%)")
    ax[0].legend()
    ax[1].plot(fs.step, fs.price_crypto, label="crypto, no backstop")
    ax[1].plot(fb.step, fb.price_crypto, label="crypto, backstop")
    ax[1].plot(fs.step, fs.price_saas, label="software, no backstop", ls="--")
    ax[1].plot(fb.step, fb.price_saas, label="software, backstop", ls="--")
    ax[1].set_title("Speculative assets")
    ax[1].legend(fontsize=8)
    ax[2].plot(fb.step, fb.cb_balance_sheet_change_bn, color="black")
    tri = b.summary()["trinity"]
    ax[2].set_title("Central-bank purchases ($bn, cumulative)\n" + ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in tri.items()), fontsize=10)
    save(fig, ax, "backstop")


def leverage() -> None:
    """Margin calls on a tight pool: low against high leverage (hedge funds and retail), same seed;
    the returns panel pools six seeds of each arm."""
    low = {**SCARCE, "hedge_funds.leverage": 2.0, "retail.margin_share": 0.05}
    high = {**SCARCE, "hedge_funds.leverage": 3.5, "hedge_funds.initial_margin_headroom": 0.15,
            "retail.margin_share": 0.3}
    fig, ax = three_panels()
    for a, arm, title in ((ax[0], low, "low leverage (HF 2x, 5% on margin)"),
                          (ax[1], high, "high leverage (HF 3.5x, 30% on margin)")):
        m = run(**arm)
        e = m.events_frame()
        forced = e[e.forced & (e.value_bn > 0)]
        piv = forced.pivot_table(index="step", columns="constraint", values="value_bn", aggfunc="sum").fillna(0)
        bottom = None
        for c in piv.columns:
            a.bar(piv.index, piv[c], bottom=bottom, color=CONSTRAINT_COLOURS.get(c), label=c, width=1.0)
            bottom = piv[c] if bottom is None else bottom + piv[c]
        a.set_title(f"Forced sales by constraint (\\$bn/wk), \\$150bn pool:\n{title}", fontsize=9)
        a.set_xlim(0, m.horizon)
        if len(piv.columns):
            a.legend(fontsize=8)
        else:
            a.text(0.5, 0.5, "no forced sales", transform=a.transAxes, ha="center", fontsize=10, color="grey")
    for arm, label in ((low, "low"), (high, "high")):
        r = np.concatenate([np.diff(np.log(DryPowderModel(rng=s, **arm).run().model_frame()
                                           ["price_hyperscaler_equity"].to_numpy())) for s in range(6)])
        z = (r - r.mean()) / r.std()
        ax[2].hist(r, bins=60, alpha=0.5, density=True,
                   label=f"{label} leverage: excess kurtosis {np.mean(z ** 4) - 3:.1f}, worst {r.min():.2f}")
    ax[2].set_yscale("log")
    ax[2].set_title("Hyperscaler-equity weekly log returns (6 seeds):\nfatter tails with leverage", fontsize=10)
    ax[2].legend(fontsize=8)
    save(fig, ax[:2], "leverage")       # the third panel is a histogram of returns


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    m = DryPowderModel().run()
    dashboard(m.model_frame(), m.events_frame(), m.summary(), OUT / "dashboard.png")
    squeeze()
    gpu_shock()
    backstop()
    leverage()
    print("wrote", ", ".join(f"{OUT.relative_to(ROOT)}/{name}.png" for name in
                             ("dashboard", "squeeze", "gpu_shock", "backstop", "leverage")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
