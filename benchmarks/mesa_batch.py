"""Mesa's own ``batch_run`` on the grid and seeds of a ``drypowder sweep`` spec (used by run.py).

    python benchmarks/mesa_batch.py SPEC.yaml --processes 2 --out rows.json

The spec must set ``common_seeds: true``: replication r then runs with the same seed at every
grid point, which is how ``batch_run`` seeds (one ``rng`` list for every parameter combination),
so both tools run exactly the same simulations. Rows are kept in memory, as batch_run does, and
written at the end (grid values, seed and the final-step model variables).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def grid_and_seeds(spec_path: Path) -> tuple[dict, list[int], dict, int]:
    """(grid {key: values}, seeds per replication, base overrides, steps) of a sweep spec."""
    import yaml

    from sim.config import load_config, resolve_config_arg
    from sim.experiments.seeds import run_seed
    spec = yaml.safe_load(Path(spec_path).read_text(encoding="utf-8"))
    if not spec.get("common_seeds"):
        raise SystemExit("the spec must set common_seeds: true (batch_run uses one seed list for every point)")
    grid = {}
    for key, values in spec["grid"].items():
        if isinstance(values, dict):
            import numpy as np
            values = np.linspace(values["low"], values["high"], values["num"]).tolist()
        grid[key] = list(values)
    seeds = [run_seed(int(spec.get("seed", 0)), 0, r, common=True) for r in range(int(spec.get("replications", 4)))]
    overrides = dict(spec.get("overrides") or {})
    base = spec.get("base", "baseline")
    steps = load_config(resolve_config_arg(base), overrides).simulation.steps
    return grid, seeds, overrides, steps


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("spec", type=Path)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--out", type=Path, help="write the rows (JSON) here")
    args = p.parse_args(argv)

    import mesa

    from sim.model import DryPowderModel
    grid, seeds, overrides, steps = grid_and_seeds(args.spec)
    t0 = time.perf_counter()
    # detail=False as `drypowder sweep` builds its models: no event log or agent rows, the same runs
    rows = mesa.batch_run(DryPowderModel, parameters={**overrides, **grid, "detail": False},
                          number_processes=args.processes,
                          rng=seeds, max_steps=steps, data_collection_period=-1, display_progress=False)
    wall = time.perf_counter() - t0
    keys = [*grid, "rng", "Step", "ai_revenue_bn", "dry_powder_bn", "ig_spread_bp"]
    slim = [{k: r.get(k) for k in keys} for r in rows]
    if args.out:
        args.out.write_text(json.dumps({"wall_s": wall, "rows": slim}), encoding="utf-8")
    print(f"batch_run: {len(rows)} rows in {wall:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
