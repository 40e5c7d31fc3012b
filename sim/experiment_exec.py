"""Running many simulations: the per-run function, the executors and the streaming part store.

* :func:`run_task` runs one simulation and returns one flat result row (and, for Monte Carlo, its
  model-level series). It never raises for a model error: the row gets ``status="failed"``.
* Executors (:func:`make_executor`) run tasks in-process, on a local process pool or on Dask and
  yield rows as they finish. Rows depend only on the task, never on the executor or worker.
* :class:`PartStore` streams rows to ``parts/part-NNNNN.parquet`` (written under a temporary name
  and renamed, so every part file present is whole), recovers finished runs for ``--resume`` and
  consolidates the parts into one table sorted by run without loading everything at once.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections import deque
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from sim.config import load_config

CONNECT_TIMEOUT_S = 10.0
TIMING_COLUMNS = ("elapsed_s",)
STATUS_OK, STATUS_FAILED = "ok", "failed"
# Model-level series whose per-step quantiles are kept for Monte Carlo runs with N > 200.
KEY_SERIES = ("dry_powder_bn", "ust10y_pct", "ig_spread_bp", "price_crypto", "price_saas",
              "price_hyperscaler_equity", "price_neocloud_equity", "price_used_gpu", "fire_sales_bn",
              "defaults_total", "depletion")
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


class Task(NamedTuple):
    run: int                                  # row key: run index (sweeps) or replication (mc)
    point: int
    replication: int
    seed: int
    params: tuple[tuple[str, Any], ...] = ()


# =============================================================================================
# One run
# =============================================================================================
@lru_cache(maxsize=1)
def _version() -> str:
    from sim.outputs import package_version
    return package_version()


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


def flatten_summary(summary: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"max_drawdown": {"crypto": .3}} -> {"max_drawdown.crypto": .3}``; lists become 'a,b'."""
    out: dict[str, Any] = {}
    for k, v in summary.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten_summary(v, key + "."))
        else:
            out[key] = _scalar(v)
    return out


def leading_columns(kind: str, params: Iterable[str]) -> list[str]:
    head = ["replication"] if kind == "mc" else ["run", "point", *params, "replication"]
    return head + ["seed", "status", "error", "config_hash", "package_version"]


