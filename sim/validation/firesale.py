"""Validation against a published peer: the Oxford INET fire-sale stress test.

The peer (ox-inet-resilience/firesale_stresstest; Cont & Schaanning 2017, Farmer et al. 2020) runs
48 EBA-2018 banks through a deleveraging fire sale in two tradable assets. Its specification and
reference tables are in ``data/peer/firesale/SPEC.md``. This module only *maps* the peer's balance
sheets and parameters onto :class:`sim.contagion.DeleveragingCascade` and reads the peer's
outputs off the engine's records; the cascade logic itself lives in :mod:`sim.contagion`.

Mapping (SPEC.md sections 1-7):

* tradables: units = [gov_bonds, corp_bonds] at price 1; gov bonds are shocked by -s at t = 0;
* cash, loan (repayable), other_assets and other_liabilities (constant) from the CSV columns;
* impact per unit lambda_a = beta / Q_a with beta = -ln(1 - pi) / 0.05 and Q_a = sum_i q_ia
  (exponential law, mid-point execution, orders settle next round, defaulted banks liquidate
  next round);
* lambda_min / lambda_buffer / lambda_target = 3 / 4 / 5 %; leverage targeting = the engine's
  ``rule="targeting"`` (SPEC.md: buffer = 1);
* systemic risk = (total defaults / n_banks) if >= 5 % else 0; fraction sold = cumulative units
  sold over total units.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from sim.contagion import CascadeResult, DeleveragingCascade
from sim.engine import fixed
from sim.resources import Peer, peer_dir

__all__ = [
    "BALANCE_SHEETS_CSV",
    "REQUIRED_COLUMNS",
    "SYSTEMIC_EVENT_CUTOFF",
    "REFERENCE_EXP1",
    "REFERENCE_EXP23",
    "UNIT_CHECKS",
    "Reference",
    "PeerRun",
    "load_balance_sheets",
    "peer_beta",
    "inet_firesale",
    "run_peer_experiments",
    "unit_checks",
    "validate_peer",
]

#: The peer's 48 EBA 2018 balance sheets as shipped with drypowder (data/README.md): the default input.
BALANCE_SHEETS_CSV = peer_dir(Peer.FIRESALE) / "eba2018_balance_sheets.csv"
REQUIRED_COLUMNS = ("bank_id", "gov_bonds", "corp_bonds", "cash", "other_assets", "loan",
                    "other_liabilities", "equity")
SYSTEMIC_EVENT_CUTOFF = 0.05
PRINTED_TOL = 5e-5  # the reference tables print 4 decimals
BALANCE_TOL = 1e-6  # relative tolerance of the CSV's A - L = equity identity


class Reference(NamedTuple):
    """One reference run of SPEC.md, as printed (4 decimals); prices only where the table has them."""

    E: float  # systemic risk
    defaults: tuple[int, ...]  # defaults in steps 1..6
    sold_frac: float  # fraction of tradable units sold by T
    p_gov_T: float | None = None
    p_corp_T: float | None = None


#: SPEC.md, experiment 1 (shock 20 %, threshold model), keyed by price impact pi in per cent.
REFERENCE_EXP1: dict[float, Reference] = {
    0.0: Reference(0.1458, (7, 0, 0, 0, 0, 0), 0.6051, 0.8000, 1.0000),
    0.5: Reference(0.1875, (7, 2, 0, 0, 0, 0), 0.7934, 0.7358, 0.9326),
    1.0: Reference(0.3750, (7, 8, 3, 0, 0, 0), 0.9145, 0.6636, 0.8384),
    1.5: Reference(0.5208, (7, 14, 4, 0, 0, 0), 0.9442, 0.5992, 0.7583),
    2.0: Reference(0.6667, (7, 23, 2, 0, 0, 0), 0.9816, 0.5370, 0.6758),
    2.5: Reference(0.7500, (7, 25, 4, 0, 0, 0), 0.9938, 0.4832, 0.6060),
    3.0: Reference(0.7917, (7, 30, 1, 0, 0, 0), 0.9938, 0.4362, 0.5474),
    3.5: Reference(0.8958, (7, 33, 3, 0, 0, 0), 0.9938, 0.3935, 0.4942),
    4.0: Reference(0.8958, (7, 33, 3, 0, 0, 0), 0.9961, 0.3541, 0.4453),
    4.5: Reference(0.8958, (7, 34, 2, 0, 0, 0), 0.9961, 0.3191, 0.4015),
    5.0: Reference(0.9167, (7, 35, 2, 0, 0, 0), 0.9961, 0.2873, 0.3618),
    5.5: Reference(0.9167, (7, 36, 1, 0, 0, 0), 0.9961, 0.2586, 0.3259),
    6.0: Reference(0.9375, (7, 36, 2, 0, 0, 0), 0.9961, 0.2326, 0.2934),
    6.5: Reference(0.9375, (7, 38, 0, 0, 0, 0), 0.9961, 0.2091, 0.2639),
    7.0: Reference(0.9375, (7, 38, 0, 0, 0, 0), 0.9961, 0.1879, 0.2373),
    7.5: Reference(0.9375, (7, 38, 0, 0, 0, 0), 0.9961, 0.1687, 0.2133),
    8.0: Reference(0.9375, (7, 38, 0, 0, 0, 0), 1.0000, 0.1510, 0.1887),
    8.5: Reference(0.9375, (7, 38, 0, 0, 0, 0), 1.0000, 0.1354, 0.1692),
    9.0: Reference(0.9375, (7, 38, 0, 0, 0, 0), 1.0000, 0.1213, 0.1516),
    9.5: Reference(0.9375, (7, 38, 0, 0, 0, 0), 1.0000, 0.1087, 0.1358),
    10.0: Reference(0.9375, (7, 38, 0, 0, 0, 0), 1.0000, 0.0973, 0.1216),
}

#: SPEC.md, experiments 2 and 3 (pi = 1 %), keyed by shock in per cent, then by arm ("threshold",
#: "targeting"). Experiment 2 is the threshold arm of experiment 3 (same parameters, same table).
_EXP23_ROWS = [
    # shock_%, E_thr, def_thr, sold_thr, p_gov_T_thr, E_tgt, def_tgt, sold_tgt
    (0.0, 0.0000, (0, 0, 0, 0, 0, 0), 0.0471, 0.9916, 0.0000, (0, 0, 0, 0, 0, 0), 0.3169),
    (1.5, 0.0000, (0, 0, 0, 0, 0, 0), 0.0471, 0.9767, 0.0000, (0, 0, 0, 0, 0, 0), 0.5122),
    (3.0, 0.0000, (0, 0, 0, 0, 0, 0), 0.0869, 0.9547, 0.0000, (0, 0, 0, 0, 0, 0), 0.8270),
    (4.5, 0.0000, (0, 0, 0, 0, 0, 0), 0.1154, 0.9334, 0.0000, (0, 2, 0, 0, 0, 0), 0.8790),
    (6.0, 0.0000, (2, 0, 0, 0, 0, 0), 0.1579, 0.9144, 0.0000, (2, 0, 0, 0, 0, 0), 0.8924),
    (7.5, 0.0000, (2, 0, 0, 0, 0, 0), 0.3723, 0.8578, 0.0000, (2, 0, 0, 0, 0, 0), 0.9047),
    (9.0, 0.0000, (2, 0, 0, 0, 0, 0), 0.6920, 0.7868, 0.0625, (2, 1, 0, 0, 0, 0), 0.9128),
    (10.5, 0.0000, (2, 0, 0, 0, 0, 0), 0.8523, 0.7503, 0.0625, (2, 1, 0, 0, 0, 0), 0.9153),
    (12.0, 0.0625, (3, 0, 0, 0, 0, 0), 0.8763, 0.7361, 0.0833, (3, 1, 0, 0, 0, 0), 0.9208),
    (13.5, 0.0833, (3, 1, 0, 0, 0, 0), 0.9145, 0.7175, 0.1250, (3, 3, 0, 0, 0, 0), 0.9253),
    (15.0, 0.1250, (4, 0, 1, 1, 0, 0), 0.9145, 0.7050, 0.2500, (4, 6, 2, 0, 0, 0), 0.9296),
    (16.5, 0.2083, (4, 5, 1, 0, 0, 0), 0.9145, 0.6926, 0.2292, (4, 7, 0, 0, 0, 0), 0.9322),
    (18.0, 0.2917, (4, 9, 1, 0, 0, 0), 0.9145, 0.6802, 0.2500, (4, 8, 0, 0, 0, 0), 0.9361),
    (19.5, 0.3542, (6, 9, 2, 0, 0, 0), 0.9145, 0.6677, 0.2708, (6, 7, 0, 0, 0, 0), 0.9443),
    (21.0, 0.3333, (9, 6, 1, 0, 0, 0), 0.9145, 0.6553, 0.2917, (9, 5, 0, 0, 0, 0), 0.9522),
    (22.5, 0.3333, (9, 7, 0, 0, 0, 0), 0.9145, 0.6428, 0.3125, (9, 6, 0, 0, 0, 0), 0.9599),
    (24.0, 0.3750, (11, 7, 0, 0, 0, 0), 0.9275, 0.6292, 0.3750, (11, 7, 0, 0, 0, 0), 0.9674),
    (25.5, 0.3958, (12, 7, 0, 0, 0, 0), 0.9349, 0.6159, 0.4167, (12, 8, 0, 0, 0, 0), 0.9755),
    (27.0, 0.4375, (13, 8, 0, 0, 0, 0), 0.9383, 0.6032, 0.4583, (13, 9, 0, 0, 0, 0), 0.9833),
    (28.5, 0.5000, (14, 10, 0, 0, 0, 0), 0.9442, 0.5900, 0.4792, (14, 9, 0, 0, 0, 0), 0.9838),
    (30.0, 0.5208, (17, 8, 0, 0, 0, 0), 0.9567, 0.5759, 0.5417, (17, 9, 0, 0, 0, 0), 0.9838),
]
REFERENCE_EXP23: dict[float, dict[str, Reference]] = {
    row[0]: {"threshold": Reference(*row[1:5]), "targeting": Reference(*row[5:8])} for row in _EXP23_ROWS
}

#: SPEC.md unit checks for the default run (pi = 5 %, shock = 20 %), printed to 6 and 2 decimals.
UNIT_CHECKS = {"p_gov_after_step2": 0.413734, "fr14_cash_receipt_step2": 36643.73, "fr14_bank_id": "FR14"}

EXP1_SHOCK = 0.20
EXP23_PRICE_IMPACT = 0.01


@dataclass(frozen=True)
class PeerRun:
    """Outputs of one INET fire-sale run (plus the engine's records for inspection)."""

    systemic_risk: float
    defaults: list[int]  # defaults in each step
    fraction_sold: list[float]  # cumulative fraction of tradable units sold after each step
    prices: list[np.ndarray]  # [p_gov, p_corp] after each step
    bank_ids: list[str]
    result: CascadeResult  # the engine's per-round records and final state


def load_balance_sheets(balance_sheets=None) -> pd.DataFrame:
    """The peer's balance sheets from a CSV path or a DataFrame (default: the shipped
    :data:`BALANCE_SHEETS_CSV`); ValueError if unusable."""
    if balance_sheets is None:
        balance_sheets = BALANCE_SHEETS_CSV
    if isinstance(balance_sheets, pd.DataFrame):
        df = balance_sheets.copy()
    else:
        path = Path(balance_sheets)
        if not path.is_file():
            raise ValueError(f"balance-sheet file not found: {path}")
        try:
            df = pd.read_csv(path)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ValueError(f"cannot read balance-sheet CSV {path}: {exc}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"balance sheets lack column(s) {', '.join(missing)}; "
                         f"need {', '.join(REQUIRED_COLUMNS)}")
    if df.empty:
        raise ValueError("balance sheets have no rows")
    if df["bank_id"].isna().any() or df["bank_id"].duplicated().any():
        raise ValueError("bank_id must be present and unique on every row")
    numeric = [c for c in REQUIRED_COLUMNS if c != "bank_id"]
    for col in numeric:
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any() or not np.isfinite(values.to_numpy(dtype=float)).all():
            bad = df.loc[values.isna(), "bank_id"].tolist()
            raise ValueError(f"column {col!r} must be finite numbers (bad rows: {bad[:5]})")
        if (values < 0).any() and col != "equity":
            raise ValueError(f"column {col!r} must be non-negative")
        df[col] = values.astype(float)
    assets = df["cash"] + df["gov_bonds"] + df["corp_bonds"] + df["other_assets"]
    implied = assets - df["loan"] - df["other_liabilities"]
    if not np.allclose(implied, df["equity"], rtol=BALANCE_TOL, atol=1e-6):
        raise ValueError("balance sheets do not add up: cash + gov_bonds + corp_bonds + other_assets "
                         "- loan - other_liabilities differs from equity")
    return df.reset_index(drop=True)


def peer_beta(price_impact: float) -> float:
    """beta = -ln(1 - pi) / 0.05: selling 5 % of a market's units lowers its price by pi."""
    if not 0 <= price_impact < 1:
        raise ValueError(f"price_impact must be in [0, 1), got {price_impact!r}")
    return -fixed.log(1.0 - price_impact) / 0.05


def inet_firesale(balance_sheets, price_impact: float, initial_shock: float, lev_min: float = 0.03,
                  lev_buffer: float = 0.04, lev_target: float = 0.05, steps: int = 6,
                  rule: str = "threshold") -> PeerRun:
    """One run of the INET fire-sale stress test on the engine.

    ``rule="targeting"`` is the peer's leverage targeting (buffer = 1); ``lev_buffer=1.0`` with the
    threshold rule gives the same result.
    """
    df = load_balance_sheets(balance_sheets)
    if not 0 <= initial_shock <= 1:
        raise ValueError(f"initial_shock must be in [0, 1], got {initial_shock!r}")
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    units = df[["gov_bonds", "corp_bonds"]].to_numpy(dtype=float)
    market_size = units.sum(axis=0)  # Q_G, Q_K in units (prices start at 1)
    impact_per_unit = np.divide(peer_beta(price_impact), market_size, out=np.zeros(2), where=market_size > 0)
    engine = DeleveragingCascade(
        units, np.ones(2), df["cash"], df["loan"], df["other_assets"], df["other_liabilities"],
        impact_per_unit, lev_min=lev_min, lev_buffer=lev_buffer, lev_target=lev_target, rule=rule,
        impact_law="exponential", execution="mid", settlement="next_round", liquidate_defaulted=True,
        shock=[-initial_shock, 0.0])
    result = engine.run(steps)
    defaults = result.defaults_per_round
    share = sum(defaults) / len(df)
    sold = result.cumulative_sold.sum(axis=1) / market_size.sum()
    return PeerRun(systemic_risk=share if share >= SYSTEMIC_EVENT_CUTOFF else 0.0, defaults=defaults,
                   fraction_sold=[float(x) for x in sold], prices=[rec.prices.copy() for rec in result.rounds],
                   bank_ids=df["bank_id"].astype(str).tolist(), result=result)


def _close(ours: float, printed: float | None) -> bool:
    """``ours`` agrees with a value printed to 4 decimals (None: nothing printed, nothing to check)."""
    return printed is None or abs(ours - printed) <= PRINTED_TOL


def _row(experiment: str, arm: str, pi: float, shock: float, run: PeerRun, ref: Reference) -> dict:
    """One results row. Defaults per step must agree exactly; E, the fraction sold and the final
    prices to the 4 decimals the reference prints (our E is an exact ratio n/48, zero below 5 %)."""
    p_gov, p_corp = (float(x) for x in run.prices[-1])
    defaults_ok = tuple(run.defaults) == tuple(ref.defaults)
    e_ok = run.systemic_risk == 0.0 if ref.E == 0 else _close(run.systemic_risk, ref.E)
    sold_ok = _close(run.fraction_sold[-1], ref.sold_frac)
    prices_ok = _close(p_gov, ref.p_gov_T) and _close(p_corp, ref.p_corp_T)
    return {
        "experiment": experiment, "arm": arm, "price_impact": pi, "shock": shock,
        "E": run.systemic_risk, "E_ref": ref.E,
        "defaults": "/".join(map(str, run.defaults)), "defaults_ref": "/".join(map(str, ref.defaults)),
        "n_defaults": sum(run.defaults), "n_defaults_ref": sum(ref.defaults),
        "sold_frac": run.fraction_sold[-1], "sold_frac_ref": ref.sold_frac,
        "p_gov_T": p_gov, "p_gov_T_ref": ref.p_gov_T, "p_corp_T": p_corp, "p_corp_T_ref": ref.p_corp_T,
        "match": bool(defaults_ok and e_ok and sold_ok and prices_ok),
    }


def run_peer_experiments(balance_sheets) -> pd.DataFrame:
    """All runs of SPEC.md's experiments 1, 2 and 3 (84 rows) with our and the reference values.

    Defaults per step must agree exactly; E, the final fraction sold and the final prices to the 4
    decimals the tables print. Experiment 2 rows repeat the threshold arm of experiment 3.
    """
    df = load_balance_sheets(balance_sheets)
    rows = []
    for pi_pct, ref in REFERENCE_EXP1.items():
        run = inet_firesale(df, pi_pct / 100, EXP1_SHOCK)
        rows.append(_row("1", "threshold", pi_pct / 100, EXP1_SHOCK, run, ref))
    for shock_pct, refs in REFERENCE_EXP23.items():
        run = inet_firesale(df, EXP23_PRICE_IMPACT, shock_pct / 100)
        rows.append(_row("2", "threshold", EXP23_PRICE_IMPACT, shock_pct / 100, run, refs["threshold"]))
        rows.append(_row("3", "threshold", EXP23_PRICE_IMPACT, shock_pct / 100, run, refs["threshold"]))
        run = inet_firesale(df, EXP23_PRICE_IMPACT, shock_pct / 100, rule="targeting")
        rows.append(_row("3", "targeting", EXP23_PRICE_IMPACT, shock_pct / 100, run, refs["targeting"]))
    return pd.DataFrame(rows)


def _atomic_write(target: Path, write) -> None:
    """Call ``write(tmp_path)`` on a temporary name beside ``target``, then os.replace it into place."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(str(tmp))
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _figure(results: pd.DataFrame, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    exp1 = results[results["experiment"] == "1"].sort_values("price_impact")
    ax1.plot(exp1["price_impact"] * 100, exp1["E"], "-", color="C0", label="drypowder engine")
    ax1.plot(exp1["price_impact"] * 100, exp1["E_ref"], "o", mfc="none", color="k", label="INET reference")
    ax1.set(xlabel="price impact π (%)", ylabel="systemic risk E (defaulted share of banks)",
            title="Exp. 1: shock 20 %, threshold model")
    ax1.legend(loc="lower right")
    exp3 = results[results["experiment"] == "3"]
    for arm, color in (("threshold", "C0"), ("targeting", "C3")):
        sub = exp3[exp3["arm"] == arm].sort_values("shock")
        ax2.plot(sub["shock"] * 100, sub["E"], "-", color=color, label=f"engine, {arm}")
        ax2.plot(sub["shock"] * 100, sub["E_ref"], "o", mfc="none", color=color, label=f"reference, {arm}")
    ax2.set(xlabel="initial shock to government bonds (%)", ylabel="systemic risk E",
            title="Exp. 2/3: π = 1 %, threshold vs targeting")
    ax2.legend(loc="upper left", fontsize=8)
    n_match = int(results["match"].sum())
    fig.suptitle(f"INET fire-sale stress test: {n_match}/{len(results)} reference runs matched")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=120)
    plt.close(fig)


def unit_checks(balance_sheets) -> dict[str, tuple[float, float, bool]]:
    """SPEC.md's unit checks on the default run (pi = 5 %, shock = 20 %): name -> (ours, ref, ok).

    p_G after step 2 (printed to 6 decimals) and FR14's cash receipt in step 2 (2 decimals).
    """
    run = inet_firesale(balance_sheets, 0.05, 0.20)
    if UNIT_CHECKS["fr14_bank_id"] not in run.bank_ids:
        raise ValueError(f"balance sheets have no bank {UNIT_CHECKS['fr14_bank_id']!r}: not the peer's EBA 2018 data")
    p_g2 = float(run.prices[1][0])
    fr14 = run.bank_ids.index(UNIT_CHECKS["fr14_bank_id"])
    cash = float(run.result.rounds[1].proceeds[fr14])
    ref_p, ref_cash = UNIT_CHECKS["p_gov_after_step2"], UNIT_CHECKS["fr14_cash_receipt_step2"]
    return {
        "p_gov_after_step2": (p_g2, ref_p, abs(p_g2 - ref_p) <= 5e-7),
        "fr14_cash_receipt_step2": (cash, ref_cash, abs(cash - ref_cash) <= 5e-3),
    }


def validate_peer(balance_sheets, out_dir) -> int:
    """Run every peer experiment, write peer_results.csv and peer_validation.png to ``out_dir``.

    ``balance_sheets``: a CSV path, a DataFrame or None for the shipped :data:`BALANCE_SHEETS_CSV`.

    Both files are written to a temporary name and moved into place (os.replace). Prints a short
    table and the verdict; returns 0 if every run and both unit checks match, else 1. Raises
    ValueError for a missing, unreadable or malformed balance-sheet CSV.
    """
    df = load_balance_sheets(balance_sheets)
    results = run_peer_experiments(df)
    checks = unit_checks(df)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "peer_results.csv", lambda tmp: results.to_csv(tmp, index=False))
    _atomic_write(out / "peer_validation.png", lambda tmp: _figure(results, tmp))

    table = results.assign(
        defaults_exact=results["defaults"] == results["defaults_ref"],
        sold_diff=(results["sold_frac"] - results["sold_frac_ref"]).abs(),
    ).groupby(["experiment", "arm"]).agg(
        runs=("match", "size"), matched=("match", "sum"), defaults_exact=("defaults_exact", "sum"),
        max_sold_diff=("sold_diff", "max"))
    print(table.to_string(float_format=lambda x: f"{x:.1e}"))
    for name, (ours, ref, ok) in checks.items():
        print(f"unit check {name}: {ours:.6f} vs reference {ref}: {'ok' if ok else 'MISMATCH'}")
    n_match, n = int(results["match"].sum()), len(results)
    checks_ok = all(ok for *_, ok in checks.values())
    all_ok = n_match == n and checks_ok
    print(f"{n_match}/{n} reference runs match, unit checks {'pass' if checks_ok else 'FAIL'}: "
          f"{'VALIDATED' if all_ok else 'NOT VALIDATED'}")
    print(f"wrote {out / 'peer_results.csv'} and {out / 'peer_validation.png'}")
    return 0 if all_ok else 1
