"""Limits derived from memory, disk and time, checked before anything starts.

A config that validates can still ask for more than the machine holds (20,000 neoclouds and as
many hedge and credit funds need holders x holders matrices of tens of GiB), and an experiment can
ask for more runs than a year of computing or the disk can take. Every command checks its input
against these estimates first and refuses with a message that gives the estimate and the limit,
instead of running out of memory, disk or patience halfway.

:func:`model_memory` is the one place that knows how the model's arrays grow with the config:
update it when the model's storage changes (``tests/test_limits.py`` checks that it stays above
the memory a model really takes).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from sim.config import ASSETS, Config, ConfigError

FLOAT = 8                         # bytes of one float64
#: Arrays of holders x holders floats alive at once at the peak of a week: ``Book.fund_units`` and,
#: when a holder defaults, the settlement's liability matrix, relative liabilities and their
#: temporaries (sim/defaults.py ``Defaults.settle_claims``, sim/engine/claims.py ``clearing_vector``).
SQUARE_ARRAYS = 5
GPU_LOAN_ARRAYS = 3               # credit funds x neoclouds: loans and two temporaries of the weekly service
RETAIL_FLOATS_PER_HOLDER = 24 * len(ASSETS)   # per account: its rows of units, weights, scratch... (measured: 174 at K = 8)
AGENT_BYTES = 4096                # a Mesa agent and its rows (measured: about 3.7 KB)
HISTORY_BYTES_PER_STEP = 2048     # the model-level series and price history of one week
PROCESS_BYTES = 200 * 2**20       # Python, numpy, pandas and Mesa in one process (measured: about 155 MB)
MEMORY_SHARE = 0.8                # of the machine's (or the container's) memory that runs may use

#: Seconds of one simulated week on one core: a fixed part, per retail account and per pair of
#: holders (the holders x holders matrices; measured with 67 to 3,035 holders). Used only for the
#: order of magnitude of a campaign's length.
STEP_S, HOLDER_STEP_S, PAIR_STEP_S = 1.5e-3, 5.0e-8, 2.5e-9
MAX_CAMPAIGN_DAYS = 30            # a campaign estimated to take longer is refused (a typo, or a cluster's job)

#: Runs of one campaign at most: the main process keeps a flag and a key per run (about 16 bytes,
#: 1.6 GB at this size) and hashes the design point by point before the first run starts.
MAX_RUNS = 100_000_000
ROW_BYTES = 1024                  # one result row on disk, parts and consolidated table together (upper bound)


class LimitError(ConfigError):
    """A request beyond what the machine can hold or finish (exit status 2)."""


@dataclass(frozen=True)
class Estimate:
    """Bytes (or seconds) in total and by part, largest first."""

    total: float
    parts: tuple[tuple[str, float], ...]

    @property
    def largest(self) -> str:
        """The largest part, named with its size."""
        if not self.parts:
            return ""
        name, size = max(self.parts, key=lambda p: p[1])
        return f"{name}: {gib(size)}"


def gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"


def duration(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:,.0f} minutes"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:,.1f} hours"
    return f"{seconds / 86400:,.0f} days"


# =============================================================================================
# Estimates
# =============================================================================================
def holder_rows(cfg: Config) -> int:
    """Rows of the balance-sheet book: one per institution and one for the retail population."""
    return (len(cfg.hyperscalers.firms) + cfg.neoclouds.count + cfg.private_credit.count + cfg.sovereigns.count
            + cfg.hedge_funds.count + len(cfg.ai_labs.labs) + 1)


def model_memory(cfg: Config) -> Estimate:
    """Peak memory of one model built and run with ``cfg`` (without the process's own libraries)."""
    n = holder_rows(cfg)
    parts = {
        f"holders x holders matrices ({n:,} holders)": SQUARE_ARRAYS * (n + 1) ** 2 * FLOAT,
        "GPU loans (credit funds x neoclouds)": GPU_LOAN_ARRAYS * cfg.private_credit.count * cfg.neoclouds.count * FLOAT,
        f"retail accounts ({cfg.retail.holders:,})": cfg.retail.holders * RETAIL_FLOATS_PER_HOLDER * FLOAT,
        "agents": n * AGENT_BYTES,
        "history": (cfg.simulation.steps + 1) * HISTORY_BYTES_PER_STEP,
    }
    return Estimate(sum(parts.values()), tuple(sorted(parts.items(), key=lambda p: -p[1])))


def run_seconds(cfg: Config) -> float:
    """Rough CPU seconds of one run (one core, the reference machine of benchmarks/README.md)."""
    n = holder_rows(cfg)
    return cfg.simulation.steps * (STEP_S + HOLDER_STEP_S * cfg.retail.holders + PAIR_STEP_S * n * n)


def _cgroup_limit() -> int | None:
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


def memory_limit() -> tuple[int, str]:
    """Bytes that runs may use on this machine, and how that was derived (for messages)."""
    total, where = physical_memory(), "memory"
    cg = _cgroup_limit()
    if cg is not None and cg < total:
        total, where = cg, "container's memory limit"
    return int(total * MEMORY_SHARE), f"{MEMORY_SHARE:.0%} of this machine's {gib(total)} {where}"


# =============================================================================================
# Checks
# =============================================================================================
_COUNTS = "neoclouds.count, private_credit.count, hedge_funds.count, sovereigns.count or retail.holders"


def check_model(cfg: Config, *, processes: int = 1, what: str = "this config") -> Estimate:
    """Refuse ``cfg`` if ``processes`` models of it (one per worker) would not fit in memory."""
    est = model_memory(cfg)
    need = processes * (est.total + PROCESS_BYTES)
    limit, how = memory_limit()
    if need > limit:
        each = f"; {processes} workers need {gib(need)} ({gib(est.total + PROCESS_BYTES)} each)" if processes > 1 else ""
        fit = int(limit // (est.total + PROCESS_BYTES))
        hint = (f"use --workers {fit} or fewer" if processes > 1 and fit >= 1 else f"lower {_COUNTS}")
        raise LimitError(f"{what} needs about {gib(est.total)} of memory for one model (largest part: "
                         f"{est.largest}){each}; the limit is {gib(limit)} ({how}): {hint}")
    return est


def check_steps(steps: int, cfg: Config, where: str) -> None:
    """Weeks to run: a whole number from 1 to the config's horizon ``simulation.steps``."""
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise LimitError(f"{where}: steps must be a whole number of weeks (got {steps!r})")
    if not 1 <= steps <= cfg.simulation.steps:
        raise LimitError(f"{where}: steps must be between 1 and the model's horizon simulation.steps = "
                         f"{cfg.simulation.steps} (got {steps})")


def check_run_count(runs: int, what: str) -> None:
    """Refuse a design of more than :data:`MAX_RUNS` runs before anything is built from it."""
    if runs > MAX_RUNS:
        raise LimitError(f"{what} has {runs:,} runs; one campaign holds at most {MAX_RUNS:,} (its bookkeeping "
                         f"keeps about 16 bytes per run in memory and its design is hashed before the first run)")


def _free_disk(folder: Path) -> int | None:
    probe = Path(folder)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def check_campaign(cfg: Config, *, runs: int, workers: int, local: bool, out: Path,
                   series_bytes_per_run: int = 0, what: str = "this campaign") -> None:
    """Memory of the workers' models, time of all runs (both for local workers) and disk of their
    rows, before starting."""
    check_run_count(runs, what)
    if local:             # (a remote cluster's machines and size are its own: only runs and disk are checked)
        check_model(cfg, processes=max(1, min(workers, runs)), what=what)
        seconds = runs * run_seconds(cfg) / max(1, min(workers, runs))
        if seconds > MAX_CAMPAIGN_DAYS * 86400:
            raise LimitError(f"{what} ({runs:,} runs of about {run_seconds(cfg):.2g} s each on {workers} workers) "
                             f"would take about {duration(seconds)}; the limit is {MAX_CAMPAIGN_DAYS} days: run "
                             f"fewer, or use more workers (--workers) or a Dask cluster (--scheduler tcp://...)")
    need = runs * (ROW_BYTES + series_bytes_per_run)
    free = _free_disk(out)
    if free is not None and need > free:
        raise LimitError(f"{what} would write about {gib(need)} to {out}, which has {gib(free)} free")
