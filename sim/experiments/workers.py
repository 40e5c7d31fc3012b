"""Local worker processes: what they import, how many threads they run, and that they end with
the command that started them.

Cheap to import (standard library only): the command line starts the worker server from here
before it imports numpy and the model for itself.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from multiprocessing import forkserver
from pathlib import Path

#: What every local worker process imports: loaded once by the forkserver, before it forks workers.
WORKER_PRELOAD = ["sim.experiments.tasks", "sim.model"]

#: The environment local worker processes start with: one BLAS (and OpenMP) thread each. A pool has
#: one worker per core it is given, so the BLAS library's own threads could only contend with the
#: other workers for the same cores, and in a forked worker a threaded product costs more than a
#: single-threaded one (benchmarks/README.md). Dask's nanny sets the same for its workers. Outputs
#: are the same either way: each dot product is summed by one thread.
WORKER_THREAD_LIMITS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

#: How often a worker checks that the command that started it is still alive, seconds.
PARENT_POLL_S = 0.5

#: Signals a terminal sends to the whole process group (Ctrl-C, a closed terminal). The command's
#: main process handles them (it stops, keeps finished runs and then ends its workers); the workers
#: ignore them. SIGTERM keeps its default in workers: the pool itself ends a worker with it.
TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGHUP)


def worker_count(args) -> int:
    return getattr(args, "workers", None) or os.cpu_count() or 1


def limit_worker_threads() -> dict[str, str]:
    """Put :data:`WORKER_THREAD_LIMITS` in the environment that worker processes inherit (a value the
    user set is kept) and return what the workers get. It must come before the forkserver starts:
    the server and the workers read it when they import numpy. This process's numpy is loaded
    already and keeps its threads."""
    for name, value in WORKER_THREAD_LIMITS.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in WORKER_THREAD_LIMITS}


def forkserver_available() -> bool:
    return "forkserver" in mp.get_all_start_methods()


def start_workers_early(args) -> bool:
    """Start the forkserver of the local process pool now, for a command that will run one (two or
    more workers, no ``--scheduler``; an ``mc`` of two runs or more). It imports the model for the
    workers (about 2 s) while this process is still importing what the command itself needs, so on
    two cores the two overlap instead of following each other. Returns whether it was started.
    The workers get one BLAS thread each (:func:`limit_worker_threads`)."""
    if getattr(args, "scheduler", None) is not None or worker_count(args) < 2 or getattr(args, "n", 2) < 2:
        return False
    if not forkserver_available():
        return False
    limit_worker_threads()
    mp.get_context("forkserver").set_forkserver_preload(WORKER_PRELOAD)
    ensure_forkserver()
    return True


def ensure_forkserver() -> None:
    """Start the worker server (if it is not running) with the terminal's signals ignored: it
    inherits that, so a Ctrl-C while it imports the model ends nothing and prints no traceback
    (the command's main process stops it, and it ignores SIGINT for good once it is up)."""
    if threading.current_thread() is not threading.main_thread():    # (signals belong to the main thread)
        forkserver.ensure_running()
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in TERMINAL_SIGNALS}
    try:
        forkserver.ensure_running()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# ---------------------------------------------------------------------------------------------
# Ending with the parent
# ---------------------------------------------------------------------------------------------
def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (Linux ``/proc``), or None if it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):               # dead: a zombie waiting for its own parent
        return None
    return fields[19]


def process_alive(pid: int, start_time: str | None = None) -> bool:
    """Whether ``pid`` is alive (and, given its start time, is still the same process)."""
    if Path("/proc/self/stat").exists():
        now = _start_time(pid)
        return now is not None and (start_time is None or now == start_time)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def watch_parent(pid: int, start_time: str | None, interval: float = PARENT_POLL_S) -> threading.Thread:
    """A daemon thread that ends this process (``os._exit``) within ``interval`` seconds of the
    death of process ``pid``, however it died: a worker never outlives its command, even after
    SIGKILL or the out-of-memory killer (which no handler in the parent can see)."""
    def watch() -> None:
        while True:
            time.sleep(interval)
            if not process_alive(pid, start_time):
                os._exit(1)

    thread = threading.Thread(target=watch, name="drypowder-parent-watch", daemon=True)
    thread.start()
    return thread


def parent_token() -> tuple[int, str | None]:
    """(pid, start time) of this process, handed to workers so that they can watch it."""
    pid = os.getpid()
    return pid, _start_time(pid)


def worker_init(parent_pid: int, parent_start: str | None) -> None:
    """Initializer of every local pool worker: ignore the terminal's signals (the parent stops the
    workers itself) and end with the parent."""
    for sig in TERMINAL_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    watch_parent(parent_pid, parent_start)
