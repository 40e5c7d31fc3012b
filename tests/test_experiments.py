"""Tests of ``drypowder mc | sweep | sensitivity`` (the sim.experiments package).

Every simulation here is tiny (15 weeks, a few agents), so the whole file runs in well under two
minutes on two cores. Results must not depend on the executor: in-process, a process pool and Dask
give identical tables; a killed sweep resumes to the same table as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import cli
from sim.experiments import commands, executors, tasks, workers
from sim.experiments.campaign import run_campaign
from sim.experiments.executors import ProcessPool
from sim.experiments.seeds import replication_seeds, run_seed
from sim.experiments.stats import (
    convergence,
    expected_shortfall,
    quantiles_from_frame,
    recommended_n,
    series_quantiles,
    wilson_interval,
)
from sim.experiments.store import PartStore, consolidate
from sim.experiments.tasks import Task, leading_columns, run_task

ROOT = Path(__file__).resolve().parents[1]
TINY = {"simulation.steps": 15, "retail.holders": 200, "neoclouds.count": 4, "private_credit.count": 4,
        "hedge_funds.count": 4}
TIMING = ["elapsed_s"]


# =============================================================================================
# helpers
# =============================================================================================
def write_spec(folder: Path, name: str, body: dict | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body if isinstance(body, str) else yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def sweep_body(grid=None, replications=2, seed=11, **extra) -> dict:
    body = {"base": "baseline", "overrides": dict(TINY),
            "grid": grid or {"dry_powder.initial_bn": [500, 1500], "hyperscalers.capex_growth": [0.1, 0.5]},
            "replications": replications, "seed": seed}
    body.update(extra)
    return body


def run_cli(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def folder_of(out: str) -> Path:
    return Path(out.strip().splitlines()[-1])


def table(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path).drop(columns=TIMING, errors="ignore")


def report(path: Path) -> dict:
    return json.loads(path.read_text())


def comparable(path: Path) -> dict:
    """report.json without the command line (which names the --out folder)."""
    return {k: v for k, v in report(path).items() if k != "command"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# =============================================================================================
# seeds and statistics
# =============================================================================================
def test_mc_seeds_pure_and_prefix_stable():
    s = 20260101
    ten = replication_seeds(s, 10)
    assert replication_seeds(s, 10) == ten                       # a pure function of S and N
    for k in (1, 3, 7):
        assert replication_seeds(s, k) == ten[:k]                # the first k do not change when N grows
    spawned = np.random.SeedSequence(s).spawn(10)
    for i, child in enumerate(spawned):                          # exactly the spawned children
        w = child.generate_state(2, dtype=np.uint32)
        assert ten[i] == ((int(w[0]) << 32) | int(w[1])) & (2**63 - 1)
    assert len(set(ten)) == 10 and all(0 <= x < 2**63 for x in ten)
    assert replication_seeds(s + 1, 3) != ten[:3]


def test_sweep_seeds_depend_only_on_point_and_replication():
    forward = {(p, r): run_seed(5, p, r) for p in range(4) for r in range(3)}
    backward = {(p, r): run_seed(5, p, r) for p in reversed(range(4)) for r in reversed(range(3))}
    assert forward == backward and len(set(forward.values())) == 12
    assert {run_seed(5, p, 1, common=True) for p in range(4)} == {run_seed(5, 0, 1, common=True)}


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), frac=st.floats(0, 1))
def test_wilson_interval_contains_estimate(n, frac):
    x = round(frac * n)
    lo, hi = wilson_interval(x, n)
    assert 0.0 <= lo <= x / n <= hi <= 1.0
    assert (lo == 0.0) == (x == 0) or lo < 1e-12


def test_wilson_interval_reference_values():
    lo, hi = wilson_interval(10, 100)                            # textbook: 0.0552 - 0.1744
    assert lo == pytest.approx(0.05522, abs=1e-4) and hi == pytest.approx(0.17437, abs=1e-4)
    assert wilson_interval(0, 20) == (0.0, pytest.approx(0.16113, abs=1e-4))


def test_expected_shortfall_and_convergence():
    es = expected_shortfall(np.arange(1, 101, dtype=float))      # worst 5% of 1..100 = 96..100
    assert es["expected_shortfall"] == pytest.approx(98.0) and es["tail_count"] == 5
    assert expected_shortfall(np.array([3.0, 1.0]))["expected_shortfall"] == 3.0   # at least one value
    assert expected_shortfall(np.array([np.nan, 2.0, 4.0]))["tail_count"] == 1     # failed runs left out
    c = convergence(np.zeros(40))
    assert [k["replications"] for k in c["checkpoints"]] == [10, 20, 40] and c["verdict"] == "converged"
    c = convergence(np.tile([0.0, 1.0], 20))
    assert c["verdict"] == "not converged" and c["recommended_n"] == recommended_n(0.5) >= 380
    half = lambda n: (wilson_interval(0.5 * n, n)[1] - wilson_interval(0.5 * n, n)[0]) / 2  # noqa: E731
    assert half(c["recommended_n"]) < 0.05 <= half(c["recommended_n"] - 1)


# =============================================================================================
# identical results whatever the executor
# =============================================================================================
@pytest.fixture(scope="module")
def dask_address():
    from distributed import LocalCluster
    import logging
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None, silence_logs=logging.ERROR)
    yield cluster.scheduler_address
    cluster.close()


def test_sweep_identical_in_process_pool_and_dask(tmp_path, capsys):
    spec = write_spec(tmp_path, "small.yaml", sweep_body())
    folders = {}
    for label, extra in {"w1": ["--workers", "1"], "pool": ["--workers", "2"],
                         "dask": ["--workers", "2", "--scheduler", "local"]}.items():
        code, out, err = run_cli(["sweep", spec, "--out", tmp_path / label, "--no-figures", "--quiet", *extra], capsys)
        assert code == 0, err
        folders[label] = folder_of(out)
        assert "8 runs (0 failed)" in err
    ref = table(folders["w1"] / "results.parquet")
    assert len(ref) == 8 and list(ref["run"]) == list(range(8))
    assert list(ref.columns[:10]) == leading_columns("sweep", ["dry_powder.initial_bn", "hyperscalers.capex_growth"])
    assert (ref["status"] == "ok").all() and ref["config_hash"].str.len().eq(16).all()
    assert list(ref["seed"]) == [run_seed(11, p, r) for p in range(4) for r in range(2)]
    for label in ("pool", "dask"):
        pd.testing.assert_frame_equal(table(folders[label] / "results.parquet"), ref)
        pd.testing.assert_frame_equal(table(folders[label] / "points.parquet"), table(folders["w1"] / "points.parquet"))
        assert comparable(folders[label] / "report.json") == comparable(folders["w1"] / "report.json")
    man = report(folders["dask"] / "manifest.json")
    assert man["status"] == "complete" and man["sessions"][0]["executor"]["kind"] == "dask-local"
    assert not (folders["dask"] / "parts").exists() and not (folders["dask"] / ".lock").exists()


def test_mc_identical_in_process_pool_and_dask(tmp_path, capsys, dask_address):
    sets = [x for k, v in TINY.items() for x in ("--set", f"{k}={v}")]
    folders = {}
    for label, extra in {"w1": ["--workers", "1"], "pool": ["--workers", "2", "--no-figures"],
                         "dask": ["--scheduler", dask_address, "--no-figures"]}.items():
        code, out, err = run_cli(["mc", "baseline", "-n", 6, "--seed", 42, "--out", tmp_path / label, "--quiet",
                                  *sets, *extra], capsys)
        assert code == 0, err
        folders[label] = folder_of(out)
    ref = table(folders["w1"] / "runs.parquet")
    assert list(ref["replication"]) == list(range(6)) and list(ref["seed"]) == replication_seeds(42, 6)
    for col in ("max_drawdown.crypto", "defaults.neocloud", "trinity.independence", "peak_ig_spread_bp",
                "crisis", "config_hash", "package_version", "status", "error"):
        assert col in ref.columns
    series = table(folders["w1"] / "series.parquet")
    assert len(series) == 6 * 16 and {"replication", "step", "dry_powder_bn", "price_crypto"} <= set(series.columns)
    for label in ("pool", "dask"):
        pd.testing.assert_frame_equal(table(folders[label] / "runs.parquet"), ref)
        pd.testing.assert_frame_equal(table(folders[label] / "series.parquet"), series)
        assert comparable(folders[label] / "report.json") == comparable(folders["w1"] / "report.json")
    rep = report(folders["w1"] / "report.json")
    assert rep["n"] == 6 and rep["failed"] == 0 and rep["series"]["kind"] == "all replications"
    lo, hi = rep["crisis"]["ci95"]
    assert 0 <= lo <= rep["crisis"]["probability"] <= hi <= 1
    assert set(rep["max_drawdown"]) >= {"crypto", "saas"} and "q50" in rep["peak_ig_spread_bp"]
    assert {"system_losses_bn", "fire_sale_volume_bn"} <= set(rep["tail"])
    assert "share_exhausted" in rep["dry_powder_exhaustion"]
    assert [c["replications"] for c in rep["convergence"]["checkpoints"]] == [2, 3, 6]
    assert rep["convergence"]["verdict"] in ("converged", "not converged")
    for fig in ("fan_charts.png", "histograms.png", "convergence.png"):
        assert (folders["w1"] / "figures" / fig).stat().st_size > 1000
    man = report(folders["w1"] / "manifest.json")
    assert man["root_seed"] == 42 and man["replications"] == 6 and man["config"]["retail"]["holders"] == 200
    assert "--seed 42" in man["command"] and man["package_version"]


def test_mc_series_quantiles_for_large_n(tmp_path, capsys, monkeypatch):
    """Above SERIES_FULL_MAX replications series.parquet holds per-step quantiles, computed by
    streaming the part files; they equal the quantiles of the full series."""
    monkeypatch.setattr(commands, "SERIES_FULL_MAX", 3)
    sets = [x for k, v in TINY.items() for x in ("--set", f"{k}={v}")]
    code, out, err = run_cli(["mc", "baseline", "-n", 6, "--seed", 42, "--workers", 1, "--batch-size", 2,
                              "--out", tmp_path / "q", "--quiet", "--no-figures", *sets], capsys)
    assert code == 0, err
    folder = folder_of(out)
    rep = report(folder / "report.json")
    assert rep["series"]["kind"] == "quantiles"
    q = pd.read_parquet(folder / "series.parquet")
    assert list(q.columns) == ["series", "step", "n", "mean", "q05", "q25", "q50", "q75", "q95"]
    monkeypatch.setattr(commands, "SERIES_FULL_MAX", 200)
    code, out, err = run_cli(["mc", "baseline", "-n", 6, "--seed", 42, "--workers", 1, "--out", tmp_path / "f",
                              "--quiet", "--no-figures", *sets], capsys)
    full = pd.read_parquet(folder_of(out) / "series.parquet")
    expected = quantiles_from_frame(full, list(rep["series"]["series"]))
    pd.testing.assert_frame_equal(q, expected[q.columns], check_dtype=False)


def test_series_quantiles_streams_in_blocks(tmp_path):
    rng = np.random.default_rng(0)
    frames = [pd.DataFrame({"replication": r, "step": np.arange(10), "x": rng.normal(size=10),
                            "y": rng.random(10)}) for r in range(7)]
    for i, chunk in enumerate((frames[:3], frames[3:])):
        pd.concat(chunk).to_parquet(tmp_path / f"part-{i:05d}.parquet", index=False)
    parts = sorted(tmp_path.glob("part-*.parquet"))
    tiny_budget = series_quantiles(parts, 7, ["x", "y"], budget_bytes=1)        # one step per block
    one_block = series_quantiles(parts, 7, ["x", "y"])
    pd.testing.assert_frame_equal(tiny_budget, one_block)
    pd.testing.assert_frame_equal(one_block, quantiles_from_frame(pd.concat(frames), ["x", "y"]), check_dtype=False)


# =============================================================================================
# interruption and resume
# =============================================================================================
def _poll_parts(folder_glob: Path, pattern: str, at_least: int, proc, timeout: float = 60.0) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parts = list(folder_glob.glob(pattern))
        if len(parts) >= at_least:
            return parts
        if proc.poll() is not None:
            pytest.fail(f"the sweep ended before it could be interrupted: {proc.communicate()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail("no part files appeared in time")


def test_killed_sweep_resumes_to_the_uninterrupted_result(tmp_path, capsys):
    grid = {"dry_powder.initial_bn": [400, 800, 1200], "hyperscalers.capex_growth": [0.0, 0.3, 0.6]}
    spec = write_spec(tmp_path, "resume.yaml", sweep_body(grid=grid, replications=4, seed=3))   # 36 runs
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(spec), "--workers", "1", "--batch-size", "3",
           "--out", str(out), "--quiet", "--no-figures"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    # 1) Ctrl-C: stops cleanly, keeps what finished, says how to resume, prints the folder.
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _poll_parts(out, "sweep-resume-*/parts/part-*.parquet", 1, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    folder = Path(stdout.strip().splitlines()[-1])
    assert "--resume" in stderr and "Traceback" not in stderr
    assert report(folder / "manifest.json")["status"] == "interrupted"

    # Without --resume an unfinished folder is a clear error, not a silent restart.
    code, _, err = run_cli(["sweep", spec, "--workers", 1, "--out", out, "--quiet"], capsys)
    assert code == 2 and "--resume" in err and "Traceback" not in err

    # 2) SIGKILL mid-run (after a few more parts), then every part file present is whole.
    proc = subprocess.Popen(cmd + ["--resume"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    n_before = len(list((folder / "parts").glob("part-*.parquet")))
    _poll_parts(folder / "parts", "part-*.parquet", n_before + 2, proc)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    parts = sorted((folder / "parts").glob("part-*.parquet"))
    done = pd.concat([pq.read_table(p).to_pandas() for p in parts])            # each one a whole file
    assert 0 < len(done) < 36 and done["run"].is_unique
    assert report(folder / "manifest.json")["status"] == "running"

    # 3) --resume finishes without redoing finished runs.
    code, stdout, err = run_cli(["sweep", spec, "--workers", 1, "--out", out, "--quiet", "--no-figures", "--resume"],
                                capsys)
    assert code == 0, err
    assert folder_of(stdout) == folder
    man = report(folder / "manifest.json")
    assert man["status"] == "complete" and len(man["sessions"]) == 2             # the killed one left no record
    assert man["sessions"][-1]["runs"] == 36 - len(done)                         # finished runs were not redone
    resumed = table(folder / "results.parquet")
    assert list(resumed["run"]) == list(range(36))                              # nothing lost or duplicated

    code, stdout, err = run_cli(["sweep", spec, "--workers", 1, "--out", tmp_path / "ref", "--quiet",
                                 "--no-figures"], capsys)
    assert code == 0, err
    pd.testing.assert_frame_equal(resumed, table(folder_of(stdout) / "results.parquet"))

    # A complete folder: --resume is a no-op; a plain rerun gets a new folder.
    code, stdout, err = run_cli(["sweep", spec, "--out", out, "--quiet", "--resume"], capsys)
    assert code == 0 and folder_of(stdout) == folder and "already complete" in err


# =============================================================================================
# failures
# =============================================================================================
def test_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, capsys, monkeypatch):
    real = tasks.simulate

    def flaky(cfg, series):
        if cfg.dry_powder.initial_bn == 1500 and cfg.hyperscalers.capex_growth == 0.5:
            raise RuntimeError("deliberate test failure")
        return real(cfg, series)

    monkeypatch.setattr(tasks, "simulate", flaky)
    spec = write_spec(tmp_path, "flaky.yaml", sweep_body(plot={"metrics": ["crisis", "peak_ig_spread_bp"]}))
    code, out, err = run_cli(["sweep", spec, "--workers", 1, "--out", tmp_path, "--quiet"], capsys)
    assert code == 0, err
    assert "8 runs (2 failed)" in err
    folder = folder_of(out)
    res = pd.read_parquet(folder / "results.parquet")
    bad = res[res["status"] == "failed"]
    assert list(bad["point"]) == [3, 3] and bad["error"].str.contains("RuntimeError: deliberate test failure").all()
    assert res.loc[res["status"] == "ok", "peak_ig_spread_bp"].notna().all()
    assert bad["peak_ig_spread_bp"].isna().all() and bad["seed"].notna().all()
    pts = pd.read_parquet(folder / "points.parquet")
    assert list(pts["failed"]) == [0, 0, 0, 2]
    assert report(folder / "report.json")["failed"] == 2
    assert (folder / "figures" / "heatmap_crisis.png").exists()
    assert (folder / "figures" / "lines_dry_powder_initial_bn.png").exists()


def _dies_on_point_one(task, payload):
    """Test runner: the worker process running point 1 dies (as on a segfault or the OOM killer)."""
    if task.point == 1:
        os._exit(3)
    return run_task(task, payload)


def test_dead_worker_is_retried_once_then_recorded(tmp_path):
    from sim.config import load_config
    base = load_config(None, TINY).to_dict()
    payload = {"kind": "sweep", "base": base, "series": None}
    tasks = [Task(p * 2 + r, p, r, run_seed(1, p, r), (("dry_powder.initial_bn", 600 + 100 * p),))
             for p in range(3) for r in range(2)]             # point 1 (runs 2 and 3) kills its worker
    store = PartStore(tmp_path, key="run", total=len(tasks))
    pool = ProcessPool(2)
    with pool:
        outcome = run_campaign(store, lambda done: iter(tasks), payload, pool, fn=_dies_on_point_one,
                               batch_size=100, quiet=True)
    assert outcome.done == 6 and outcome.failed == 2 and pool.retried >= 2
    consolidate(store.parts(), tmp_path / "r.parquet", "run", 6, leading_columns("sweep", ["dry_powder.initial_bn"]))
    res = pd.read_parquet(tmp_path / "r.parquet")
    assert list(res["run"]) == list(range(6))
    assert list(res["status"]) == ["ok", "ok", "failed", "failed", "ok", "ok"]
    assert res.loc[res["point"] == 1, "error"].str.contains("worker process died").all()


# =============================================================================================
# samplers and sensitivity
# =============================================================================================
def test_lhs_sweep_samples_within_bounds(tmp_path, capsys):
    body = sweep_body(replications=1, plot={"metrics": ["crisis"]})
    del body["grid"]
    body.update(sampler="lhs", n=5, bounds={"dry_powder.initial_bn": [500, 1500], "neoclouds.count": [2, 6]})
    spec = write_spec(tmp_path, "lhs.yaml", body)
    code, out, err = run_cli(["sweep", spec, "--workers", 1, "--out", tmp_path, "--quiet"], capsys)
    assert code == 0, err
    res = pd.read_parquet(folder_of(out) / "results.parquet")
    assert res["dry_powder.initial_bn"].between(500, 1500).all() and res["dry_powder.initial_bn"].nunique() == 5
    assert res["neoclouds.count"].dtype.kind == "i" and res["neoclouds.count"].between(2, 6).all()
    assert (folder_of(out) / "figures" / "heatmap_crisis.png").exists()


@pytest.mark.parametrize("method,n,points", [("sobol", 2, 2 * (3 + 2)), ("morris", 2, 2 * (3 + 1))])
def test_sensitivity_writes_indices(tmp_path, capsys, method, n, points):
    body = {"base": "baseline", "overrides": dict(TINY), "method": method, "n": n,
            "parameters": {"dry_powder.initial_bn": [600, 1800], "hyperscalers.capex_growth": [0.0, 0.5],
                           "ai.revenue_growth": [0.2, 1.0]},
            "outputs": ["fire_sale_volume_bn", "crisis"], "seed": 4, "resamples": 50}
    spec = write_spec(tmp_path, f"{method}.yaml", body)
    code, out, err = run_cli(["sensitivity", spec, "--workers", 1, "--out", tmp_path, "--quiet",
                              *([] if method == "sobol" else ["--no-figures"])], capsys)
    assert code == 0, err
    folder = folder_of(out)
    idx = pd.read_csv(folder / "indices.csv")
    cols = ["S1", "S1_conf", "ST", "ST_conf"] if method == "sobol" else ["mu", "mu_star", "mu_star_conf", "sigma"]
    assert list(idx.columns) == ["output", "method", "parameter", *cols] and len(idx) == 6
    doc = report(folder / "indices.json")
    assert doc["points"] == points and doc["runs"] == points and set(doc["outputs"]) == {"fire_sale_volume_bn", "crisis"}
    assert len(pd.read_parquet(folder / "results.parquet")) == points
    if method == "sobol":
        assert (folder / "figures" / "indices.png").exists()


def test_example_specs_are_valid():
    from sim.experiments.prepare import load_sensitivity_spec, load_sweep_spec
    sizes = {p.name: load_sweep_spec(p).n_points for p in (ROOT / "configs" / "sweeps").glob("*.yaml")}
    assert sizes == {"smoke.yaml": 4, "drypowder_vs_capex.yaml": 25, "gpu_drop_vs_leverage.yaml": 25}
    assert load_sensitivity_spec(ROOT / "configs" / "sensitivity" / "headline.yaml").n_points == 32 * 8


# =============================================================================================
# bad input: exit 2, one clear message, nothing written
# =============================================================================================
BAD = {
    "empty_list": ({"grid": {"dry_powder.initial_bn": []}}, "empty list of values"),
    "empty_range": ({"grid": {"dry_powder.initial_bn": {"low": 900, "high": 300, "num": 3}}}, "empty range"),
    "empty_bounds": ({"grid": None, "sampler": "lhs", "n": 4, "bounds": {"dry_powder.initial_bn": [5, 5]}},
                     "empty range"),
    "unknown_parameter": ({"grid": {"dry_powder.intial_bn": [1, 2]}}, "did you mean 'dry_powder.initial_bn'"),
    "section_not_key": ({"grid": {"dry_powder": [1, 2]}}, "is a config section"),
    "sampler_without_bounds": ({"grid": None, "sampler": "lhs", "n": 4}, "needs 'bounds'"),
    "sobol_not_power_of_2": ({"grid": None, "sampler": "sobol", "n": 5, "bounds": {"ai.revenue_growth": [0, 1]}},
                             "power of 2"),
    "typo_top_level": ({"replicatoins": 3}, "did you mean 'replications'"),
    "value_out_of_range": ({"grid": {"retail.margin_share": [0.1, 1.5]}}, "retail.margin_share"),
    "unknown_metric": ({"plot": {"metrics": ["peak_ig_sprad_bp"]}}, "did you mean 'peak_ig_spread_bp'"),
    "plot_axis_not_swept": ({"plot": {"x": "ai.revenue_growth"}}, "not a swept parameter"),
    "seed_as_parameter": ({"grid": {"seed": [1, 2]}}, "'seed' cannot be varied"),
    "unknown_base": ({"base": "no_such_scenario"}, "unknown scenario"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_sweep_spec_exits_2_and_writes_nothing(tmp_path, capsys, case):
    change, expected = BAD[case]
    body = sweep_body()
    for k, v in change.items():
        if v is None:
            body.pop(k, None)
        else:
            body[k] = v
    spec = write_spec(tmp_path / "specs", "bad.yaml", body)
    out = tmp_path / "out"
    code, stdout, err = run_cli(["sweep", spec, "--workers", 1, "--out", out], capsys)
    assert code == 2
    assert err.startswith("error: ") and expected in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("case,text,expected", [
    ("invalid_yaml", "grid: {dry_powder.initial_bn: [1, 2\n", "invalid YAML"),
    ("not_a_mapping", "- 1\n- 2\n", "must be a mapping"),
    ("empty_file", "", "is empty"),
    ("missing_file", None, "not found"),
])
def test_unreadable_specs_exit_2(tmp_path, capsys, case, text, expected):
    spec = tmp_path / "spec.yaml"
    if text is not None:
        spec.write_text(text)
    for command in ("sweep", "sensitivity"):
        code, _, err = run_cli([command, spec, "--out", tmp_path / "out"], capsys)
        assert code == 2 and expected in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_bad_sensitivity_and_mc_input_exit_2(tmp_path, capsys):
    spec = write_spec(tmp_path, "s.yaml", {"method": "sobol", "n": 6, "outputs": ["crisis"]})
    code, _, err = run_cli(["sensitivity", spec, "--out", tmp_path / "out"], capsys)
    assert code == 2 and "power of 2" in err
    spec = write_spec(tmp_path, "s.yaml", {"method": "morris", "n": 4, "outputs": ["crsis"]})
    code, _, err = run_cli(["sensitivity", spec, "--out", tmp_path / "out"], capsys)
    assert code == 2 and "did you mean 'crisis'" in err
    code, _, err = run_cli(["mc", "-n", 3, "--set", "dry_powder.intial_bn=5", "--out", tmp_path / "out"], capsys)
    assert code == 2 and "initial_bn" in err and "Traceback" not in err
    code, _, err = run_cli(["mc", "-n", 3, "--scheduler", "nonsense", "--out", tmp_path / "out"], capsys)
    assert code == 2 and "--scheduler" in err
    with pytest.raises(SystemExit) as exc:
        cli.main(["mc", "-n", "0"])
    assert exc.value.code == 2
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(executors, "CONNECT_TIMEOUT_S", 2.0)
    address = f"tcp://127.0.0.1:{free_port()}"
    spec = write_spec(tmp_path, "s.yaml", sweep_body())
    t0 = time.monotonic()
    code, _, err = run_cli(["sweep", spec, "--scheduler", address, "--out", tmp_path / "out"], capsys)
    assert code == 2 and address in err and "Traceback" not in err
    assert time.monotonic() - t0 < 30
    assert not (tmp_path / "out").exists()                  # nothing created before the input is checked


def _blas_thread_settings(task, payload):
    """Test runner: the thread settings a worker process was started with."""
    return {name: os.environ.get(name) for name in workers.WORKER_THREAD_LIMITS}, None


def test_pool_workers_run_one_blas_thread_each_unless_the_user_says_otherwise(monkeypatch):
    """Workers of a local pool start with one BLAS/OpenMP thread each (two workers on two cores
    would otherwise run four BLAS threads); a value the user set is kept."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.setenv(name, "0")     # recorded first, so that the test leaves the environment as it was
        monkeypatch.delenv(name)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    assert workers.limit_worker_threads() == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                                                  "MKL_NUM_THREADS": "3"}
    pool = executors.ProcessPool(2)
    assert pool.describe()["blas_threads_per_worker"] == "1"
    with pool:
        seen, _ = pool.pool.submit(_blas_thread_settings, Task(0, 0, 0, 1), {}).result()
    assert seen["OPENBLAS_NUM_THREADS"] == "1" and seen["OMP_NUM_THREADS"] == "1"


def test_the_worker_pool_starts_early_only_when_the_command_will_use_one():
    """The forkserver (which imports the model for the workers) is started at once for a local pool
    of two or more workers, and not for one worker, a Dask scheduler or a single run."""
    import argparse
    import multiprocessing as mp
    ns = argparse.Namespace
    assert not workers.start_workers_early(ns(workers=1, scheduler=None, n=50))
    assert not workers.start_workers_early(ns(workers=4, scheduler="local", n=50))
    assert not workers.start_workers_early(ns(workers=4, scheduler=None, n=1))
    if "forkserver" in mp.get_all_start_methods():
        assert workers.start_workers_early(ns(workers=2, scheduler=None, n=50))
        pool = executors.ProcessPool(2)      # the pool uses the same server and the same preload
        with pool:
            row = pool.pool.submit(tasks.base_row, tasks.Task(0, 0, 0, 1), {"kind": "mc"}).result()
        assert row["seed"] == 1
