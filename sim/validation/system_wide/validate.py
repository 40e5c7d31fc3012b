"""``drypowder validate-peer --system-wide``: run FF10 and FF11, write the tables and figures, compare.

Writes into the output folder: ``runs.csv`` (one row per run), ``points.csv`` (one row per point with
the peer's target and a verdict), ``joint_vs_parts.csv`` (FF11c), the peer-layout tables
``<crediting>/FF10_summary.csv``, ``FF11_1_summary.csv``, ... (diffable against the peer's
``targets/``), and the figures ``institutions_<crediting>.png`` and ``channels_<crediting>.png``.
Every file is written under a temporary name and moved into place. Prints where each point stands;
the last line of stdout is the output folder.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Sequence

import pandas as pd

from sim.validation.system_wide import experiments as X
from sim.validation.system_wide.data import TARGET_VERSIONS, load_joint_targets, load_targets
from sim.validation.system_wide.report import compare, compare_joint, joint_vs_parts_table, point_table
from sim.validation.system_wide.runner import EXPERIMENTS, PEER_SEEDS, Progress, make_units, run_units, simulation_seeds

MARKS = {"identical": "=", "exact": "=", "within": "~", "outside": "!", "no target": "?"}
PEER_SECONDS_PER_RUN = 0.2   # the peer's own code on one core (SPEC.md)


def _atomic_write(target: Path, write) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(str(tmp))
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def peer_layout(points: pd.DataFrame, table: str) -> pd.DataFrame:
    """Our points of one table with the columns the peer's ``targets/*_summary.csv`` have."""
    p = points[points["table"] == table]
    stats = ["N", "n_systemic", "aeoc_pct", "stde_pct", "mean_eoc_all_runs_pct", "mean_bank_defaults",
             "mean_hf_defaults", "mean_am_defaults"]
    if table == "FF10":
        return p[["institutions", "buffer_mode", "price_impact", *stats, "eba_eose_pct", "mean_bank_asset_loss_eur_m"]]
    out = p[["lev_y", "rwa_y", "channels", "price_impact", *stats, "eba_eose_pct", "mean_bank_asset_loss_eur_m"]]
    return out.rename(columns={"price_impact": "price_impact_x", "eba_eose_pct": "eba_eose_pct_seed0"})


def print_points(points: pd.DataFrame, out=sys.stdout) -> None:
    """Where each point stands: FF10 one line a point, FF11 one line a channel mode over price impact."""
    for crediting, pc in points.groupby("crediting", sort=False):
        ff10 = pc[pc["table"] == "FF10"]
        if len(ff10):
            print(f"FF10 [{crediting} crediting]: bank defaults in systemic runs, ours vs peer (%)", file=out)
            for p in ff10.itertuples(index=False):
                print(f"  {p.institutions:28s} {p.buffer_mode:14s} {p.aeoc_pct:6.2f} +- {p.stde_pct:5.2f} "
                      f"({p.n_systemic}/{p.N} systemic)  peer {p.target_aeoc_pct:6.2f} +- {p.target_stde_pct:5.2f} "
                      f"({p.target_n_systemic:.0f}/{p.target_N:.0f})  {p.verdict}", file=out)
        for table in ("FF11_1", "FF11_2"):
            ff11 = pc[pc["table"] == table]
            if not len(ff11):
                continue
            lev_y, rwa_y = X.FF11_VARIANTS[table]
            print(f"{table} [{crediting}; lev_y {lev_y:g}, rwa_y {rwa_y:g}]: ours/peer at price impact "
                  f"0..10 % (= same, ~ within 2 SE, ! outside)", file=out)
            for mode, g in ff11.groupby("channels", sort=False):
                cells = " ".join(f"{p.aeoc_pct:5.1f}/{p.target_aeoc_pct:5.1f}{MARKS.get(p.verdict, '?')}"
                                 for p in g.sort_values("price_impact").itertuples(index=False))
                print(f"  {mode:8s} {cells}", file=out)


def _summary_line(points: pd.DataFrame) -> tuple[str, bool]:
    counts = points["verdict"].value_counts()
    n = len(points)
    ok = int(counts.get("identical", 0) + counts.get("exact", 0) + counts.get("within", 0))
    parts = ", ".join(f"{counts.get(v, 0)} {v}" for v in ("identical", "exact", "within", "outside")
                      if counts.get(v, 0))
    return f"{ok}/{n} points matched ({parts})", ok == n


