"""Experiments at scale: ``drypowder mc | sweep | sensitivity`` (docs/experiments.md).

Each command validates everything first (a bad spec or option is a :class:`SpecError`, exit
status 2, nothing written), then runs its simulations on an executor (in-process, local process
pool, Dask LocalCluster or a remote Dask scheduler), streaming result rows to part files in a
deterministic run folder, and finally consolidates them into Parquet tables, a report and figures.
An interrupted campaign (Ctrl-C, SIGTERM, a killed process) is finished with ``--resume``.

Heavy imports (numpy, pandas, pyarrow, matplotlib, dask) happen inside the commands, so building
the CLI parser stays cheap.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from sim.config import ConfigError

SERIES_FULL_MAX = 200          # mc: keep every replication's series up to this N, else quantiles
RESULTS = {"mc": "runs.parquet", "sweep": "results.parquet", "sensitivity": "results.parquet"}


# =============================================================================================
# Parsers
# =============================================================================================
def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return v


def add_parsers(sub, _positive_int: Callable | None = None, _seed: Callable | None = None, **_) -> None:
    """Register ``mc``, ``sweep`` and ``sensitivity`` on the CLI's subparsers object (argument types
    default to the command line's own, so both parse numbers and seeds alike)."""
    if _positive_int is None or _seed is None:
        from sim import cli
        _positive_int, _seed = _positive_int or cli._positive_int, _seed or cli._seed

    def common(p, resume_help: str) -> None:
        p.add_argument("--workers", type=_positive_int, default=None,
                       help="parallel workers (default: CPU count; 1 runs in this process). "
                            "Ignored with a remote --scheduler, whose workers are used")
        p.add_argument("--scheduler", metavar="ADDRESS",
                       help="'local' starts a Dask LocalCluster on 127.0.0.1; tcp://HOST:PORT uses a running "
                            "Dask scheduler (default: a local process pool)")
        p.add_argument("--out", type=Path, help="parent folder of the run folder (default: runs/)")
        p.add_argument("--resume", action="store_true", help=resume_help)
        p.add_argument("--batch-size", type=_positive_int, default=None, metavar="B",
                       help="runs per part file written while running (default: adapted to the run count)")
        p.add_argument("--flush-seconds", type=_positive_float, default=30.0, metavar="T",
                       help="write finished runs at least every T seconds (default 30)")
        p.add_argument("--no-figures", action="store_true", help="skip the figures")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    m = sub.add_parser("mc", help="Monte Carlo: N replications of one config with spawned seeds")
    m.add_argument("config", nargs="?", help="YAML path or scenario name (default: configs/baseline.yaml)")
    m.add_argument("-n", "--replications", dest="n", type=_positive_int, default=100,
                   help="replications (default 100)")
    m.add_argument("--seed", type=_seed, help="root seed S; replication i uses SeedSequence(S).spawn(N)[i] "
                                              "(default: the config's seed)")
    m.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter (repeatable)")
    common(m, "finish an interrupted run of the same command without redoing finished replications")

    s = sub.add_parser("sweep", help="parameter sweep (grid or LHS/Sobol sample) from a YAML spec")
    s.add_argument("spec", help="sweep spec YAML (examples in configs/sweeps/)")
    common(s, "finish an interrupted sweep of this spec without redoing finished runs")

    g = sub.add_parser("sensitivity", help="global sensitivity (Sobol or Morris, SALib) from a YAML spec")
    g.add_argument("spec", help="sensitivity spec YAML (example: configs/sensitivity/headline.yaml)")
    common(g, "finish an interrupted analysis of this spec without redoing finished runs")


