"""Run folders: everything ``drypowder run`` writes, written whole or not at all.

A run is written into a hidden temporary folder inside ``--out`` and renamed into place at the end
(:mod:`sim.atomic`), so an interrupted or failed run (Ctrl-C, disk full) leaves nothing
half-written; two runs finishing at once into one folder both keep their results (the second gets
the next free ``-2`` name). The folder name is built from the config's validated ``name`` and is
checked to stay inside ``--out``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from sim import jsonio
from sim.atomic import check_inside, publish_dir, staging_dir
from sim.config import Config, dump_yaml
from sim.folders import make_folder
from sim.plots import dashboard
from sim.provenance import environment, git_revision, package_version

def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Deterministic Parquet: no index, fixed compression, no timestamps in the metadata."""
    df.reset_index(drop=True).to_parquet(path, index=False, compression="zstd", engine="pyarrow")


def write_json(obj: Any, path: Path) -> None:
    path.write_text(jsonio.dumps(obj, finite=False), encoding="utf-8")


def run_folder_name(cfg: Config, seed: int) -> str:
    return f"{cfg.name}-s{seed}-{cfg.digest()[:8]}"


def write_run(model, cfg: Config, out_parent: Path, *, argv: list[str] | None, timings: dict[str, float],
              overrides: dict[str, Any], source: str | None) -> Path:
    """Write the run folder of a finished model; returns its final path."""
    seed = model.seed_used
    parent = make_folder(out_parent)
    name = run_folder_name(cfg, seed)
    check_inside(parent, parent / name)
    t0 = time.perf_counter()
    with staging_dir(parent, name) as tmp:
        (tmp / "config.yaml").write_text(dump_yaml(cfg), encoding="utf-8")
        write_parquet(model.model_frame(), tmp / "model.parquet")
        write_parquet(model.agents_frame(), tmp / "agents.parquet")
        write_parquet(model.events_frame(), tmp / "events.parquet")
        summary = model.summary()
        write_json(summary, tmp / "summary.json")
        (tmp / "figures").mkdir()
        dashboard(model.model_frame(), model.events_frame(), summary, tmp / "figures" / "dashboard.png")
        timings = {**timings, "write_s": time.perf_counter() - t0}
        fields = {
            "seed": seed,
            "steps": int(model.steps),
            "config_hash": cfg.digest(),
            "config": cfg.to_dict(),
            "config_source": source,
            "overrides": overrides,
            "package_version": package_version(),
            "git_revision": git_revision(),
            "environment": environment(),
            "command": argv,
            "timings_s": timings,
        }

        def stamp(run_id: str) -> None:             # the folder's final name, recorded inside it
            write_json({"run_id": run_id, **fields}, tmp / "manifest.json")

        return publish_dir(tmp, parent, name, stamp)
