"""Seeds of the runs of an experiment, spawned with ``numpy.random.SeedSequence`` (MODEL.md §14).

A run's seed depends only on the root seed and the run's place in the design, never on the order
in which runs finish or the worker that runs them.
"""

from __future__ import annotations

import numpy as np

from sim.argtypes import SEED_LIMIT

MC_SEED_NOTE = ("replication i uses numpy.random.SeedSequence(root_seed).spawn(N)[i] -> "
                "generate_state(2, uint32) -> (w0 << 32 | w1) mod 2**63")


def _seed_from(ss: np.random.SeedSequence) -> int:
    """One integer seed in [0, 2**63) from a SeedSequence (two 32-bit words of its state)."""
    hi, lo = (int(w) for w in ss.generate_state(2, dtype=np.uint32))
    return ((hi << 32) | lo) & (SEED_LIMIT - 1)


def replication_seed(root: int, replication: int) -> int:
    """Seed of Monte Carlo replication ``replication``: child ``replication`` of
    ``SeedSequence(root).spawn(N)`` (built directly, so it never depends on N)."""
    return _seed_from(np.random.SeedSequence(int(root), spawn_key=(int(replication),)))


def replication_seeds(root: int, n: int) -> list[int]:
    return [replication_seed(root, i) for i in range(n)]


def run_seed(root: int, point: int, replication: int, common: bool = False) -> int:
    """Seed of sweep run (point, replication): ``SeedSequence(root, spawn_key=(point, replication))``.

    With ``common`` (common random numbers) replication r uses the same seed at every point."""
    key = (0, int(replication)) if common else (int(point), int(replication))
    return _seed_from(np.random.SeedSequence(int(root), spawn_key=key))


def run_seed_note(common: bool) -> str:
    """How a sweep's run seeds are derived, as recorded in its manifest."""
    key = "(0, replication)" if common else "(point, replication)"
    return (f"run (point, replication) uses numpy.random.SeedSequence(root_seed, spawn_key={key}) -> "
            f"generate_state(2, uint32) -> (w0 << 32 | w1) mod 2**63")