def write_outputs(out: Path, runs: pd.DataFrame, points: pd.DataFrame, joint: pd.DataFrame) -> None:
    from sim.validation.system_wide.figures import channels_figure, institutions_figure
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "runs.csv", lambda t: runs.to_csv(t, index=False))
    _atomic_write(out / "points.csv", lambda t: points.to_csv(t, index=False))
    _atomic_write(out / "joint_vs_parts.csv", lambda t: joint.to_csv(t, index=False))
    for crediting in points["crediting"].unique():
        sub = out / crediting
        sub.mkdir(exist_ok=True)
        pc = points[points["crediting"] == crediting]
        for table in pc["table"].unique():
            _atomic_write(sub / f"{table}_summary.csv", lambda t, tb=table: peer_layout(pc, tb).to_csv(t, index=False))
        if (pc["table"] == "FF10").any():
            _atomic_write(out / f"institutions_{crediting}.png", lambda t, c=crediting: institutions_figure(points, t, c))
        if (pc["table"] != "FF10").any():
            _atomic_write(out / f"channels_{crediting}.png", lambda t, c=crediting: channels_figure(points, joint, t, c))


def validate_system_wide(out_dir, seeds: int = PEER_SEEDS, root_seed: int | None = None,
                         creditings: Sequence[str] = TARGET_VERSIONS, tables: Sequence[str] = EXPERIMENTS,
                         workers: int = 1) -> int:
    """Run, write, compare; returns 0 if every point matched its target, else 1.

    With the peer's seeds and more than its 10 runs a point, the first 10 replications are the peer's
    own runs: they decide the verdict (``peer_seeds_verdict`` in points.csv), and the full sample's
    comparison with the peer's 10-run estimate (``verdict``) says where more runs move the point.
    """
    units = make_units(tables, simulation_seeds(seeds, root_seed), creditings)
    t0 = time.perf_counter()
    runs, cpu = run_units(units, workers, Progress())
    elapsed = time.perf_counter() - t0
    targets = {c: load_targets(c) for c in creditings}
    points = compare(point_table(runs), targets)
    decisive = points
    if root_seed is None and seeds > PEER_SEEDS:
        decisive = compare(point_table(runs[runs["replication"] < PEER_SEEDS]), targets)
        points["peer_seeds_verdict"] = decisive["verdict"].to_numpy()
    joint = compare_joint(joint_vs_parts_table(points), {c: load_joint_targets(c) for c in creditings})
    out = Path(out_dir)
    write_outputs(out, runs, points, joint)
    print_points(points)
    print(f"{len(runs)} runs in {elapsed:.1f} s on {workers} worker(s): {cpu / max(len(runs), 1):.3f} CPU s a "
          f"run (the peer's code: about {PEER_SECONDS_PER_RUN} s a run)")
    line, ok = _summary_line(decisive)
    if decisive is points:
        seeds_text = "the peer's seeds" if root_seed is None else f"seeds spawned from {root_seed}"
        print(f"{line}; {seeds} runs a point, {seeds_text}: {'VALIDATED' if ok else 'NOT VALIDATED'}")
    else:
        band, _ = _summary_line(points)
        print(f"{seeds} runs a point against the peer's 10-run estimates: {band}")
        print(f"the peer's seeds 0-{PEER_SEEDS - 1} alone: {line}: {'VALIDATED' if ok else 'NOT VALIDATED'}")
    print(out)
    return 0 if ok else 1


def validate_from_args(args, out: Path) -> int:
    """``drypowder validate-peer --system-wide``: the command line's options, checked."""
    creditings = TARGET_VERSIONS if args.crediting == "both" else (args.crediting,)
    tables = [t.strip() for t in args.experiments.split(",") if t.strip()]
    bad = [t for t in tables if t not in EXPERIMENTS]
    if bad or not tables:
        raise ValueError(f"--experiments: unknown {', '.join(bad) or '(none given)'}; allowed: {', '.join(EXPERIMENTS)}")
    workers = args.workers or os.cpu_count() or 1
    return validate_system_wide(out, seeds=args.seeds, root_seed=args.seed, creditings=creditings,
                                tables=tables, workers=workers)


__all__ = ["validate_from_args", "validate_system_wide", "peer_layout", "print_points"]
