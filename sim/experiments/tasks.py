"""One task, one simulation, one result row.

:func:`run_task` runs in a worker process. It never raises for a model error: the row gets
``status="failed"`` and the error, and the campaign goes on. Rows depend only on the task, never
on the executor or the worker.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

import numpy as np

from sim.config import flatten_dotted, load_config
from sim.experiments.seeds import replication_seed, run_seed
from sim.model import DryPowderModel
from sim.provenance import package_version

STATUS_OK, STATUS_FAILED = "ok", "failed"
# Model-level series whose per-step quantiles are kept for Monte Carlo runs with N > 200.
KEY_SERIES = ("dry_powder_bn", "ust10y_pct", "ig_spread_bp", "price_crypto", "price_saas",
              "price_hyperscaler_equity", "price_neocloud_equity", "price_used_gpu", "fire_sales_bn",
              "defaults_total", "depletion")


class Task(NamedTuple):
    run: int                                  # row key: run index (sweeps) or replication (mc)
    point: int
    replication: int
    seed: int
    params: tuple[tuple[str, Any], ...] = ()


# =============================================================================================
# The designs as tasks
# =============================================================================================
def replication_tasks(n: int, root: int, done: np.ndarray) -> Iterator[Task]:
    """Monte Carlo: replication i (not yet done) seeded by :func:`replication_seed`."""
    for i in range(n):
        if not done[i]:
            yield Task(i, 0, i, replication_seed(root, i))


def point_tasks(points: Iterable[tuple[tuple[str, Any], ...]], reps: int, root: int, common: bool,
                done: np.ndarray) -> Iterator[Task]:
    """The runs still to do of a design: ``reps`` replications of every point (a tuple of
    (parameter, value) pairs), run ``p * reps + r`` seeded by :func:`run_seed`."""
    for p, pv in enumerate(points):
        for r in range(reps):
            run = p * reps + r
            if not done[run]:
                yield Task(run, p, r, run_seed(root, p, r, common), pv)


# =============================================================================================
# Rows
# =============================================================================================
def _scalar(v: Any) -> Any:
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, (list, tuple, set)):
        return ",".join(str(x) for x in v)
    return str(v)


def flatten_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """``{"max_drawdown": {"crypto": .3}} -> {"max_drawdown.crypto": .3}``; lists become 'a,b'."""
    return {k: _scalar(v) for k, v in flatten_dotted(summary, keep_empty=False).items()}


def leading_columns(kind: str, params: Iterable[str]) -> list[str]:
    head = ["replication"] if kind == "mc" else ["run", "point", *params, "replication"]
    return head + ["seed", "status", "error", "config_hash", "package_version"]


def base_row(task: Task, payload: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {} if payload["kind"] == "mc" else {"run": task.run, "point": task.point}
    row.update(dict(task.params))
    row.update(replication=task.replication, seed=task.seed, status=STATUS_OK, error=None, config_hash=None,
               package_version=package_version())
    return row


def failed_row(task: Task, payload: dict[str, Any], error: str) -> dict[str, Any]:
    row = base_row(task, payload)
    row.update(status=STATUS_FAILED, error=error, elapsed_s=0.0)
    return row


def describe_exception(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    tb = traceback.extract_tb(exc.__traceback__)
    if tb:
        last = tb[-1]
        text += f" (at {Path(last.filename).name}:{last.lineno} in {last.name})"
    return text


# =============================================================================================
# One run
# =============================================================================================
def simulate(cfg, series: Any):
    """Build and run one model; returns (summary dict, model-level series or None). Experiments keep
    no event log or agent rows (``detail=False``): neither is written, and skipping them saves about
    4% of a run."""
    model = DryPowderModel(cfg, detail=False)
    try:
        model.run()
        summary = model.summary()
        frame = None
        if series:
            frame = model.model_frame(None if series == "all" else ("step", *series))
    finally:
        model.close()          # memory back now, not at the next full garbage collection
    return summary, frame


def run_task(task: Task, payload: dict[str, Any]):
    """Run one simulation; returns ``(row, series_frame_or_None)``. Model errors give a failed row."""
    t0 = time.perf_counter()
    row = base_row(task, payload)
    frame = None
    try:
        cfg = load_config(payload["base"], {**dict(task.params), "seed": task.seed})
        row["config_hash"] = cfg.digest()
        summary, frame = simulate(cfg, payload.get("series"))
        for k, v in flatten_summary(summary).items():
            if k == "seed":
                continue
            row[k if k not in row else f"summary.{k}"] = v
    except Exception as exc:  # noqa: BLE001 - every model error becomes a failed row
        row["status"], row["error"], frame = STATUS_FAILED, describe_exception(exc), None
    row["elapsed_s"] = time.perf_counter() - t0
    return row, frame
