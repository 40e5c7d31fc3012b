"""Limits derived from memory, disk and time (sim/limits.py): the memory estimate stays above what a
model really takes, and every refusal gives the estimate and the limit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim import limits
from sim.config import load_config
from sim.limits import LimitError

ROOT = Path(__file__).resolve().parents[1]

#: Peak resident memory of one model, in a fresh process: the peak is reset (Linux clear_refs) once
#: the libraries are imported, so that only the model's own growth is measured.
PROBE = """
import json, sys
from pathlib import Path
from sim.config import load_config
from sim.model import DryPowderModel
def status(key):
    return next(int(line.split()[1]) * 1024 for line in Path("/proc/self/status").read_text().splitlines()
                if line.startswith(key + ":"))
cfg = load_config(None, json.loads(sys.argv[1]))
Path("/proc/self/clear_refs").write_text("5")
before = status("VmRSS")
m = DryPowderModel(cfg, detail=False)
m.run()
print(status("VmHWM") - before)
"""


@pytest.mark.parametrize("overrides", [
    # holders x holders matrices dominate, at their peak: three GPU generations in a row make every
    # neocloud default, so the settlement's matrices are built
    {"simulation.steps": 8, "retail.holders": 100, "neoclouds.count": 800, "hedge_funds.count": 800,
     "private_credit.count": 400, "gpu.generation_steps": [1, 2, 3], "gpu.generation_value_drop": 0.9},
    {"simulation.steps": 8, "retail.holders": 200_000},               # retail accounts dominate
])
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_the_memory_estimate_is_above_what_a_model_takes(overrides):
    measured = int(subprocess.run([sys.executable, "-c", PROBE, json.dumps(overrides)], cwd=ROOT, capture_output=True,
                                  text=True, check=True, timeout=300).stdout)
    estimate = limits.model_memory(load_config(None, overrides))
    assert measured > 10 * 2**20                                     # the probe sees the model's arrays
    assert estimate.total >= measured, (estimate, measured)
    assert estimate.total <= 2 * measured, (estimate, measured)      # and not far above


def test_the_estimate_grows_as_the_arrays_do():
    base = {"simulation.steps": 8, "retail.holders": 1000}
    small = limits.model_memory(load_config(None, {**base, "neoclouds.count": 500}))
    large = limits.model_memory(load_config(None, {**base, "neoclouds.count": 1000}))
    square = dict(small.parts)
    assert large.total > small.total
    key = next(k for k in square if k.startswith("holders x holders"))
    n_small, n_large = limits.holder_rows(load_config(None, {**base, "neoclouds.count": 500})), \
        limits.holder_rows(load_config(None, {**base, "neoclouds.count": 1000}))
    assert square[key] == limits.SQUARE_ARRAYS * (n_small + 1) ** 2 * 8
    assert dict(large.parts)[next(k for k in dict(large.parts) if k.startswith("holders x"))] == \
        limits.SQUARE_ARRAYS * (n_large + 1) ** 2 * 8


def test_a_model_too_large_is_refused_with_the_estimate_and_the_limit(monkeypatch):
    monkeypatch.setattr(limits, "memory_limit", lambda: (2**30, "a test's"))
    cfg = load_config(None, {"neoclouds.count": 20000, "hedge_funds.count": 20000})
    with pytest.raises(LimitError) as err:
        limits.check_model(cfg)
    text = str(err.value)
    assert "GiB" in text and "40,035 holders" in text and "the limit is 1.0 GiB (a test's)" in text and "neoclouds.count" in text
    base = load_config(None)
    limits.check_model(base)                                           # the baseline fits
    fit = 2**30 // (limits.model_memory(base).total + limits.PROCESS_BYTES)
    with pytest.raises(LimitError, match=f"use --workers {fit} or fewer"):
        limits.check_model(base, processes=64)


def test_the_memory_limit_is_the_smaller_of_the_machine_and_its_container(monkeypatch):
    monkeypatch.setattr(limits, "physical_memory", lambda: 64 * 2**30)
    monkeypatch.setattr(limits, "_cgroup_limit", lambda: 8 * 2**30)
    limit, how = limits.memory_limit()
    assert limit == int(8 * 2**30 * limits.MEMORY_SHARE) and "container" in how
    monkeypatch.setattr(limits, "_cgroup_limit", lambda: None)
    assert limits.memory_limit()[0] == int(64 * 2**30 * limits.MEMORY_SHARE)


def test_campaigns_are_checked_for_runs_time_and_disk(tmp_path, monkeypatch):
    cfg = load_config(None)
    with pytest.raises(LimitError, match="at most 100,000,000"):
        limits.check_campaign(cfg, runs=limits.MAX_RUNS + 1, workers=2, local=True, out=tmp_path)
    with pytest.raises(LimitError, match=r"days; the limit is 30 days"):
        limits.check_campaign(cfg, runs=50_000_000, workers=2, local=True, out=tmp_path)
    monkeypatch.setattr(limits, "_free_disk", lambda folder: 10 * 2**20)
    with pytest.raises(LimitError, match="which has 10 MiB free"):
        limits.check_campaign(cfg, runs=100_000, workers=2, local=True, out=tmp_path)
    limits.check_campaign(cfg, runs=1000, workers=2, local=True, out=tmp_path)      # fits


def test_steps_are_whole_weeks_within_the_horizon():
    cfg = load_config(None, {"simulation.steps": 52})
    limits.check_steps(52, cfg, "here")
    for bad in (0, 53, -1, 1.5, True, "3", None):
        with pytest.raises(LimitError):
            limits.check_steps(bad, cfg, "here")
