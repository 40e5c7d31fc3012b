"""Monte Carlo of the peer economy: the runs of FF10 and FF11, in parallel and in any number.

The unit of work is what the peer itself runs on one seed: one FF10 run, or one FF11 *chain* (the 11
price impacts of a channel mode on one seed's networks, continuing its agent-order stream). Units
are independent, so they go to a process pool and their rows come back as they finish; the table is
sorted at the end, so it is the same whatever the number of workers.

Seeds: by default replication i of every point uses the peer's simulation seed i, so the first 10
replications are the peer's own runs and more replications extend its sample the way its NSIM
would. With a root seed S, replication i instead uses the i-th child of
``numpy.random.SeedSequence(S)`` (independent streams; the peer's networks are drawn from them).
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd

from sim.validation.system_wide import experiments as X
from sim.validation.system_wide.config import Crediting
from sim.validation.system_wide.system_wide import SystemWideRun, inet_system_wide, run_chain

EXPERIMENTS = ("FF10", "FF11_1", "FF11_2")
PEER_SEEDS = 10          # the peer's NSIM
N_STEPS = 6
RUN_COLUMNS = (["crediting", "experiment", "table", "institutions", "channels", "buffer_mode", "lev_y", "rwa_y",
                "price_impact", "replication", "seed"] + [f"defaults_t{t}" for t in range(1, N_STEPS + 1)]
               + ["n_bank_defaults", "hf_defaults", "am_defaults", "bank_asset_loss_eur_m"])


@dataclass(frozen=True)
class Unit:
    """One FF10 run or one FF11 chain."""

    crediting: str
    table: str            # FF10, FF11_1 or FF11_2
    label: str            # institutions (FF10) or channels (FF11)
    buffer_mode: str      # FF10 only
    replication: int
    seed: int


def simulation_seeds(n: int, root: int | None = None) -> list[int]:
    """The peer's seeds 0..n-1, or the first word of each of n children of ``SeedSequence(root)``
    (child i does not depend on n, so more seeds extend a sample without changing it)."""
    if n < 1:
        raise ValueError(f"the number of seeds must be at least 1, got {n}")
    if root is None:
        return list(range(n))
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> 1) for child in np.random.SeedSequence(root).spawn(n)]


def make_units(tables: Iterable[str], seeds: list[int], creditings: Iterable[str]) -> list[Unit]:
    tables = list(tables)
    unknown = [t for t in tables if t not in EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiment(s) {unknown}; allowed: {', '.join(EXPERIMENTS)}")
    out = []
    for crediting in creditings:
        Crediting(crediting)
        for table in tables:
            if table == "FF10":
                keys = [(inst, mode) for inst in X.INSTITUTIONS for mode in X.BUFFER_MODES]
            else:
                keys = [(mode, "") for mode in X.CHANNEL_MODES]
            for label, mode in keys:
                out += [Unit(crediting, table, label, mode, r, s) for r, s in enumerate(seeds)]
    return out


def _row(unit: Unit, point: X.Point, run: SystemWideRun) -> dict:
    ff10 = unit.table == "FF10"
    row = {"crediting": unit.crediting, "experiment": "FF10" if ff10 else "FF11", "table": unit.table,
           "institutions": point.label if ff10 else "", "channels": "" if ff10 else point.label,
           "buffer_mode": point.buffer_mode, "lev_y": float(point.lev_y), "rwa_y": float(point.rwa_y),
           "price_impact": point.price_impact, "replication": unit.replication, "seed": unit.seed}
    row.update({f"defaults_t{t + 1}": d for t, d in enumerate(run.bank_defaults)})
    row.update(n_bank_defaults=run.n_bank_defaults, hf_defaults=run.hf_defaults, am_defaults=run.fund_defaults,
               bank_asset_loss_eur_m=run.bank_asset_loss)
    return row


def run_unit(unit: Unit) -> tuple[list[dict], float]:
    """The rows of one unit and the CPU seconds they took (module level, for worker processes)."""
    t0 = time.process_time()
    crediting = Crediting(unit.crediting)
    if unit.table == "FF10":
        point = X.Point("FF10", unit.label, unit.buffer_mode, *X.BUFFER_MODES[unit.buffer_mode],
                        X.FF10_PRICE_IMPACT, X.ff10_config(unit.label, unit.buffer_mode, crediting))
        rows = [_row(unit, point, inet_system_wide(point.config, unit.seed))]
    else:
        points = X.ff11_chains(crediting)[(unit.table, unit.label)]
        runs = run_chain([p.config for p in points], unit.seed)
        rows = [_row(unit, p, r) for p, r in zip(points, runs)]
    return rows, time.process_time() - t0


def _pool(workers: int) -> ProcessPoolExecutor:
    methods = mp.get_all_start_methods()
    ctx = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx)


def iter_rows(units: list[Unit], workers: int = 1) -> Iterator[tuple[list[dict], float]]:
    """(rows, CPU seconds) of each unit as units finish (in order with one worker)."""
    if workers <= 1:
        for u in units:
            yield run_unit(u)
        return
    with _pool(workers) as pool:
        todo = iter(units)
        pending = set()
        window = 4 * workers
        while True:
            while len(pending) < window:
                u = next(todo, None)
                if u is None:
                    break
                pending.add(pool.submit(run_unit, u))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()


def run_units(units: list[Unit], workers: int = 1, progress: Callable[[int, int], None] | None = None
              ) -> tuple[pd.DataFrame, float]:
    """All rows of ``units`` as one table, sorted so that it does not depend on the workers, and the
    CPU seconds the runs took (summed over workers)."""
    rows: list[dict] = []
    cpu = 0.0
    for i, (unit_rows, seconds) in enumerate(iter_rows(units, workers), 1):
        rows += unit_rows
        cpu += seconds
        if progress is not None:
            progress(i, len(units))
    return sort_runs(pd.DataFrame(rows, columns=RUN_COLUMNS)), cpu


def sort_runs(table: pd.DataFrame) -> pd.DataFrame:
    """Rows in the tables' own order: crediting, experiment, institutions or channels, buffer, pi, replication."""
    ranks = {"crediting": list(Crediting), "table": list(EXPERIMENTS), "institutions": ["", *X.INSTITUTIONS],
             "buffer_mode": ["", *X.BUFFER_MODES], "channels": ["", *X.CHANNEL_MODES]}
    keys = pd.DataFrame({c: table[c].map({v: i for i, v in enumerate(values)}) for c, values in ranks.items()})
    keys["price_impact"], keys["replication"] = table["price_impact"], table["replication"]
    order = keys.sort_values(list(keys.columns), kind="stable").index
    return table.loc[order].reset_index(drop=True)


class Progress:
    """A progress line on stderr (only on a terminal), at most every half second."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.t0, self.last = stream, time.perf_counter(), 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if not self.stream.isatty() or (now - self.last < 0.5 and done < total):
            return
        self.last = now
        print(f"\r{done}/{total} units, {now - self.t0:.0f} s", end="\n" if done == total else "",
              file=self.stream, flush=True)
