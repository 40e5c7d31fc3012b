"""Build step: ship the repository's top-level ``configs/`` and ``data/`` folders inside the wheel.

The scenario configs stay in ``configs/`` and the peers' data in ``data/``, beside the packages, as
users see them in a clone. setuptools ships only files that lie inside a package, so building a wheel
copies both folders into ``sim/_bundled/``, where :mod:`sim.resources` looks first; an installed
drypowder then finds its baseline, every scenario and the peer data from any directory. An editable
install copies nothing: it reads both folders from the checkout. Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED_FOLDERS = ("configs", "data")
BUNDLED = Path("sim", "_bundled")


class BuildPyWithShippedFolders(build_py):
    """``build_py``, then a fresh copy of each shipped folder into the build's ``sim/_bundled/``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / BUNDLED
        shutil.rmtree(target, ignore_errors=True)   # nothing stale from an earlier build
        for name in SHIPPED_FOLDERS:
            shutil.copytree(ROOT / name, target / name, ignore=shutil.ignore_patterns("__pycache__", ".*"))


setup(cmdclass={"build_py": BuildPyWithShippedFolders})