def base_row(task: Task, payload: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {} if payload["kind"] == "mc" else {"run": task.run, "point": task.point}
    row.update(dict(task.params))
    row.update(replication=task.replication, seed=task.seed, status=STATUS_OK, error=None, config_hash=None,
               package_version=_version())
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


def _simulate(cfg, series: Any):
    """Build and run one model; returns (summary dict, model-level series or None). Experiments keep
    no event log or agent rows (``detail=False``): neither is written, and skipping them saves about
    4% of a run."""
    from sim.model import DryPowderModel
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
        summary, frame = _simulate(cfg, payload.get("series"))
        for k, v in flatten_summary(summary).items():
            if k == "seed":
                continue
            row[k if k not in row else f"summary.{k}"] = v
    except Exception as exc:  # noqa: BLE001 - every model error becomes a failed row
        row["status"], row["error"], frame = STATUS_FAILED, describe_exception(exc), None
    row["elapsed_s"] = time.perf_counter() - t0
    return row, frame


# =============================================================================================
# Executors
# =============================================================================================
def _worker_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is handled by the main process


class InProcess:
    """Runs tasks one after the other in this process (``--workers 1`` without a scheduler)."""

    workers = 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def describe(self) -> dict[str, Any]:
        return {"kind": "in-process", "workers": 1}

    def results(self, tasks, payload, fn: Callable = run_task):
        for t in tasks:
            row, frame = fn(t, payload)
            yield t, row, frame


class ProcessPool:
    """A local ``ProcessPoolExecutor`` (forkserver, else spawn). A worker that dies breaks the pool:
    the tasks that were in flight are re-run once, each alone in a fresh one-worker pool, so an
    innocent task succeeds and the task that kills its worker twice is recorded as failed."""

    def __init__(self, workers: int):
        import multiprocessing as mp
        from sim.experiments import WORKER_PRELOAD, limit_worker_threads
        self.workers = workers
        self.thread_limits = limit_worker_threads()    # one BLAS thread per worker, set before they start
        methods = mp.get_all_start_methods()
        self.method = "forkserver" if "forkserver" in methods else "spawn"
        self.ctx = mp.get_context(self.method)
        if self.method == "forkserver":
            self.ctx.set_forkserver_preload(WORKER_PRELOAD)     # (already running if the command started it)
        self.pool = None
        self.retried = 0

    def _new_pool(self, n: int):
        from concurrent.futures import ProcessPoolExecutor
        return ProcessPoolExecutor(max_workers=n, mp_context=self.ctx, initializer=_worker_init)

    def __enter__(self):
        self.pool = self._new_pool(self.workers)
        return self

    def abort(self) -> None:
        """Stop now (Ctrl-C): terminate the workers instead of waiting for the runs in flight."""
        if self.pool is not None:
            for p in list((getattr(self.pool, "_processes", None) or {}).values()):
                try:
                    p.terminate()
                except Exception:  # noqa: BLE001
                    pass
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    def __exit__(self, exc_type, *exc):
        if exc_type is not None:
            self.abort()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        return False

    def describe(self) -> dict[str, Any]:
        return {"kind": "process-pool", "workers": self.workers, "start_method": self.method,
                "blas_threads_per_worker": self.thread_limits["OPENBLAS_NUM_THREADS"]}

    def _isolated(self, task, payload, fn):
        from concurrent.futures.process import BrokenProcessPool
        self.retried += 1
        pool = self._new_pool(1)
        try:
            return pool.submit(fn, task, payload).result()
        except BrokenProcessPool:
            return failed_row(task, payload, "worker process died while running this task "
                                             "(retried once in a fresh process; died again)"), None
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def results(self, tasks, payload, fn: Callable = run_task):
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool
        it = iter(tasks)
        backlog: deque = deque()
        pending: dict = {}
        window = 2 * self.workers
        exhausted = False
        while True:
            while len(pending) < window and (backlog or not exhausted):
                if backlog:
                    t = backlog.popleft()
                else:
                    t = next(it, None)
                    if t is None:
                        exhausted = True
                        break
                try:
                    pending[self.pool.submit(fn, t, payload)] = t
                except BrokenProcessPool:
                    backlog.appendleft(t)
                    break
            if not pending:
                if backlog:     # the pool broke before anything was in flight
                    self.pool.shutdown(wait=True, cancel_futures=True)
                    self.pool = self._new_pool(self.workers)
                    continue
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            lost = []
            for f in sorted(done, key=lambda f: pending[f].run):
                t = pending.pop(f)
                try:
                    row, frame = f.result()
                except BrokenProcessPool:
                    lost.append(t)
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
                    row, frame = failed_row(t, payload, describe_exception(exc)), None
                yield t, row, frame
            if lost:
                # The pool is broken: every task still in flight is lost with it. Re-run each once.
                lost.extend(pending.values())
                pending.clear()
                self.pool.shutdown(wait=True, cancel_futures=True)
                for t in sorted(lost, key=lambda t: t.run):
                    row, frame = self._isolated(t, payload, fn)
                    yield t, row, frame
                self.pool = self._new_pool(self.workers)


class DaskExecutor:
    """Dask: ``local`` starts a LocalCluster on 127.0.0.1 (processes, one thread each, no
    dashboard); an address connects to a running scheduler. A task whose worker dies is retried
    by the scheduler (once, for the local cluster) and then recorded as failed."""

    def __init__(self, workers: int, scheduler: str):
        self.workers = workers
        self.scheduler = scheduler
        self.client = None
        self.cluster = None
        self._cfg = None

    def __enter__(self):
        import dask
        from distributed import Client, LocalCluster   # first: it loads the distributed.* defaults
        self._cfg = dask.config.set({"distributed.scheduler.allowed-failures": 1})
        self._cfg.__enter__()
        try:
            if self.scheduler == "local":
                self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                            host="127.0.0.1", scheduler_port=0, dashboard_address=None,
                                            worker_dashboard_address=None, silence_logs=logging.ERROR)
                self.client = Client(self.cluster, set_as_default=False)
            else:
                try:
                    self.client = Client(self.scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
                except (OSError, TimeoutError) as exc:
                    from sim.experiment_specs import SpecError
                    raise SpecError(f"cannot reach the Dask scheduler at {self.scheduler} "
                                    f"(waited {CONNECT_TIMEOUT_S:g}s): {exc}") from None
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, *exc):
        for obj in (self.client, self.cluster):
            if obj is not None:
                try:
                    obj.close()
                except Exception:  # noqa: BLE001
                    pass
        self.client = self.cluster = None
        if self._cfg is not None:
            self._cfg.__exit__(None, None, None)
            self._cfg = None
        return False

    def n_workers(self) -> int:
        try:
            return len(self.client.scheduler_info()["workers"])
        except Exception:  # noqa: BLE001
            return self.workers

    def describe(self) -> dict[str, Any]:
        if self.scheduler == "local":
            return {"kind": "dask-local", "workers": self.workers}
        return {"kind": "dask", "scheduler": self.scheduler, "workers": self.n_workers()}

    def results(self, tasks, payload, fn: Callable = run_task):
        from distributed import as_completed
        nw = self.n_workers()
        if nw == 0:
            print(f"note: the Dask scheduler at {self.scheduler} has no workers yet; tasks wait for them",
                  file=sys.stderr)
        window = max(16, 4 * max(nw, 1))
        it = iter(tasks)
        inflight: dict[str, Task] = {}
        ac = as_completed(loop=self.client.loop)

        def fill():
            while len(inflight) < window:
                t = next(it, None)
                if t is None:
                    return
                f = self.client.submit(fn, t, payload, pure=False)
                inflight[f.key] = t
                ac.add(f)

        def lost(f) -> str:
            try:
                exc = f.exception()
            except Exception as e:  # noqa: BLE001 - e.g. a cancelled future
                exc = e
            return f"{type(exc).__name__}: {exc}" if exc is not None else f"task {f.status}"

        def outcome(f, t, retried: bool):
            if f.status == "finished":
                try:
                    return f.result()
                except Exception as exc:  # noqa: BLE001
                    return failed_row(t, payload, describe_exception(exc)), None
            if not retried:
                return None
            return failed_row(t, payload, f"worker died while running this task (retried alone; died again): "
                                          f"{lost(f)}"), None

        # A worker death also fails the tasks queued on that worker; those are re-run once, one at a
        # time, at the end, so an innocent task succeeds and only a task that kills workers fails.
        suspects: list[Task] = []
        fill()
        for f in ac:
            t = inflight.pop(f.key)
            res = outcome(f, t, retried=False)
            f.release()
            if res is None:
                suspects.append(t)
            else:
                yield t, res[0], res[1]
            fill()
        for t in sorted(suspects, key=lambda t: t.run):
            f = self.client.submit(fn, t, payload, pure=False)
            try:
                f.result()          # wait for it (errors are read by outcome())
            except Exception:  # noqa: BLE001
                pass
            row, frame = outcome(f, t, retried=True)
            f.release()
            yield t, row, frame


