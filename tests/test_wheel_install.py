"""A real package: the wheel, installed into a new virtual environment, works from any directory.

The source distribution is built and the wheel from it (so the sdist carries all a wheel needs), the
wheel goes into a fresh venv with its dependencies at the versions of requirements.lock, and
``drypowder run gpu_generation_shock --steps 8`` runs in an empty folder: the run folder appears in
that folder's ``runs/``, and the baseline, every scenario and the peers' data come from inside the
installed package, never from this checkout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
SHIPPED_FOLDERS = ("configs", "data")
SCENARIOS = sorted(p.stem for p in (ROOT / "configs" / "scenarios").glob("*.yaml"))
TIMEOUT_S = 600

#: Run inside the new venv: where each shipped thing is found from there.
PROBE = """
import json, sys
import sim
from sim.config import resolve_config_arg
from sim.resources import Peer, peer_dir
from sim.validation.firesale import load_balance_sheets
names = ["baseline", *sys.argv[1:]]
print(json.dumps({
    "sim": sim.__file__,
    "configs": {n: str(resolve_config_arg(n)) for n in names},
    "firesale_banks": len(load_balance_sheets()),
    "peer_files": {p.value: sorted(str(f.relative_to(peer_dir(p))) for f in peer_dir(p).rglob("*") if f.is_file())
                   for p in Peer},
}))
"""


def _uv(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "uv", *args], capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, f"uv {' '.join(args)}: exit {proc.returncode}\n{proc.stderr[-3000:]}"


def _isolated_env() -> dict[str, str]:
    """This environment, less anything that would let the checkout or its venv leak in."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def _files(folder: Path) -> list[str]:
    return sorted(str(f.relative_to(folder)) for f in folder.rglob("*") if f.is_file() and "__pycache__" not in f.parts)


@pytest.mark.slow
def test_wheel_installs_into_a_new_venv_and_runs_a_scenario_from_an_empty_folder(tmp_path):
    dist, venv, empty = tmp_path / "dist", tmp_path / "venv", tmp_path / "empty"
    _uv("build", "--quiet", "--out-dir", str(dist), str(ROOT))
    (wheel,) = dist.glob("drypowder-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    for folder in SHIPPED_FOLDERS:
        missing = [f for f in _files(ROOT / folder) if f"sim/_bundled/{folder}/{f}" not in in_wheel]
        assert not missing, f"not in the wheel: {folder}/{missing}"
    assert not any(name.startswith(("tests/", "configs/", "data/", "runs/")) for name in in_wheel)

    _uv("venv", "--quiet", "--python", sys.executable, str(venv))
    python = venv / "bin" / "python"
    _uv("pip", "install", "--quiet", "--python", str(python), "--constraint", str(LOCK), str(wheel))

    empty.mkdir()
    env = _isolated_env()
    proc = subprocess.run([str(venv / "bin" / "drypowder"), "run", "gpu_generation_shock", "--steps", "8", "--quiet"],
                          cwd=empty, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr
    run_dir = (empty / proc.stdout.strip().splitlines()[-1]).resolve()
    assert run_dir.parent == (empty / "runs").resolve() and run_dir.name.startswith("gpu_generation_shock-")
    assert {"config.yaml", "manifest.json", "model.parquet", "agents.parquet", "events.parquet", "summary.json",
            "figures/dashboard.png"} <= set(_files(run_dir))
    assert sorted(p.name for p in empty.iterdir()) == ["runs"]   # nothing else written beside it
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["steps"] == 8 and manifest["config"]["name"] == "gpu_generation_shock"
    assert manifest["git_revision"] is None   # an installed package is not the checkout
    site = venv.resolve()
    assert Path(manifest["config_source"]).resolve().is_relative_to(site)

    probe = subprocess.run([str(python), "-c", PROBE, *SCENARIOS], cwd=empty, env=env, capture_output=True,
                           text=True, timeout=TIMEOUT_S)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert Path(found["sim"]).resolve().is_relative_to(site)
    assert sorted(found["configs"]) == sorted(["baseline", *SCENARIOS]) and len(SCENARIOS) >= 7
    for name, path in found["configs"].items():
        assert Path(path).resolve().is_relative_to(site) and Path(path).is_file(), (name, path)
    assert found["firesale_banks"] == 48
    for peer, files in found["peer_files"].items():
        assert files == _files(ROOT / "data" / "peer" / peer), peer
