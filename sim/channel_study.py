"""``drypowder channels``: each contagion channel alone and all together, with the amplification.

The Oxford INET system-wide stress test reports its contagion channels one at a time and together:
what one channel does alone, what all do together, and the amplification (together minus the sum
of the parts). This command does the same for drypowder's channels (``channels.*`` in the config,
MODEL.md §6.7). It runs one Monte Carlo (``drypowder mc``) per setting on the same seeds, so every
comparison is paired (common random numbers):

* ``none``: every channel off (markets still move on news, agents still trade);
* one setting per channel: that channel on, the others off;
* ``all``: every channel on (the config as given).

For an outcome y of replication i, the amplification is
``A_i = (y_all,i - y_none,i) - sum_k (y_k,i - y_none,i)``: what the channels do together beyond what
each adds to ``none`` alone. Positive: the channels feed each other (a margin call's sale triggers a
covenant breach...); zero: they add up. Means come with 95% intervals over the replications (Wilson
for the crisis probability of a setting, normal for means and for the paired amplification).

Writes into ``channels-<scenario>-s<seed>-n<N>-<hash>/``: one ``mc`` folder per setting (each
resumable, with its own report), ``channels.csv`` (setting x outcome: mean and interval),
``amplification.csv``, ``report.json`` and ``channels.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import jsonio
from sim.atomic import atomic_write_text
from sim.config import ConfigError, load_config, parse_override, resolve_config_arg
from sim.config_sections import ChannelsConfig
from sim.experiments.options import add_parsers
from sim.experiments.stats import wilson_interval
from sim.experiments.workers import worker_count
from sim.folders import RUNS_DIR, check_writable
from sim.limits import check_campaign

CHANNELS: tuple[str, ...] = tuple(ChannelsConfig.model_fields)
NONE, ALL = "none", "all"
#: (column of runs.parquet or derived, label, unit)
OUTCOMES: tuple[tuple[str, str], ...] = (
    ("crisis", "crisis probability"),
    ("fire_sale_volume_bn", "forced sales, $bn"),
    ("financial_defaults", "defaults of neoclouds, credit and hedge funds"),
    ("peak_ig_spread_bp", "peak IG spread, bp"),
    ("system_losses_bn", "system losses, $bn"),
)
FINANCIAL = ("defaults.neocloud", "defaults.private_credit", "defaults.hedge_fund")
Z95 = 1.959963984540054


def settings() -> list[tuple[str, dict[str, bool]]]:
    """(name, channel switches) of every setting, in the order they are run and reported."""
    off = {c: False for c in CHANNELS}
    return [(NONE, off), *((c, {**off, c: True}) for c in CHANNELS), (ALL, {c: True for c in CHANNELS})]


def _mc_args(args, folder: Path, switches: dict[str, bool], root: int, config: str) -> argparse.Namespace:
    """The ``mc`` command line of one setting, parsed by the ``mc`` command's own parser."""
    argv = ["mc", config, "-n", str(args.n), "--seed", str(root), "--out", str(folder)]
    for text in args.set or []:
        argv += ["--set", text]
    argv += [x for c, on in switches.items() for x in ("--set", f"channels.{c}={str(on).lower()}")]
    if args.workers is not None:
        argv += ["--workers", str(args.workers)]
    argv += [flag for flag, on in (("--resume", args.resume), ("--quiet", args.quiet),
                                   ("--no-figures", args.no_figures)) if on]
    parser = argparse.ArgumentParser(prog="drypowder")
    add_parsers(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def _check(args) -> tuple[Any, str, int]:
    if args.n < 2:
        raise ConfigError(f"-n must be at least 2 replications (got {args.n}): intervals need two")
    overrides = {}
    for text in args.set or []:
        key, value = parse_override(text)
        if key.startswith("channels") or key == "seed":
            raise ConfigError(f"--set {key}=...: this command sets the channels itself and takes the seed as --seed")
        overrides[key] = value
    path = resolve_config_arg(args.config)
    cfg = load_config(path, overrides)
    root = args.seed if args.seed is not None else cfg.seed
    parent = args.out if args.out is not None else RUNS_DIR
    check_writable(parent)
    check_campaign(cfg, runs=args.n * len(settings()), workers=worker_count(args), local=True, out=parent,
                   what=f"channels -n {args.n}")
    return cfg, str(args.config or path), root


def cmd_channels(args) -> int:
    """Run every setting's Monte Carlo, then the table, the amplification and the figure."""
    from sim.experiments.commands import cmd_mc
    cfg, config, root = _check(args)
    parent = args.out if args.out is not None else RUNS_DIR
    folder = parent / f"channels-{cfg.name}-s{root}-n{args.n}-{cfg.digest()[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    runs: dict[str, Path] = {}
    for name, switches in settings():
        if not args.quiet:
            print(f"channels: setting {name!r} ({len(runs) + 1}/{len(settings())})", file=sys.stderr)
        mc_args = _mc_args(args, folder, switches, root, config)
        with contextlib.redirect_stdout(sys.stderr):      # stdout's last line is this study's folder
            code = cmd_mc(mc_args)
        if code != 0:
            print(f"channels: stopped at setting {name!r}; finish with the same command and --resume", file=sys.stderr)
            return code
        runs[name] = _mc_folder(folder, name, switches, cfg, root, args)
    frames = {name: outcomes_frame(pd.read_parquet(path / "runs.parquet")) for name, path in runs.items()}
    table, amp = channel_table(frames)
    write_outputs(folder, table, amp, cfg, root, args, {k: str(v.name) for k, v in runs.items()})
    print(format_table(table, amp, args.n), file=sys.stderr)
    print(folder)
    return 0


def _mc_folder(folder: Path, name: str, switches: dict[str, bool], cfg, root: int, args) -> Path:
    """The folder ``mc`` wrote for a setting (its name carries the resolved config's hash)."""
    overrides = {k: v for k, v in (parse_override(t) for t in args.set or [])}
    overrides.update({f"channels.{c}": on for c, on in switches.items()})
    set_cfg = load_config(resolve_config_arg(args.config), overrides)
    return folder / f"mc-{set_cfg.name}-s{root}-n{args.n}-{set_cfg.digest()[:8]}"


def outcomes_frame(runs: pd.DataFrame) -> pd.DataFrame:
    """The outcomes of :data:`OUTCOMES` by replication, successful runs only."""
    ok = runs[runs["status"] == "ok"].set_index("replication")
    out = pd.DataFrame(index=ok.index)
    out["crisis"] = ok["crisis"].astype(float)
    out["financial_defaults"] = ok[list(FINANCIAL)].astype(float).sum(axis=1)
    for col in ("fire_sale_volume_bn", "peak_ig_spread_bp", "system_losses_bn"):
        out[col] = ok[col].astype(float)
    return out


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    m = float(np.mean(x))
    half = Z95 * float(np.std(x, ddof=1)) / np.sqrt(len(x)) if len(x) > 1 else float("nan")
    return m, m - half, m + half


def channel_table(frames: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(setting x outcome means with intervals, amplification by outcome), on the replications every
    setting ran successfully (so that every difference is paired)."""
    common = sorted(set.intersection(*(set(f.index) for f in frames.values())))
    if len(common) < 2:
        raise ConfigError("fewer than two replications ran in every setting: nothing to compare")
    f = {k: v.loc[common] for k, v in frames.items()}
    rows = []
    for name, frame in f.items():
        for col, label in OUTCOMES:
            x = frame[col].to_numpy()
            if col == "crisis":
                m = float(x.mean())
                lo, hi = wilson_interval(float(x.sum()), float(len(x)))
            else:
                m, lo, hi = _mean_ci(x)
            rows.append({"setting": name, "outcome": col, "label": label, "mean": m, "ci_low": lo, "ci_high": hi,
                         "n": len(x)})
    amp_rows = []
    for col, label in OUTCOMES:
        none, together = f[NONE][col].to_numpy(), f[ALL][col].to_numpy()
        parts = sum(f[c][col].to_numpy() - none for c in CHANNELS)
        a = (together - none) - parts
        m, lo, hi = _mean_ci(a)
        amp_rows.append({"outcome": col, "label": label, "none": float(none.mean()),
                         "sum_of_parts": float(parts.mean()), "together": float((together - none).mean()),
                         "amplification": m, "ci_low": lo, "ci_high": hi, "n": len(a)})
    return pd.DataFrame(rows), pd.DataFrame(amp_rows)


def format_table(table: pd.DataFrame, amp: pd.DataFrame, n: int) -> str:
    """The study as text: one line per setting, then the amplification."""
    wide = table.pivot(index="setting", columns="outcome", values="mean").reindex([s for s, _ in settings()])
    cols = [c for c, _ in OUTCOMES]
    head = f"{'setting':16s}" + "".join(f"{c[:18]:>20s}" for c in cols)
    lines = [f"channels over {int(table['n'].iloc[0])} paired replications (of {n}):", head]
    for s, row in wide.iterrows():
        lines.append(f"{s:16s}" + "".join(f"{row[c]:20.3f}" for c in cols))
    lines.append("amplification = (all - none) - sum over channels of (alone - none), mean [95% CI]:")
    for r in amp.itertuples(index=False):
        lines.append(f"  {r.label:46s} {r.amplification:10.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}] "
                     f"(together {r.together:.3f}, parts {r.sum_of_parts:.3f})")
    return "\n".join(lines)


def write_outputs(folder: Path, table: pd.DataFrame, amp: pd.DataFrame, cfg, root: int, args, mc: dict) -> None:
    atomic_write_text(folder / "channels.csv", table.to_csv(index=False))
    atomic_write_text(folder / "amplification.csv", amp.to_csv(index=False))
    report = {"scenario": cfg.name, "root_seed": root, "replications": args.n, "channels": list(CHANNELS),
              "settings": [s for s, _ in settings()], "mc_folders": mc,
              "amplification": {r["outcome"]: {k: r[k] for k in ("amplification", "ci_low", "ci_high", "together",
                                                                  "sum_of_parts", "none")}
                                for r in amp.to_dict("records")}}
    atomic_write_text(folder / "report.json", jsonio.dumps(report))
    if not args.no_figures:
        channel_figure(table, amp, folder / "channels.png", f"{cfg.name}: channels alone and together ({args.n} seeds)")


def channel_figure(table: pd.DataFrame, amp: pd.DataFrame, path: Path, title: str) -> None:
    """One panel per outcome: each setting's mean with its interval, and beside "all" the sum of the
    parts (none + each channel's effect alone), so the amplification is the gap between the two."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.atomic import atomic_write

    order = [s for s, _ in settings()]
    fig, axes = plt.subplots(1, len(OUTCOMES), figsize=(3.2 * len(OUTCOMES), 3.8), sharey=True)
    for ax, (col, label) in zip(axes, OUTCOMES):
        t = table[table["outcome"] == col].set_index("setting").reindex(order)
        y = np.arange(len(order))
        colors = ["0.6"] + ["tab:blue"] * len(CHANNELS) + ["tab:red"]
        ax.barh(y, t["mean"], color=colors, xerr=[t["mean"] - t["ci_low"], t["ci_high"] - t["mean"]],
                error_kw={"lw": 0.8})
        a = amp.set_index("outcome").loc[col]
        ax.plot([a["none"] + a["sum_of_parts"]] * 2, [len(order) - 1.4, len(order) - 0.6], color="k", lw=2,
                label="none + sum of parts")
        ax.set_title(f"{label}\namplification {a['amplification']:+.3g}", fontsize=9)
        ax.set_yticks(y, [s.replace("_", " ") for s in order], fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].invert_yaxis()
    axes[-1].legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"))
    plt.close(fig)
