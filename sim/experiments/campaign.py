"""A campaign: the runs of one ``mc``, ``sweep`` or ``sensitivity`` command, run into their folder.

:func:`run_campaign` streams the rows of the tasks not yet done to the part store and stops
cleanly on Ctrl-C, SIGTERM, SIGHUP or a refused write (rows finished so far are kept and counted). :func:`run` wraps it with what every
command shares: the folder (new, resumed or already complete), the lock, the manifest and its
sessions, and the final consolidation by the command's ``finalize``.
"""

from __future__ import annotations

import shlex
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np
from tqdm import tqdm

from sim.atomic import atomic_write_text
from sim.config import Config
from sim.experiments.errors import SpecError
from sim.experiments.executors import make_executor
from sim.experiments.options import check_scheduler
from sim.experiments.store import FolderLock, PartStore, open_folder, read_manifest, write_manifest
from sim.experiments.tasks import STATUS_FAILED, Task, run_task
from sim.experiments.workers import worker_count
from sim.failures import print_error, resource_problem
from sim.folders import RUNS_DIR, check_writable
from sim.limits import check_campaign
from sim.provenance import versions

EXIT_REFUSED, EXIT_INTERRUPTED = 2, 130


def create_folder(folder: Path, kind: str) -> None:
    """Create a new campaign folder; another process that created it first wins, cleanly."""
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        raise SpecError(f"another process has just started this {kind} in {folder}; wait for it, or "
                        f"pass --resume once it has stopped") from None


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def cmdline(parts: list[str]) -> str:
    return " ".join(shlex.quote(str(p)) for p in parts)


def new_manifest(kind: str, **fields) -> dict[str, Any]:
    return {"kind": kind, "status": "running", "started_utc": now_utc(), "argv": sys.argv[1:], **fields,
            **versions()}


