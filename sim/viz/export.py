"""Reproduce what the page shows: write the model on show as a run folder (the same folder
``drypowder run`` writes, manifest included), so ``drypowder run --from FOLDER/manifest.json``
reruns exactly those weeks with that configuration and seed, and ``drypowder run
FOLDER/config.yaml`` runs the same configuration to its horizon."""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from pathlib import Path

from sim.folders import RUNS_DIR, check_writable
from sim.outputs import write_run
from sim.viz.params import SCENARIO_KEY, page_overrides

OUT_ENV = "DRYPOWDER_VIZ_OUT"


@dataclass(frozen=True)
class Export:
    """A written run folder and the commands that reproduce it."""

    folder: Path
    week: int
    config_hash: str
    seed: int

    @property
    def rerun_command(self) -> str:
        return f"drypowder run --from {shlex.quote(str(self.folder / 'manifest.json'))}"

    @property
    def full_run_command(self) -> str:
        return f"drypowder run {shlex.quote(str(self.folder / 'config.yaml'))}"


def export_folder(out: "str | Path | None" = None) -> Path:
    """Where exports go: ``out``, else ``$DRYPOWDER_VIZ_OUT`` (``drypowder viz --out``), else runs/."""
    import os
    if out is not None:
        return Path(out)
    env = os.environ.get(OUT_ENV)
    return Path(env) if env else RUNS_DIR


def export_run(model, out: "str | Path | None" = None) -> Export:
    """Write ``model`` (a :class:`sim.viz.live_model.LiveModel`) at its current week as a run folder
    under ``out``; returns where, with the commands to rerun it. Raises ConfigError when the folder
    cannot be written."""
    parent = export_folder(out)
    check_writable(parent)
    with model.lock:
        params = dict(model.view_params.values)
        params.pop(SCENARIO_KEY, None)
        overrides = page_overrides(params)
        started = time.perf_counter()
        folder = write_run(model, model.cfg, parent, argv=["viz", model.view_params.scenario],
                           overrides=overrides, source=f"viz:{model.view_params.scenario}",
                           timings={"export_s": time.perf_counter() - started})
        return Export(Path(folder), int(model.steps), model.cfg.digest(), int(model.cfg.seed))
