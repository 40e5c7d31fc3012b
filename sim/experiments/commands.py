"""The commands ``drypowder mc | sweep | sensitivity`` (docs/experiments.md).

Each command validates everything first (a bad spec or option is a :class:`SpecError`, exit
status 2, nothing written), then runs its simulations on an executor (in-process, local process
pool, Dask LocalCluster or a remote Dask scheduler), streaming result rows to part files in a
deterministic run folder, and finally consolidates them into Parquet tables, a report and figures.
An interrupted campaign (Ctrl-C, SIGTERM, a killed process) is finished with ``--resume``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from sim.config import ConfigError, load_config, parse_override, resolve_config_arg
from sim.experiments import campaign
from sim.experiments.campaign import Campaign, cmdline, new_manifest
from sim.experiments.finalize import finalize_mc, finalize_sensitivity, finalize_sweep
from sim.experiments.prepare import campaign_hash, load_sensitivity_spec, load_sweep_spec
from sim.experiments.seeds import MC_SEED_NOTE, run_seed_note
from sim.experiments.tasks import KEY_SERIES, point_tasks, replication_tasks
from sim.value_checks import folder_label

SERIES_FULL_MAX = 200          # mc: keep every replication's series up to this N, else quantiles
SERIES_COLUMNS = 60            # columns of model.parquet, at most (for the disk estimate)


def cmd_mc(args) -> int:
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
    columns = SERIES_COLUMNS if series == "all" else len(KEY_SERIES) + 2
    campaign.check_limits(args, cfg, n, series_bytes_per_run=(cfg.simulation.steps + 1) * columns * 8,
                          what=f"mc -n {n}")
    name = f"mc-{cfg.name}-s{root}-n{n}-{cfg.digest()[:8]}"
    rerun = ["drypowder", "mc", str(args.config or path), "-n", str(n), "--seed", str(root)]
    for text in args.set or []:
        rerun += ["--set", text]
    if args.out is not None:
        rerun += ["--out", str(args.out)]
    manifest = new_manifest("mc", command=cmdline(rerun), config_source=str(path), overrides=overrides,
                            config=cfg.to_dict(), config_hash=cfg.digest(), root_seed=root, replications=n,
                            seeds=MC_SEED_NOTE, series="all replications" if series == "all" else "per-step quantiles")

    def finalize(folder: Path, outcome) -> dict[str, Any]:
        return finalize_mc(folder, outcome, n=n, root=root, cfg=cfg, series=series, args=args, rerun=rerun)

    return campaign.run(args, Campaign(
        kind="mc", name=name, label=f"mc {cfg.name}", total=n,
        payload={"kind": "mc", "base": cfg.to_dict(), "series": series},
        tasks=lambda done: replication_tasks(n, root, done), manifest=manifest, rerun=rerun,
        with_series=True, finalize=finalize))


def cmd_sweep(args) -> int:
    prep = load_sweep_spec(args.spec)
    spec = prep.spec
    params, reps = prep.parameters, prep.replications
    total = prep.n_points * reps
    stem = folder_label(Path(args.spec).stem)
    campaign.check_limits(args, prep.limit_config, total, what=f"sweep {stem}")
    rerun = ["drypowder", "sweep", str(args.spec)] + (["--out", str(args.out)] if args.out is not None else [])

    def tasks(done):
        points = (tuple(zip(params, values)) for values in spec.points(prep.int_keys))
        return point_tasks(points, reps, spec.seed, spec.common_seeds, done)

    manifest = new_manifest("sweep", command=cmdline(rerun), spec_source=str(Path(args.spec).resolve()),
                            spec=spec.model_dump(mode="json"), base_config_source=prep.base_path,
                            base_config=prep.base.to_dict(), base_config_hash=prep.base.digest(),
                            parameters=params, points=prep.n_points, replications=reps, runs=total,
                            root_seed=spec.seed, seeds=run_seed_note(spec.common_seeds))
    spec_text = Path(args.spec).read_text(encoding="utf-8")

    def finalize(folder: Path, outcome) -> dict[str, Any]:
        return finalize_sweep(folder, prep, total=total, args=args)

    return campaign.run(args, Campaign(
        kind="sweep", name=f"sweep-{stem}-{campaign_hash(prep)}", label=f"sweep {stem}", total=total,
        payload={"kind": "sweep", "base": prep.base.to_dict(), "series": None}, tasks=tasks, manifest=manifest,
        rerun=rerun, with_series=False, finalize=finalize, extra_files={"spec.yaml": spec_text}))


def cmd_sensitivity(args) -> int:
    prep = load_sensitivity_spec(args.spec)
    spec = prep.spec
    params, reps = prep.parameters, prep.replications
    total = prep.n_points * reps
    stem = folder_label(Path(args.spec).stem)
    campaign.check_limits(args, prep.limit_config, total, what=f"sensitivity {stem}")
    x = spec.sample()
    if x.shape[0] != prep.n_points:
        raise RuntimeError(f"the {spec.method} sample has {x.shape[0]} points, not the {prep.n_points} counted")
    rerun = ["drypowder", "sensitivity", str(args.spec)] + (["--out", str(args.out)] if args.out is not None else [])

    def tasks(done):
        points = (tuple((k, int(round(float(v))) if k in prep.int_keys else float(v)) for k, v in zip(params, row))
                  for row in x)
        return point_tasks(points, reps, spec.seed, spec.common_seeds, done)

    manifest = new_manifest("sensitivity", command=cmdline(rerun), spec_source=str(Path(args.spec).resolve()),
                            spec=spec.model_dump(mode="json"), base_config_source=prep.base_path,
                            base_config=prep.base.to_dict(), base_config_hash=prep.base.digest(), parameters=params,
                            points=int(x.shape[0]), replications=reps, runs=total, root_seed=spec.seed,
                            seeds=run_seed_note(spec.common_seeds),
                            sampling="Saltelli (SALib.sample.sobol)" if spec.method == "sobol" else "Morris trajectories")
    spec_text = Path(args.spec).read_text(encoding="utf-8")

    def finalize(folder: Path, outcome) -> dict[str, Any]:
        return finalize_sensitivity(folder, prep, x, total=total, args=args)

    return campaign.run(args, Campaign(
        kind="sensitivity", name=f"sensitivity-{stem}-{campaign_hash(prep, x)}", label=f"sensitivity {stem}",
        total=total, payload={"kind": "sensitivity", "base": prep.base.to_dict(), "series": None}, tasks=tasks,
        manifest=manifest, rerun=rerun, with_series=False, finalize=finalize, extra_files={"spec.yaml": spec_text}))


COMMANDS: dict[str, Callable[[Any], int]] = {"mc": cmd_mc, "sweep": cmd_sweep, "sensitivity": cmd_sensitivity}