def batch_size(args, total: int) -> int:
    return args.batch_size or max(20, min(2000, total // 20))


def output_parent(args) -> Path:
    return Path(args.out) if args.out is not None else RUNS_DIR


def check_limits(args, cfg: Config, runs: int, *, series_bytes_per_run: int = 0, what: str) -> None:
    """Everything a campaign needs checked before it starts: the scheduler's address, the output
    folder, and the memory, time and disk its runs need (:mod:`sim.limits`)."""
    scheduler = check_scheduler(args.scheduler)
    check_writable(output_parent(args))
    check_campaign(cfg, runs=runs, workers=worker_count(args), local=scheduler in (None, "local"),
                   out=output_parent(args), series_bytes_per_run=series_bytes_per_run, what=what)


# =============================================================================================
# The loop
# =============================================================================================
class Outcome(NamedTuple):
    done: int           # runs whose rows are on disk (this session and before)
    failed: int         # of them, failed runs
    total: int
    interrupted: bool
    wall_s: float
    run_s: float        # sum of run times this session
    error: str | None = None   # why the machine stopped the campaign (disk full, permissions)


def run_campaign(store: PartStore, tasks: Callable[[np.ndarray], Iterator[Task]], payload: dict[str, Any],
                 executor, *, fn: Callable = run_task, batch_size: int = 200, flush_seconds: float = 30.0,
                 quiet: bool = False, desc: str = "runs") -> Outcome:
    """Run every task not yet in ``store`` on ``executor`` (already entered) and stream the rows to
    part files. Ctrl-C, SIGTERM or SIGHUP (:mod:`sim.interrupts`), a full disk or a refused write
    stop it cleanly: the workers are stopped, the finished rows are written, and the counts
    returned are those of the rows on disk."""
    done_mask, _ = store.recover()
    t0 = time.perf_counter()
    run_s = 0.0
    failed = 0
    interrupted = False
    error: BaseException | None = None
    bar = tqdm(total=store.total, initial=int(done_mask.sum()), desc=desc, unit="run", file=sys.stderr,
               disable=quiet, dynamic_ncols=True, mininterval=0.5, smoothing=0.05)
    try:
        if not done_mask.all():
            for task, row, frame in executor.results(tasks(done_mask), payload, fn):
                store.add(row, frame)
                run_s += float(row.get("elapsed_s") or 0.0)
                if row.get("status") == STATUS_FAILED:
                    failed += 1
                    bar.set_postfix(failed=failed, refresh=False)
                bar.update(1)
                if store.due(batch_size, flush_seconds):
                    store.flush()
    except KeyboardInterrupt:
        interrupted = True
    except OSError as exc:
        if resource_problem(exc) is None:
            raise
        interrupted, error = True, exc
    finally:
        bar.close()
        if interrupted:
            abort = getattr(executor, "abort", None)
            if abort is not None:
                abort()
        error = _flush_last(store, error)
    return on_disk(store, interrupted=interrupted or error is not None, wall_s=time.perf_counter() - t0,
                   run_s=run_s, error=None if error is None else resource_problem(error))


def on_disk(store: PartStore, **fields) -> Outcome:
    """An outcome whose counts are those of the rows on disk."""
    mask, failed = store.scan()
    return Outcome(**{"done": int(mask.sum()), "failed": failed, "total": store.total, "interrupted": True,
                      "wall_s": 0.0, "run_s": 0.0, **fields})


def _flush_last(store: PartStore, error: BaseException | None) -> BaseException | None:
    """Write the rows still in memory; a refused write becomes the campaign's error (a full disk
    that refused an earlier part refuses this one too: its rows are then simply not counted)."""
    try:
        store.flush()
    except OSError as exc:
        if resource_problem(exc) is None:
            raise
        return error or exc
    return error


# =============================================================================================
# The campaign around it
# =============================================================================================
@dataclass
class Campaign:
    """What a command hands to :func:`run`."""

    kind: str                                   # mc | sweep | sensitivity
    name: str                                   # the run folder's name
    label: str                                  # the progress bar's
    total: int
    payload: dict[str, Any]                     # sent with every task
    tasks: Callable[[np.ndarray], Iterator[Task]]
    manifest: dict[str, Any]
    rerun: list[str]                            # the command line that reruns it
    with_series: bool
    finalize: Callable[[Path, Outcome], dict[str, Any]]
    extra_files: dict[str, str] = field(default_factory=dict)
    fn: Callable = run_task

    @property
    def key(self) -> str:
        return "replication" if self.kind == "mc" else "run"


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def run(args, c: Campaign) -> int:
    """Run campaign ``c`` into its folder under ``--out``; returns the exit status."""
    scheduler = check_scheduler(args.scheduler)
    parent = output_parent(args)
    check_writable(parent)
    folder, state = open_folder(parent, c.name, args.resume, c.kind)
    if state == "complete":
        print(f"{c.kind} already complete in {folder}", file=sys.stderr)
        print(folder)
        return 0
    store = PartStore(folder, key=c.key, total=c.total, with_series=c.with_series)
    remaining = c.total
    if state == "resume":
        remaining = _resume(folder, store, c.manifest)
    executor = make_executor(worker_count(args), scheduler, n_tasks=remaining)
    session: dict[str, Any] = {"started_utc": now_utc(), "executor": executor.describe()}
    t0 = time.perf_counter()
    with executor if remaining else _Null():        # a remote scheduler is reached before anything is written
        if state == "new":
            create_folder(folder, c.kind)
        with FolderLock(folder):
            outcome = _run_locked(args, c, folder, store, executor, state)
            session.update(finished_utc=now_utc(), wall_s=outcome.wall_s,
                           runs=outcome.done - (c.total - remaining), run_s_total=outcome.run_s)
            c.manifest["sessions"] = c.manifest.get("sessions", []) + [session]
            if not outcome.interrupted:
                try:
                    info = _complete(c, folder, store, outcome, t0)
                except KeyboardInterrupt:
                    outcome = on_disk(store)
                except OSError as exc:
                    if resource_problem(exc) is None:
                        raise
                    outcome = on_disk(store, error=resource_problem(exc))
            if outcome.interrupted:
                return _interrupted(c, folder, outcome)
    failed = info.get("failed", outcome.failed)
    print(f"{c.label}: {c.total} runs ({failed} failed) in {time.perf_counter() - t0:.1f}s"
          + (f"; {info['headline']}" if info.get("headline") else ""), file=sys.stderr)
    print(folder)
    return 1 if failed == c.total else 0


def _run_locked(args, c: Campaign, folder: Path, store: PartStore, executor, state: str) -> Outcome:
    """The runs, once the folder is ours: its spec copy, the manifest marked running, the loop."""
    try:
        for fname, text in c.extra_files.items():
            if state == "new":
                atomic_write_text(folder / fname, text)
        c.manifest["status"] = "running"
        write_manifest(c.manifest, folder)
        return run_campaign(store, c.tasks, c.payload, executor, fn=c.fn, batch_size=batch_size(args, c.total),
                            flush_seconds=args.flush_seconds, quiet=args.quiet, desc=c.label)
    except KeyboardInterrupt:                 # before the loop started, or while it wrote its last rows
        return on_disk(store)
    except OSError as exc:
        if resource_problem(exc) is None:
            raise
        return on_disk(store, error=resource_problem(exc))


def _resume(folder: Path, store: PartStore, manifest: dict[str, Any]) -> int:
    """Carry the sessions of an unfinished folder over; returns the runs still to do."""
    old = read_manifest(folder) or {}
    if old.get("package_version") not in (None, manifest["package_version"]):
        print(f"warning: {folder} was started with drypowder {old.get('package_version')}, resuming with "
              f"{manifest['package_version']}: rows record the version that produced them", file=sys.stderr)
    manifest["sessions"] = list(old.get("sessions", []))
    manifest["started_utc"] = old.get("started_utc", manifest["started_utc"])
    done_mask, _ = store.scan()            # read only: the folder is not locked yet
    return store.total - int(done_mask.sum())


def _interrupted(c: Campaign, folder: Path, outcome: Outcome) -> int:
    """Mark the folder interrupted and say how to finish it; the counts are the rows on disk."""
    c.manifest["status"] = "interrupted"
    try:
        write_manifest(c.manifest, folder)
        marked = ""
    except OSError as exc:                    # the disk that refused the rows may refuse this too
        marked = f" (it could not be marked interrupted: {resource_problem(exc) or exc})"
    kept = f"{outcome.done} of {c.total} runs done ({outcome.failed} failed) and kept in {folder}{marked}"
    resume = cmdline(c.rerun + ["--resume"])
    print(folder)
    if outcome.error is not None:
        print_error(f"{outcome.error}: {kept}; make room, then finish with: {resume}")
        return EXIT_REFUSED
    print(f"\ninterrupted: {kept}\nfinish with: {resume}", file=sys.stderr)
    return EXIT_INTERRUPTED


def _complete(c: Campaign, folder: Path, store: PartStore, outcome: Outcome, t0: float) -> dict[str, Any]:
    """Consolidate, report and mark the folder complete; returns the command's summary."""
    t1 = time.perf_counter()
    info = c.finalize(folder, outcome)
    store.remove_parts()
    m = c.manifest
    m["status"] = "complete"
    m["finished_utc"] = now_utc()
    m["timings_s"] = {"this_session_wall": time.perf_counter() - t0, "finalize": time.perf_counter() - t1,
                      "runs_total_all_sessions": sum(s.get("run_s_total", 0.0) for s in m["sessions"])}
    m["files"] = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                        if p.is_file() and not p.name.startswith("."))
    write_manifest(m, folder)
    return info
