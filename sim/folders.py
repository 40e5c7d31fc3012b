"""Output folders: the default one, and checks made before anything is written."""

from __future__ import annotations

import os
from pathlib import Path

from sim.config import ConfigError

#: Default parent of run folders: ``runs/`` under the current directory (a relative path, so it
#: follows the directory the command is run from, for a checkout and an installed package alike).
RUNS_DIR = Path("runs")


def check_writable(folder: Path) -> None:
    """Fail early, with a clear message, if ``folder`` could not be created or written. Creates
    nothing: the folder is made only when something is written to it (:func:`make_folder`)."""
    folder = Path(folder)
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent                               # the nearest folder that exists
    if probe.exists() and not probe.is_dir():
        raise ConfigError(f"output folder {folder} is not writable: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"output folder {folder} is not writable: permission denied in {probe}")


def make_folder(folder: Path) -> Path:
    """Create ``folder`` (and its parents) for writing; an OSError becomes a clear ConfigError."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"output folder {folder} is not writable: {exc.strerror or exc}") from None
    return folder
