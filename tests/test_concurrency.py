"""Several commands writing to one folder at once: nobody's results are lost, and a command that
cannot proceed says so in one line (no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--set", "retail.holders=100", "--set", "neoclouds.count=4", "--set", "private_credit.count=4",
        "--set", "hedge_funds.count=4"]


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sim.cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_four_runs_into_one_folder_all_keep_their_results(tmp_path):
    out = tmp_path / "out"
    procs = [start(["run", "--steps", "8", "--seed", "3", "--quiet", *TINY, "--out", str(out)], tmp_path)
             for _ in range(4)]
    results = [p.communicate(timeout=300) for p in procs]
    for p, (stdout, stderr) in zip(procs, results):
        assert p.returncode == 0 and "Traceback" not in stderr, stderr
    folders = sorted(Path(stdout.strip().splitlines()[-1]) for stdout, _ in results)
    names = sorted(f.name for f in folders)
    stem = min(names, key=len)
    assert names == sorted([stem, f"{stem}-2", f"{stem}-3", f"{stem}-4"])     # the same run, four folders
    for f in folders:
        assert json.loads((f / "manifest.json").read_text())["run_id"] == f.name
        assert (f / "model.parquet").read_bytes() == (folders[0] / "model.parquet").read_bytes()
    assert sorted(p.name for p in out.iterdir()) == names                      # no temporary folder left


def test_two_sweeps_starting_one_campaign_at_once(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(yaml.safe_dump({"base": "baseline", "seed": 1, "replications": 4,
                                    "overrides": {"simulation.steps": 8, "retail.holders": 100},
                                    "grid": {"dry_powder.initial_bn": [500, 1500]}, "plot": {"metrics": ["crisis"]}}))
    args = ["sweep", str(spec), "--workers", "1", "--out", str(tmp_path / "out"), "--quiet", "--no-figures"]
    procs = [start(args, tmp_path), start(args, tmp_path)]
    results = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes in ([0, 0], [0, 2]), results           # both finished one after the other, or one stood back
    for p, (stdout, stderr) in zip(procs, results):
        assert "Traceback" not in stderr, stderr
        if p.returncode == 2:
            lines = [line for line in stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("error: ") and "sweep-s-" in lines[0], stderr
    complete = [f for f in (tmp_path / "out").iterdir()
                if json.loads((f / "manifest.json").read_text())["status"] == "complete"]
    assert len(complete) == codes.count(0)
