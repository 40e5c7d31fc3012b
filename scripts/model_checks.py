"""The model's acceptance checks over many seeds: a calm baseline, a squeeze that comes through the
cascade, and money that is never created or lost. Prints one table (MODEL.md §15 quotes it).

    .venv/bin/python scripts/model_checks.py                 # 40 seeds per scenario, 2 workers
    .venv/bin/python scripts/model_checks.py --seeds 12 --workers 1

Each row: the statistic over the seeds, its target and PASS or FAIL. Exit status 0 when every check
passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RUNS = {
    "baseline": ("baseline", {}),
    "exhausted": ("dry_powder_exhausted", {}),
    "exhausted_no_impact": ("dry_powder_exhausted", {"channels.price_impact": False}),
    "abundant": ("abundant_dry_powder", {}),
    "gpu_shock": ("gpu_generation_shock", {}),
    "backstop": ("cb_backstop", {}),
}


def _acf_abs(r: np.ndarray, lags=range(1, 6)) -> float:
    a = np.abs(r) - np.abs(r).mean()
    d = float(a @ a)
    return float(np.mean([a[:-k] @ a[k:] / d for k in lags])) if d > 0 else 0.0


def one_run(task: tuple[str, int]) -> dict:
    from sim.config import load_config, resolve_config_arg
    from sim.model import DryPowderModel
    name, seed = task
    scenario, overrides = RUNS[name]
    cfg = load_config(resolve_config_arg(scenario), {**overrides, "seed": seed})
    m = DryPowderModel(cfg, detail=False)
    min_cash = 0.0
    for _ in range(m.horizon):
        m.step()
        min_cash = min(min_cash, float(m.book.cash.min()), float(m.retail.cash.min(initial=0.0)))
    s = m.summary()
    hs = np.log(m.model_column("price_hyperscaler_equity"))
    hw = np.log(m.model_column("price_ai_hardware"))
    r_hs, r_hw = np.diff(hs), np.diff(hw)
    spread = m.model_column("ig_spread_bp")
    y10 = m.model_column("ust10y_pct")
    fire = m.model_column("fire_sales_bn")
    rise = float(np.max(spread - np.minimum.accumulate(spread)))     # the largest run-up from a trough
    out = {
        "name": name, "seed": seed, "crisis": bool(s["crisis"]), "reasons": s["crisis_reasons"],
        "forced_13w": float(fire[1:14].sum()), "forced_total": float(s["fire_sale_volume_bn"]),
        "dd_hs": s["max_drawdown"]["hyperscaler_equity"], "vol_hs": float(r_hs.std(ddof=1) * np.sqrt(52)),
        "corr_hs_hw": float(np.corrcoef(r_hs, r_hw)[0, 1]), "acf_abs": _acf_abs(r_hs),
        "worst_week_hs": float(r_hs.min()), "worst_week_10y": float(np.diff(y10).max()),
        "spread_week_share": float(max(np.diff(spread).max(), 0.0) / rise) if rise > 1e-9 else 0.0,
        "peak_spread": float(spread.max()), "min_cash": min_cash,
    }
    m.close()
    return out


def checks(res: dict[str, list[dict]]) -> list[tuple[str, float, str, bool]]:
    med = lambda name, key: float(np.median([r[key] for r in res[name]]))  # noqa: E731
    prob = lambda name: float(np.mean([r["crisis"] for r in res[name]]))  # noqa: E731
    p_ex, p_ex0 = prob("exhausted"), prob("exhausted_no_impact")
    rows = [
        ("baseline: median forced sales, weeks 1-13 ($bn)", med("baseline", "forced_13w"), "<= 5", med("baseline", "forced_13w") <= 5),
        ("baseline: median 3-year max drawdown, hyperscaler equity", med("baseline", "dd_hs"), "0.10-0.35",
         0.10 <= med("baseline", "dd_hs") <= 0.35),
        ("baseline: median annualised weekly vol, hyperscaler equity", med("baseline", "vol_hs"), "0.18-0.45",
         0.18 <= med("baseline", "vol_hs") <= 0.45),
        ("baseline: median weekly corr(hyperscaler, AI hardware)", med("baseline", "corr_hs_hw"), ">= 0.4",
         med("baseline", "corr_hs_hw") >= 0.4),
        ("baseline: median acf of |weekly return|, lags 1-5", med("baseline", "acf_abs"), ">= 0.05",
         med("baseline", "acf_abs") >= 0.05),
        ("baseline: crisis probability", prob("baseline"), "(reported)", True),
        ("dry_powder_exhausted: crisis probability", p_ex, ">= 0.6", p_ex >= 0.6),
        ("exhausted, channels.price_impact=false: crisis probability", p_ex0, "<= half of the above",
         p_ex0 <= 0.5 * p_ex),
        ("exhausted: median worst weekly hyperscaler log return", med("exhausted", "worst_week_hs"), "> log(0.75) = -0.288",
         med("exhausted", "worst_week_hs") > np.log(0.75)),
        ("exhausted: median worst weekly 10y rise (pp)", med("exhausted", "worst_week_10y"), "< 0.75",
         med("exhausted", "worst_week_10y") < 0.75),
        ("exhausted: median largest share of the spread's rise in one week", med("exhausted", "spread_week_share"),
         "< 0.5", med("exhausted", "spread_week_share") < 0.5),
        ("exhausted: seeds where one week carries over half of the rise (a margin cascade)",
         float(sum(r["spread_week_share"] > 0.5 for r in res["exhausted"])), "(reported)", True),
        ("abundant / exhausted median forced sales", med("abundant", "forced_total") / max(med("exhausted", "forced_total"), 1e-9),
         "<= 0.5", med("abundant", "forced_total") <= 0.5 * med("exhausted", "forced_total")),
        ("lowest cash of any holder in any run ($bn)", min(r["min_cash"] for rs in res.values() for r in rs), ">= 0",
         min(r["min_cash"] for rs in res.values() for r in rs) >= -1e-9),
    ]
    for name in ("gpu_shock", "backstop", "abundant"):
        rows.append((f"{RUNS[name][0]}: crisis probability", prob(name), "(reported)", True))
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=40)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    tasks = [(name, seed) for name in RUNS for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(one_run, tasks, chunksize=4))
    res: dict[str, list[dict]] = {name: [] for name in RUNS}
    for r in results:
        res[r["name"]].append(r)
    rows = checks(res)
    width = max(len(r[0]) for r in rows)
    print(f"{'check (' + str(args.seeds) + ' seeds each)':<{width}}  {'value':>9}  target")
    for label, value, target, ok in rows:
        print(f"{label:<{width}}  {value:>9.3f}  {target}  {'PASS' if ok else 'FAIL'}")
    return 0 if all(ok for *_, ok in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