def check_scheduler(text: str | None) -> str | None:
    from sim.experiment_specs import SpecError
    if text is None or text == "local":
        return text
    addr = text if "://" in text else f"tcp://{text}"
    scheme, _, rest = addr.partition("://")
    host, _, port = rest.rpartition(":")
    if scheme not in ("tcp", "tls", "ws", "wss", "inproc", "ucx") or not host or not port.isdigit():
        raise SpecError(f"--scheduler must be 'local' or a Dask scheduler address like tcp://10.0.0.5:8786 "
                        f"(got {text!r})")
    return addr


def make_executor(workers: int, scheduler: str | None, n_tasks: int | None = None):
    if scheduler is not None:
        return DaskExecutor(workers if scheduler != "local" or n_tasks is None else max(1, min(workers, n_tasks)),
                            scheduler)
    w = workers if n_tasks is None else max(1, min(workers, n_tasks))
    return InProcess() if w == 1 else ProcessPool(w)


# =============================================================================================
# Part files: streaming, recovery, consolidation
# =============================================================================================
def _atomic_write_table(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _table_from_rows(rows: list[dict[str, Any]]) -> pa.Table:
    keys: dict[str, None] = {}
    for r in rows:
        for k in r:
            keys.setdefault(k, None)
    cols = {}
    for k in keys:
        vals = [r.get(k) for r in rows]
        try:
            cols[k] = pa.array(vals)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            cols[k] = pa.array([None if v is None else str(v) for v in vals], type=pa.string())
    return pa.table(cols)


def _part_index(p: Path) -> int:
    return int(p.stem.split("-")[1])


class PartStore:
    """Result rows (and optional series frames) streamed to numbered part files."""

    def __init__(self, folder: Path, key: str, total: int, with_series: bool = False):
        self.folder = Path(folder)
        self.key = key
        self.total = total
        self.with_series = with_series
        self.dir = self.folder / "parts"
        self.sdir = self.folder / "series_parts"
        self.rows: list[dict[str, Any]] = []
        self.frames: list = []
        self.next_index = 0
        self.last_flush = time.monotonic()

    def parts(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.parquet"), key=_part_index) if self.dir.exists() else []

    def series_parts(self) -> list[Path]:
        return sorted(self.sdir.glob("part-*.parquet"), key=_part_index) if self.sdir.exists() else []

    def recover(self) -> tuple[np.ndarray, int]:
        """Clean leftovers of a killed run; returns (mask of finished runs, number failed)."""
        for d in (self.dir, self.sdir):
            d.mkdir(parents=True, exist_ok=True)
            for tmp in d.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
        done = np.zeros(self.total, dtype=bool)
        failed = 0
        indices = set()
        for p in self.parts():
            t = pq.read_table(p, columns=[self.key, "status"])
            keys = t.column(self.key).to_numpy()
            fresh = ~done[keys]
            done[keys] = True
            failed += int(np.sum((t.column("status").to_numpy(zero_copy_only=False) == STATUS_FAILED) & fresh))
            indices.add(_part_index(p))
        for p in self.series_parts():     # series written, results not: the runs will be redone
            if _part_index(p) not in indices:
                p.unlink()
        all_idx = indices | {_part_index(p) for p in self.series_parts()}
        self.next_index = max(all_idx) + 1 if all_idx else 0
        return done, failed

    def add(self, row: dict[str, Any], frame=None) -> None:
        self.rows.append(row)
        if self.with_series and frame is not None:
            frame = frame.copy()
            frame.insert(0, "replication", row["replication"])
            self.frames.append(frame)

    def due(self, batch: int, seconds: float) -> bool:
        return len(self.rows) >= batch or (self.rows and time.monotonic() - self.last_flush >= seconds)

    def flush(self) -> None:
        if self.rows:
            name = f"part-{self.next_index:05d}.parquet"
            if self.with_series and self.frames:   # series first: a results part implies its series
                import pandas as pd
                sf = pd.concat(self.frames, ignore_index=True).sort_values(["replication", "step"], kind="stable")
                _atomic_write_table(pa.Table.from_pandas(sf, preserve_index=False), self.sdir / name)
            rows = sorted(self.rows, key=lambda r: r[self.key])
            _atomic_write_table(_table_from_rows(rows), self.dir / name)
            self.next_index += 1
        self.rows, self.frames = [], []
        self.last_flush = time.monotonic()

    def remove_parts(self) -> None:
        import shutil
        for d in (self.dir, self.sdir):
            shutil.rmtree(d, ignore_errors=True)


def _unified(paths: list[Path]) -> pa.Schema:
    return pa.unify_schemas([pq.read_schema(p) for p in paths], promote_options="permissive")


def consolidate(paths: list[Path], out: Path, key: str, total: int, leading: list[str],
                chunk: int = 100_000) -> int:
    """Merge part files into ``out`` sorted by ``key`` (deduplicated), chunk by chunk of keys so
    that memory stays bounded; columns: ``leading``, then metrics, then timings. Returns rows."""
    import pyarrow.dataset as ds      # the main process only: workers never import it
    schema = _unified(paths)
    names = schema.names
    trailing = [c for c in TIMING_COLUMNS if c in names]
    head = [c for c in leading if c in names]
    order = head + [c for c in names if c not in head and c not in trailing] + trailing
    fields = []
    for name in order:
        f = schema.field(name)
        if pa.types.is_null(f.type):
            f = f.with_type(pa.string() if name in ("error", "config_hash") else pa.float64())
        fields.append(f)
    target = pa.schema(fields)
    dataset = ds.dataset([str(p) for p in paths], schema=schema, format="parquet")
    tmp = out.with_name(f".{out.name}.tmp")
    n = 0
    with pq.ParquetWriter(tmp, target, compression="zstd") as writer:
        for lo in range(0, max(total, 1), chunk):
            flt = (ds.field(key) >= lo) & (ds.field(key) < lo + chunk)
            t = dataset.to_table(filter=flt).select(order).sort_by(key)
            if t.num_rows == 0:
                continue
            keys = t.column(key).to_numpy()
            keep = np.ones(len(keys), dtype=bool)
            keep[1:] = keys[1:] != keys[:-1]
            if not keep.all():
                t = t.filter(pa.array(keep))
            writer.write_table(t.cast(target))
            n += t.num_rows
    os.replace(tmp, out)
    return n


def consolidate_series_full(paths: list[Path], out: Path) -> None:
    """All per-replication series (small N): one table sorted by (replication, step)."""
    import pyarrow.dataset as ds
    schema = _unified(paths)
    t = ds.dataset([str(p) for p in paths], schema=schema, format="parquet").to_table()
    t = t.sort_by([("replication", "ascending"), ("step", "ascending")])
    keys = np.stack([t.column("replication").to_numpy(), t.column("step").to_numpy()])
    keep = np.ones(t.num_rows, dtype=bool)
    keep[1:] = (keys[:, 1:] != keys[:, :-1]).any(axis=0)
    _atomic_write_table(t.filter(pa.array(keep)) if not keep.all() else t, out)


def series_quantiles(paths: list[Path], n_runs: int, columns: list[str] | None = None,
                     budget_bytes: int = 64 * 2**20):
    """Per-step quantiles (5, 25, 50, 75, 95), mean and count of each series, streamed step-block by
    step-block from the series part files (memory ~ budget, whatever the number of runs)."""
    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pandas as pd
    schema = _unified(paths)
    dataset = ds.dataset([str(p) for p in paths], schema=schema, format="parquet")
    cols = [c for c in (columns or [c for c in schema.names if c not in ("replication", "step")])
            if c in schema.names]
    steps = dataset.to_table(columns=["step"]).column("step")
    s_min, s_max = int(pc.min(steps).as_py()), int(pc.max(steps).as_py())
    del steps
    per_step = max(1, budget_bytes // max(1, 8 * (len(cols) + 2) * max(n_runs, 1)))
    out = []
    for lo in range(s_min, s_max + 1, per_step):
        hi = lo + per_step
        t = dataset.to_table(columns=["replication", "step", *cols],
                             filter=(ds.field("step") >= lo) & (ds.field("step") < hi))
        df = t.to_pandas().sort_values(["step", "replication"], kind="stable")
        for step, g in df.groupby("step", sort=True):
            for c in cols:
                v = g[c].to_numpy(dtype=float)
                v = v[np.isfinite(v)]
                rec = {"series": c, "step": int(step), "n": int(v.size),
                       "mean": float(v.mean()) if v.size else np.nan}
                qs = np.quantile(v, QUANTILES) if v.size else [np.nan] * len(QUANTILES)
                rec.update({f"q{int(round(q * 100)):02d}": float(x) for q, x in zip(QUANTILES, qs)})
                out.append(rec)
    res = pd.DataFrame(out)
    if len(res):
        res["series"] = pd.Categorical(res["series"], categories=cols, ordered=True)
        res = res.sort_values(["series", "step"]).reset_index(drop=True)
        res["series"] = res["series"].astype(str)
    return res


def quantiles_from_frame(df, columns: list[str]):
    """The same quantile table from an in-memory long frame (replication, step, series...)."""
    import pandas as pd
    out = []
    df = df.sort_values(["step", "replication"], kind="stable")
    for c in columns:
        if c not in df.columns:
            continue
        for step, g in df.groupby("step", sort=True):
            v = g[c].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            rec = {"series": c, "step": int(step), "n": int(v.size), "mean": float(v.mean()) if v.size else np.nan}
            qs = np.quantile(v, QUANTILES) if v.size else [np.nan] * len(QUANTILES)
            rec.update({f"q{int(round(q * 100)):02d}": float(x) for q, x in zip(QUANTILES, qs)})
            out.append(rec)
    return pd.DataFrame(out)


# =============================================================================================
# The campaign loop
# =============================================================================================
class Outcome(NamedTuple):
    done: int           # runs finished (this session and before)
    failed: int
    total: int
    interrupted: bool
    wall_s: float
    run_s: float        # sum of run times this session


def run_campaign(store: PartStore, tasks: Callable[[np.ndarray], Iterator[Task]], payload: dict[str, Any],
                 executor, *, fn: Callable = run_task, batch_size: int = 200, flush_seconds: float = 30.0,
                 quiet: bool = False, desc: str = "runs") -> Outcome:
    """Run every task not yet in ``store`` on ``executor`` (already entered); stream rows to part
    files; stop cleanly on Ctrl-C or SIGTERM (rows finished so far are kept)."""
    from tqdm import tqdm
    done_mask, failed = store.recover()
    done0 = int(done_mask.sum())
    done = done0
    t0 = time.perf_counter()
    run_s = 0.0
    interrupted = False
    old_term = None
    if threading.current_thread() is threading.main_thread():
        def _term(signum, frame):
            raise KeyboardInterrupt
        old_term = signal.signal(signal.SIGTERM, _term)
    bar = tqdm(total=store.total, initial=done0, desc=desc, unit="run", file=sys.stderr, disable=quiet,
               dynamic_ncols=True, mininterval=0.5, smoothing=0.05)
    try:
        if done < store.total:
            for task, row, frame in executor.results(tasks(done_mask), payload, fn):
                store.add(row, frame)
                done += 1
                run_s += float(row.get("elapsed_s") or 0.0)
                if row.get("status") == STATUS_FAILED:
                    failed += 1
                    bar.set_postfix(failed=failed, refresh=False)
                bar.update(1)
                if store.due(batch_size, flush_seconds):
                    store.flush()
    except KeyboardInterrupt:
        interrupted = True
        abort = getattr(executor, "abort", None)
        if abort is not None:
            abort()
    finally:
        try:
            store.flush()
        finally:
            bar.close()
            if old_term is not None:
                signal.signal(signal.SIGTERM, old_term)
    return Outcome(done=done, failed=failed, total=store.total, interrupted=interrupted,
                   wall_s=time.perf_counter() - t0, run_s=run_s)


__all__ = ["Task", "run_task", "flatten_summary", "make_executor", "PartStore", "consolidate", "run_campaign"]
