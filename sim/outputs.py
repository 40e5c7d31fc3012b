"""Run folders: everything a run writes, written whole or not at all.

A run is written into a hidden temporary folder next to its destination and renamed into place
at the end, so an interrupted or failed run leaves nothing half-written in ``runs/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from sim.config import Config, ConfigError, dump_yaml
from sim.resources import SOURCE_CHECKOUT

#: Default parent of run folders: ``runs/`` under the current directory (a relative path, so it
#: follows the directory the command is run from, for a checkout and an installed package alike).
RUNS_DIR = Path("runs")


def package_version() -> str:
    try:
        return metadata.version("drypowder")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def git_revision() -> str | None:
    """The checkout's commit when drypowder runs from a source checkout; None for an installed package."""
    if SOURCE_CHECKOUT is None:
        return None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=SOURCE_CHECKOUT, capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def environment() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for pkg in ("mesa", "numpy", "pandas", "pyarrow", "networkx", "pydantic"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return versions


def check_writable(folder: Path) -> None:
    """Fail early, with a clear message, if ``folder`` cannot be created or written."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"output folder {folder} is not writable: {exc.strerror or exc}") from None


def unique_dir(parent: Path, name: str) -> Path:
    target = parent / name
    n = 2
    while target.exists():
        target = parent / f"{name}-{n}"
        n += 1
    return target


@contextlib.contextmanager
def atomic_dir(target: Path) -> Iterator[Path]:
    """Yield a temporary folder that becomes ``target`` only if the block completes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Deterministic Parquet: no index, fixed compression, no timestamps in the metadata."""
    df.reset_index(drop=True).to_parquet(path, index=False, compression="zstd", engine="pyarrow")


def write_json(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n", encoding="utf-8")


def _json_default(o: Any):
    import numpy as np
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_run(model, cfg: Config, out_parent: Path, *, argv: list[str] | None, timings: dict[str, float],
              overrides: dict[str, Any], source: str | None) -> Path:
    """Write the run folder of a finished model; returns its final path."""
    seed = model.seed_used
    target = unique_dir(Path(out_parent), f"{cfg.name}-s{seed}-{cfg.digest()[:8]}")
    t0 = time.perf_counter()
    with atomic_dir(target) as tmp:
        (tmp / "config.yaml").write_text(dump_yaml(cfg), encoding="utf-8")
        write_parquet(model.model_frame(), tmp / "model.parquet")
        write_parquet(model.agents_frame(), tmp / "agents.parquet")
        write_parquet(model.events_frame(), tmp / "events.parquet")
        summary = model.summary()
        write_json(summary, tmp / "summary.json")
        (tmp / "figures").mkdir()
        from sim.plots import dashboard
        dashboard(model.model_frame(), model.events_frame(), summary, tmp / "figures" / "dashboard.png")
        timings = {**timings, "write_s": time.perf_counter() - t0}
        manifest = {
            "run_id": target.name,
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
        write_json(manifest, tmp / "manifest.json")
    return target