# =============================================================================================
# Run folders
# =============================================================================================
def _write_json_atomic(obj: Any, path: Path) -> None:
    from sim.experiment_stats import clean_json
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(clean_json(obj), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _open_folder(parent: Path, name: str, resume: bool, what: str) -> tuple[Path, str]:
    """The run folder and what to do: 'new', 'resume' or 'complete'."""
    from sim.experiment_specs import SpecError
    from sim.outputs import unique_dir
    target = parent / name
    if target.exists():
        manifest = _read_manifest(target) or {}
        status = manifest.get("status", "unknown")
        if status == "complete":
            if resume:
                return target, "complete"
            fresh = unique_dir(parent, name)
            print(f"note: {target} already holds this complete {what}; writing a new one to {fresh.name} "
                  f"(pass --resume to reuse the existing one)", file=sys.stderr)
            return fresh, "new"
        if not resume:
            raise SpecError(f"an unfinished {what} of this spec is in {target} (status: {status}); "
                            f"pass --resume to finish it, or delete that folder to start over")
        return target, "resume"
    if resume:
        print(f"note: nothing to resume in {target}; starting a new {what}", file=sys.stderr)
    return target, "new"


class _Lock:
    """A pid file that keeps two processes from writing the same run folder."""

    def __init__(self, folder: Path):
        self.path = folder / ".lock"

    def __enter__(self):
        from sim.experiment_specs import SpecError
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and _alive(pid):
                    raise SpecError(f"{self.path.parent} is being written by process {pid}; "
                                    f"wait for it to finish or stop it first") from None
                self.path.unlink(missing_ok=True)
                continue
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return self
        raise SpecError(f"cannot lock {self.path.parent}")

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _versions() -> dict[str, Any]:
    from importlib import metadata

    from sim.outputs import environment, git_revision, package_version
    env = environment()
    for pkg in ("scipy", "SALib", "dask", "distributed", "matplotlib"):
        try:
            env[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return {"package_version": package_version(), "git_revision": git_revision(), "environment": env}


def _workers(args) -> int:
    return args.workers or os.cpu_count() or 1


#: What every local worker process imports: loaded once by the forkserver, before it forks workers.
WORKER_PRELOAD = ["sim.experiment_exec", "sim.model"]

#: The environment local worker processes start with: one BLAS (and OpenMP) thread each. A pool has
#: one worker per core it is given, so the BLAS library's own threads could only contend with the
#: other workers for the same cores, and in a forked worker a threaded product costs more than a
#: single-threaded one (benchmarks/README.md). Dask's nanny sets the same for its workers. Outputs
#: are the same either way: each dot product is summed by one thread.
WORKER_THREAD_LIMITS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def limit_worker_threads() -> dict[str, str]:
    """Put :data:`WORKER_THREAD_LIMITS` in the environment that worker processes inherit (a value the
    user set is kept) and return what the workers get. It must come before the forkserver starts:
    the server and the workers read it when they import numpy. This process's numpy is loaded
    already and keeps its threads."""
    for name, value in WORKER_THREAD_LIMITS.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in WORKER_THREAD_LIMITS}


def start_workers_early(args) -> bool:
    """Start the forkserver of the local process pool now, for a command that will run one (two or
    more workers, no ``--scheduler``; an ``mc`` of two runs or more). It imports the model for the
    workers (about 2 s) while this process is still importing what the command itself needs, so on
    two cores the two overlap instead of following each other. Returns whether it was started.
    The workers get one BLAS thread each (:func:`limit_worker_threads`)."""
    if getattr(args, "scheduler", None) is not None or _workers(args) < 2 or getattr(args, "n", 2) < 2:
        return False
    import multiprocessing as mp
    if "forkserver" not in mp.get_all_start_methods():
        return False
    from multiprocessing import forkserver
    limit_worker_threads()
    mp.get_context("forkserver").set_forkserver_preload(WORKER_PRELOAD)
    forkserver.ensure_running()
    return True


def _batch_size(args, total: int) -> int:
    return args.batch_size or max(20, min(2000, total // 20))


def _cmdline(parts: list[str]) -> str:
    return " ".join(shlex.quote(str(p)) for p in parts)


# =============================================================================================
# The campaign: shared by all three commands
# =============================================================================================
def _campaign(args, *, kind: str, name: str, label: str, total: int, payload: dict[str, Any], tasks,
              manifest: dict[str, Any], rerun: list[str], leading: list[str], with_series: bool,
              finalize: Callable[[Path, Any], dict[str, Any]], extra_files: dict[str, str] | None = None,
              fn: Callable | None = None) -> int:
    from sim.experiment_exec import PartStore, check_scheduler, make_executor, run_campaign, run_task
    from sim.outputs import RUNS_DIR, check_writable

    scheduler = check_scheduler(args.scheduler)
    parent = Path(args.out) if args.out is not None else RUNS_DIR
    check_writable(parent)
    folder, state = _open_folder(parent, name, args.resume, kind)
    resume_cmd = _cmdline(rerun + ["--resume"])
    if state == "complete":
        print(f"{kind} already complete in {folder}", file=sys.stderr)
        print(folder)
        return 0
    key = "replication" if kind == "mc" else "run"
    store = PartStore(folder, key=key, total=total, with_series=with_series)
    remaining = total
    if state == "resume":
        old = _read_manifest(folder) or {}
        if old.get("package_version") not in (None, manifest["package_version"]):
            print(f"warning: {folder} was started with drypowder {old.get('package_version')}, resuming with "
                  f"{manifest['package_version']}: rows record the version that produced them", file=sys.stderr)
        manifest["sessions"] = list(old.get("sessions", []))
        manifest["started_utc"] = old.get("started_utc", manifest["started_utc"])
        done_mask, _ = store.recover()
        remaining = total - int(done_mask.sum())
    executor = make_executor(_workers(args), scheduler, n_tasks=remaining)
    session: dict[str, Any] = {"started_utc": _now(), "executor": executor.describe()}
    t0 = time.perf_counter()
    with executor if remaining else _Null():        # a remote scheduler is reached before anything is written
        if state == "new":
            folder.mkdir(parents=True)
        with _Lock(folder):
            for fname, text in (extra_files or {}).items():
                if state == "new":
                    (folder / fname).write_text(text, encoding="utf-8")
            manifest["status"] = "running"
            _write_json_atomic(manifest, folder / "manifest.json")
            outcome = run_campaign(store, tasks, payload, executor, fn=fn or run_task,
                                   batch_size=_batch_size(args, total), flush_seconds=args.flush_seconds,
                                   quiet=args.quiet, desc=label)
            session.update(finished_utc=_now(), wall_s=outcome.wall_s, runs=outcome.done - (total - remaining),
                           run_s_total=outcome.run_s)
            manifest["sessions"] = manifest.get("sessions", []) + [session]
            if outcome.interrupted:
                manifest["status"] = "interrupted"
                _write_json_atomic(manifest, folder / "manifest.json")
                print(f"\ninterrupted: {outcome.done} of {total} runs done ({outcome.failed} failed) and kept in "
                      f"{folder}\nfinish with: {resume_cmd}", file=sys.stderr)
                print(folder)
                return 130
            t1 = time.perf_counter()
            info = finalize(folder, outcome)
            store.remove_parts()
            manifest["status"] = "complete"
            manifest["finished_utc"] = _now()
            manifest["timings_s"] = {"this_session_wall": time.perf_counter() - t0, "finalize": time.perf_counter() - t1,
                                     "runs_total_all_sessions": sum(s.get("run_s_total", 0.0)
                                                                    for s in manifest["sessions"])}
            manifest["files"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                                       if p.is_file() and not p.name.startswith("."))
            _write_json_atomic(manifest, folder / "manifest.json")
    failed = info.get("failed", outcome.failed)
    print(f"{label}: {total} runs ({failed} failed) in {time.perf_counter() - t0:.1f}s"
          + (f"; {info['headline']}" if info.get("headline") else ""), file=sys.stderr)
    print(folder)
    return 1 if failed == total else 0


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _manifest(kind: str, args, **fields) -> dict[str, Any]:
    return {"kind": kind, "status": "running", "started_utc": _now(), "argv": sys.argv[1:], **fields,
            **_versions()}


# =============================================================================================
# drypowder mc
# =============================================================================================
def cmd_mc(args) -> int:
    from sim.config import load_config, parse_override, resolve_config_arg
    from sim.experiment_exec import KEY_SERIES, Task, leading_columns
    from sim.experiment_specs import replication_seed

    overrides: dict[str, Any] = {}
    for text in args.set or []:
        k, v = parse_override(text)
        overrides[k] = v
    if "seed" in overrides:
        raise ConfigError("use --seed S for the root seed of a Monte Carlo run, not --set seed=...")
    path = resolve_config_arg(args.config)
    cfg = load_config(path, overrides)
    n = args.n
    root = args.seed if args.seed is not None else cfg.seed
    series: Any = "all" if n <= SERIES_FULL_MAX else KEY_SERIES
    name = f"mc-{cfg.name}-s{root}-n{n}-{cfg.digest()[:8]}"
    rerun = ["drypowder", "mc", str(args.config or path), "-n", str(n), "--seed", str(root)]
    for text in args.set or []:
        rerun += ["--set", text]
    if args.out is not None:
        rerun += ["--out", str(args.out)]
    payload = {"kind": "mc", "base": cfg.to_dict(), "series": series}

    def tasks(done):
        for i in range(n):
            if not done[i]:
                yield Task(i, 0, i, replication_seed(root, i))

    manifest = _manifest("mc", args, command=_cmdline(rerun), config_source=str(path), overrides=overrides,
                         config=cfg.to_dict(), config_hash=cfg.digest(), root_seed=root, replications=n,
                         seeds="replication i uses numpy.random.SeedSequence(root_seed).spawn(N)[i] -> "
                               "generate_state(2, uint32) -> (w0 << 32 | w1) mod 2**63",
                         series="all replications" if series == "all" else "per-step quantiles")

    def finalize(folder: Path, outcome) -> dict[str, Any]:
        return _finalize_mc(folder, outcome, n=n, root=root, cfg=cfg, series=series, args=args, rerun=rerun)

    return _campaign(args, kind="mc", name=name, label=f"mc {cfg.name}", total=n, payload=payload, tasks=tasks,
                     manifest=manifest, rerun=rerun, leading=leading_columns("mc", []),
                     with_series=True, finalize=finalize)


def _finalize_mc(folder: Path, outcome, *, n, root, cfg, series, args, rerun) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from sim.experiment_exec import KEY_SERIES, QUANTILES, PartStore, consolidate, consolidate_series_full, \
        leading_columns, quantiles_from_frame, series_quantiles
    from sim.experiment_stats import mc_report

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
            _write_table(qtable, folder / "series.parquet")
            series_info = {"file": "series.parquet", "kind": "quantiles",
                           "quantiles": list(QUANTILES), "series": list(KEY_SERIES),
                           "layout": "one row per (series, step): n, mean, q05, q25, q50, q75, q95 across replications"}
    else:
        series_info = {"file": None, "kind": "none (no successful replication)"}
    report = {"command": _cmdline(rerun), "scenario": cfg.name, "config_hash": cfg.digest(), "root_seed": root,
              "series": series_info}
    report.update(mc_report(runs, n=n))
    _write_json_atomic(report, folder / "report.json")
    if not args.no_figures:
        from sim import experiment_plots as ep
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


def _write_table(df, path: Path) -> None:
    import pyarrow as pa

    from sim.experiment_exec import _atomic_write_table
    _atomic_write_table(pa.Table.from_pandas(df, preserve_index=False), path)


# =============================================================================================
# drypowder sweep
# =============================================================================================
def _point_tasks(points, reps: int, spec, done):
    """The runs still to do of a design: ``reps`` replications of every point (a tuple of
    (parameter, value) pairs), run ``p * reps + r`` seeded by :func:`run_seed`."""
    from sim.experiment_exec import Task
    from sim.experiment_specs import run_seed
    for p, pv in enumerate(points):
        for r in range(reps):
            run = p * reps + r
            if not done[run]:
                yield Task(run, p, r, run_seed(spec.seed, p, r, spec.common_seeds), pv)


def cmd_sweep(args) -> int:
    from sim.experiment_exec import leading_columns
    from sim.experiment_specs import campaign_hash, load_sweep_spec

    prep = load_sweep_spec(args.spec)
    spec = prep.spec
    params, reps = prep.parameters, prep.replications
    total = prep.n_points * reps
    stem = Path(args.spec).stem
    name = f"sweep-{stem}-{campaign_hash(prep)}"
    rerun = ["drypowder", "sweep", str(args.spec)] + (["--out", str(args.out)] if args.out is not None else [])
    payload = {"kind": "sweep", "base": prep.base.to_dict(), "series": None}

    def tasks(done):
        points = (tuple(zip(params, values)) for values in spec.points(prep.int_keys))
        return _point_tasks(points, reps, spec, done)

    manifest = _manifest("sweep", args, command=_cmdline(rerun), spec_source=str(Path(args.spec).resolve()),
                         spec=spec.model_dump(mode="json"), base_config_source=prep.base_path,
                         base_config=prep.base.to_dict(), base_config_hash=prep.base.digest(),
                         parameters=params, points=prep.n_points, replications=reps, runs=total,
                         root_seed=spec.seed, seeds=_seed_note(spec.common_seeds))
    spec_text = Path(args.spec).read_text(encoding="utf-8")

    def finalize(folder: Path, outcome) -> dict[str, Any]:
        return _finalize_sweep(folder, prep, total=total, args=args)

    return _campaign(args, kind="sweep", name=name, label=f"sweep {stem}", total=total, payload=payload, tasks=tasks,
                     manifest=manifest, rerun=rerun, leading=leading_columns("sweep", params), with_series=False,
                     finalize=finalize, extra_files={"spec.yaml": spec_text})


def _seed_note(common: bool) -> str:
    key = "(0, replication)" if common else "(point, replication)"
    return (f"run (point, replication) uses numpy.random.SeedSequence(root_seed, spawn_key={key}) -> "
            f"generate_state(2, uint32) -> (w0 << 32 | w1) mod 2**63")


def _finalize_sweep(folder: Path, prep, *, total: int, args) -> dict[str, Any]:
    import pandas as pd
    import pyarrow.parquet as pq

    from sim.experiment_exec import PartStore, consolidate, leading_columns
    from sim.experiment_stats import point_table, wilson_interval

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
    _write_table(pts, folder / "points.parquet")
    ok = df["status"] == "ok"
    crisis = df.loc[ok, "crisis"].astype(float) if "crisis" in df else pd.Series(dtype=float)
    lo, hi = wilson_interval(float(crisis.sum()), len(crisis))
    x = spec.plot.x or params[0]
    y = spec.plot.y or next((p for p in params if p != x), None)
    report = {
        "command": _cmdline(["drypowder", "sweep", str(args.spec)]), "spec": spec.model_dump(mode="json"),
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
    _write_json_atomic(report, folder / "report.json")
    if not args.no_figures:
        from sim import experiment_plots as ep
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


# =============================================================================================
# drypowder sensitivity
# =============================================================================================
def cmd_sensitivity(args) -> int:
    from sim.experiment_exec import leading_columns
    from sim.experiment_specs import campaign_hash, load_sensitivity_spec

    prep = load_sensitivity_spec(args.spec)
    spec = prep.spec
    params, reps = prep.parameters, prep.replications
    x = spec.sample()
    total = x.shape[0] * reps
    stem = Path(args.spec).stem
    name = f"sensitivity-{stem}-{campaign_hash(prep)}"
    rerun = ["drypowder", "sensitivity", str(args.spec)] + (["--out", str(args.out)] if args.out is not None else [])
    payload = {"kind": "sensitivity", "base": prep.base.to_dict(), "series": None}

    def tasks(done):
        points = (tuple((k, int(round(float(v))) if k in prep.int_keys else float(v)) for k, v in zip(params, row))
                  for row in x)
        return _point_tasks(points, reps, spec, done)

    manifest = _manifest("sensitivity", args, command=_cmdline(rerun), spec_source=str(Path(args.spec).resolve()),
                         spec=spec.model_dump(mode="json"), base_config_source=prep.base_path,
                         base_config=prep.base.to_dict(), base_config_hash=prep.base.digest(), parameters=params,
                         points=int(x.shape[0]), replications=reps, runs=total, root_seed=spec.seed,
                         seeds=_seed_note(spec.common_seeds),
                         sampling="Saltelli (SALib.sample.sobol)" if spec.method == "sobol" else "Morris trajectories")
    spec_text = Path(args.spec).read_text(encoding="utf-8")

    def finalize(folder: Path, outcome) -> dict[str, Any]:
        return _finalize_sensitivity(folder, prep, x, total=total, args=args)

    return _campaign(args, kind="sensitivity", name=name, label=f"sensitivity {stem}", total=total, payload=payload, tasks=tasks,
                     manifest=manifest, rerun=rerun, leading=leading_columns("sensitivity", params),
                     with_series=False, finalize=finalize, extra_files={"spec.yaml": spec_text})


def _finalize_sensitivity(folder: Path, prep, x, *, total: int, args) -> dict[str, Any]:
    import pandas as pd
    import pyarrow.parquet as pq

    from sim.experiment_exec import PartStore, consolidate, leading_columns
    from sim.experiment_stats import sensitivity_indices

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
    _write_json_atomic(doc, folder / "indices.json")
    if not args.no_figures:
        from sim import experiment_plots as ep
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


COMMANDS: dict[str, Callable[[Any], int]] = {"mc": cmd_mc, "sweep": cmd_sweep, "sensitivity": cmd_sensitivity}
