"""What produced a result: the package version, the git revision and the library versions
(recorded in every manifest, so that a published number can be traced to its code)."""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from typing import Any

from sim.resources import SOURCE_CHECKOUT

MODEL_LIBRARIES = ("mesa", "numpy", "pandas", "pyarrow", "networkx", "pydantic")
EXPERIMENT_LIBRARIES = ("scipy", "SALib", "dask", "distributed", "matplotlib")


@lru_cache(maxsize=1)
def package_version() -> str:
    try:
        return metadata.version("drypowder")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def git_revision() -> str | None:
    """The checkout's commit when drypowder runs from a source checkout; None for an installed package."""
    if SOURCE_CHECKOUT is None:
        return None
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=SOURCE_CHECKOUT, capture_output=True, text=True,
                             timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def environment(libraries: tuple[str, ...] = MODEL_LIBRARIES) -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for pkg in libraries:
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return versions


def versions(libraries: tuple[str, ...] = MODEL_LIBRARIES + EXPERIMENT_LIBRARIES) -> dict[str, Any]:
    """The provenance fields of a manifest."""
    return {"package_version": package_version(), "git_revision": git_revision(), "environment": environment(libraries)}
