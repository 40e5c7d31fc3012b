"""Executors: run tasks in this process, on a local process pool or on Dask, and yield
``(task, row, series)`` as runs finish. Rows depend only on the task, never on the executor.

A worker that dies (a segfault, the out-of-memory killer) never loses a task silently: what it had
in flight is re-run once, alone, and recorded as failed if it dies again.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import sys
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable

from sim.experiments.errors import SpecError
from sim.experiments.tasks import Task, describe_exception, failed_row, run_task
from sim.experiments.workers import WORKER_PRELOAD, ensure_forkserver, limit_worker_threads, parent_token, \
    worker_init
from sim.interrupts import stop_requested

CONNECT_TIMEOUT_S = 10.0


# =============================================================================================
# Executors
# =============================================================================================
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
        self.workers = workers
        self.thread_limits = limit_worker_threads()    # one BLAS thread per worker, set before they start
        methods = mp.get_all_start_methods()
        self.method = "forkserver" if "forkserver" in methods else "spawn"
        self.ctx = mp.get_context(self.method)
        if self.method == "forkserver":
            self.ctx.set_forkserver_preload(WORKER_PRELOAD)     # (already running if the command started it)
        self.pool = None
        self.side_pool = None          # the one-worker pool of a task being re-run alone
        self.retried = 0

    def _new_pool(self, n: int):
        return ProcessPoolExecutor(max_workers=n, mp_context=self.ctx, initializer=worker_init,
                                   initargs=parent_token())

    def __enter__(self):
        if self.method == "forkserver":
            ensure_forkserver()
        self.pool = self._new_pool(self.workers)
        return self

    def abort(self) -> None:
        """Stop now (Ctrl-C): terminate the workers instead of waiting for the runs in flight."""
        for pool in (self.pool, self.side_pool):
            if pool is None:
                continue
            for p in list((getattr(pool, "_processes", None) or {}).values()):
                try:
                    p.terminate()
                except Exception:  # noqa: BLE001
                    pass
            pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self.side_pool = None

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
        if stop_requested():        # the workers died of the signal that stops the command: no retry
            raise KeyboardInterrupt
        self.retried += 1
        self.side_pool = pool = self._new_pool(1)
        try:
            return pool.submit(fn, task, payload).result()
        except BrokenProcessPool:
            return failed_row(task, payload, "worker process died while running this task "
                                             "(retried once in a fresh process; died again)"), None
        finally:
            if self.side_pool is pool:
                pool.shutdown(wait=True, cancel_futures=True)
                self.side_pool = None

    def results(self, tasks, payload, fn: Callable = run_task):
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
        # Dask is imported only when it is used: it adds about 0.6 s to the start of a command
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
        from distributed import as_completed          # (imported by __enter__ already)
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


def make_executor(workers: int, scheduler: str | None, n_tasks: int | None = None):
    if scheduler is not None:
        return DaskExecutor(workers if scheduler != "local" or n_tasks is None else max(1, min(workers, n_tasks)),
                            scheduler)
    w = workers if n_tasks is None else max(1, min(workers, n_tasks))
    return InProcess() if w == 1 else ProcessPool(w)
