"""Performance benchmarks of drypowder, with their targets (issue "Performance: fast enough for
1,000-run Monte Carlo on a laptop, and measured against Mesa and numpy").

    .venv/bin/python benchmarks/run.py [--quick] [--v1 | --before REV | --before-tree DIR] [--only NAME ...]
                                       [--instructions]

Prints every figure with its target and PASS/FAIL (medians over repeats measured in this one
invocation) and writes ``benchmarks/results/latest.json``. ``--before REV`` (or ``--before-tree DIR``) also times
baseline runs of git revision REV (extracted to a temporary folder) interleaved with this code's,
run for run, and reports the median of the paired ratios. ``--instructions`` adds the instructions executed per baseline run, counted
under valgrind: unlike seconds, the same on a busy machine as on an idle one. What each benchmark
measures: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
GROUPS = ("model", "retail", "mc", "sweep")
SLOW_GROUPS = ("instructions",)          # run only when asked for (--instructions or --only)


def _median(xs):
    return float(statistics.median(xs)) if xs else float("nan")


# =============================================================================================
# Measurement helpers
# =============================================================================================
def timed_model_run(holders: int, seed: int) -> tuple[float, float]:
    """(CPU s, wall s) of model construction + a full run (data collection on), in this process."""
    from sim.model import DryPowderModel
    gc.collect()
    c0, w0 = time.process_time(), time.perf_counter()
    model = DryPowderModel(rng=seed, **{"retail.holders": holders}).run()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    if hasattr(model, "close"):      # as the batch runners do (not timed; older versions have no close)
        model.close()
    return cpu, wall


def machine_speed_s() -> float:
    """CPU seconds of a fixed workload shaped like the model's weekly loop (small numpy arrays,
    Python scalars, dicts): how fast this machine is right now. It varies with what else runs."""
    import numpy as np
    x = np.linspace(-1.0, 1.0, 64)
    ledger: dict[str, float] = {}
    gc.collect()
    c0 = time.process_time()
    for i in range(20_000):
        y = np.maximum(x * 1.01, 0.0)
        ledger["k%d" % (i % 16)] = ledger.get("k%d" % (i % 16), 0.0) + float(np.add.reduce(y))
    return time.process_time() - c0


_COUNT_RUNS = """
import sys
sys.path.insert(0, sys.argv[1])
from sim.model import DryPowderModel
lean = {"detail": False} if sys.argv[3] == "lean" else {}
for seed in range(int(sys.argv[2])):
    DryPowderModel(rng=seed, **lean).run()
"""


def instructions_per_run(tree: Path, lean: bool = False) -> float | None:
    """Instructions executed by one baseline run (construction + 156 weeks) with the code in ``tree``:
    valgrind's count for 3 runs minus that for 1 run (imports cancel out), halved. ``lean``: the
    model as experiments build it (``detail=False``: no event log or agent rows)."""
    if shutil.which("valgrind") is None:
        return None
    counts = []
    for n in (1, 3):
        r = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                            sys.executable, "-c", _COUNT_RUNS, str(tree), str(n), "lean" if lean else "full"],
                           capture_output=True, text=True,
                           env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"})
        refs = [line for line in r.stderr.splitlines() if "I   refs" in line or "I refs" in line]
        if r.returncode != 0 or not refs:
            return None
        counts.append(int(refs[-1].split(":")[1].replace(",", "").split()[0]))
    return (counts[1] - counts[0]) / 2


def tree_rss(proc) -> int:
    """Resident memory of a process and all its descendants, bytes (shared pages count in each)."""
    import psutil
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def run_measured(cmd: list[str], cwd: Path = ROOT, timeout: float = 3600.0) -> dict:
    """Run a command; wall time and peak resident memory of its whole process tree (sampled)."""
    import psutil
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    popen = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc = psutil.Process(popen.pid)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(proc))
            done.wait(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        out, err = popen.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        popen.kill()
        out, err = popen.communicate()
    done.set()
    th.join()
    return {"cmd": " ".join(str(c) for c in cmd), "wall_s": time.perf_counter() - t0, "peak_rss_mb": peak[0] / 2**20,
            "returncode": popen.returncode, "stdout": out[-2000:], "stderr": err[-2000:]}


class Report:
    def __init__(self):
        self.figures: list[dict] = []
        self.details: dict = {}

    def add(self, name: str, value: float | None, unit: str, target: float | None = None, op: str = "<=",
            note: str = "") -> None:
        if value is None:
            status = "NOT MEASURED"
        elif target is None:
            status = "info"
        else:
            status = "PASS" if (value <= target if op == "<=" else value >= target) else "FAIL"
        self.figures.append({"name": name, "value": value, "unit": unit, "target": target, "op": op,
                             "status": status, "note": note})
        val = "-" if value is None else (f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}")
        tgt = "" if target is None else f"{op} {target:g} {unit}".strip()
        print(f"  {status:13s} {name:58s} {val:>9s} {unit:6s} {('target ' + tgt) if tgt else ''}"
              f"{('  (' + note + ')') if note else ''}", flush=True)


# =============================================================================================
# 1. Model runs in this process
# =============================================================================================
def bench_model(rep: Report, quick: bool, label: str = "") -> dict:
    from sim.model import DryPowderModel
    DryPowderModel(**{"retail.holders": 10_000}).run(3)          # imports and first-call costs, not timed
    reps = {0: 3 if quick else 7, 10_000: 5 if quick else 9, 100_000: 1 if quick else 3}
    out = {}
    for holders, n in reps.items():
        runs = [timed_model_run(holders, seed) for seed in range(n)]
        out[holders] = {"cpu_s": [r[0] for r in runs], "wall_s": [r[1] for r in runs]}
    base = _median(out[10_000]["cpu_s"])
    speed = [machine_speed_s() for _ in range(3)]
    out["machine_speed_s"] = speed
    rep.add(f"{label}machine speed now: fixed small-array workload, CPU", _median(speed), "s")
    rep.add(f"{label}baseline run, 10,000 holders: CPU per run (construction + 156 weeks)", base, "s", 0.25)
    rep.add(f"{label}baseline run: wall per run", _median(out[10_000]["wall_s"]), "s")
    rep.add(f"{label}baseline without retail holders: CPU per run", _median(out[0]["cpu_s"]), "s")
    big = _median(out[100_000]["cpu_s"])
    rep.add(f"{label}100,000 holders: CPU per run", big, "s", 5.0)
    rep.add(f"{label}100,000 holders: wall per run", _median(out[100_000]["wall_s"]), "s", 5.0)
    rep.add(f"{label}time ratio 100,000 / 10,000 holders (model run)", big / base, "x", 11.0)
    return {str(k): v for k, v in out.items()}


_PAIR_WORKER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from sim.model import DryPowderModel
DryPowderModel(rng=0).run(3)                    # imports and first-call costs, not timed
print("ready", flush=True)
for line in sys.stdin:                          # one seed per line: CPU s of construction + full run
    t = time.process_time()
    model = DryPowderModel(rng=int(line)).run()
    print(time.process_time() - t, flush=True)
    if hasattr(model, "close"):
        model.close()
"""


def _extract(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


#: Version 1 after the refactor into agents and one cascade engine, with machine-independent arithmetic
#: (the model v2 issue's reference: a v2 baseline run may cost at most 1.5 times its CPU).
V1_REFACTORED = "68c298c"
V2_CPU_LIMIT = 1.5


def bench_model_before(rep: Report, rev: str | None, tree: Path | None, quick: bool) -> dict | None:
    """Baseline runs of this code and of another version (git revision ``rev``, extracted to a
    temporary folder, or the source tree ``tree``), interleaved: two worker processes take turns
    on the same seeds (now, before, before, now, ...), so that both see the same minutes of a
    machine whose speed drifts by up to 2x. Reports both medians and the median of the paired
    ratios now / before."""
    tmp = Path(tempfile.mkdtemp(prefix="drypowder-before-"))
    label = str(tree) if tree is not None else f"git {rev}"
    procs = []
    try:
        before = tree if tree is not None else _extract(rev, tmp)
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
        for path in (ROOT, before):
            procs.append(subprocess.Popen([sys.executable, "-c", _PAIR_WORKER, str(path)], cwd=path, env=env,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
        for proc in procs:
            if proc.stdout.readline().strip() != "ready":
                rep.add("now / before, baseline run CPU (interleaved)", None, "x", note=f"{label} did not start")
                return None

        def one(proc, seed: int) -> float:
            proc.stdin.write(f"{seed}\n")
            proc.stdin.flush()
            return float(proc.stdout.readline())

        now_s, before_s = [], []
        for i in range(8 if quick else 24):
            seed = i % 9
            if i % 2 == 0:
                now_s.append(one(procs[0], seed))
                before_s.append(one(procs[1], seed))
            else:
                before_s.append(one(procs[1], seed))
                now_s.append(one(procs[0], seed))
        ratio = _median([a / b for a, b in zip(now_s, before_s)])
        print(f"  (interleaved with {label}: {len(now_s)} pairs)")
        rep.add("now, interleaved: baseline run CPU per run", _median(now_s), "s", note="same minutes as before")
        rep.add("before, interleaved: baseline run CPU per run", _median(before_s), "s", note=label)
        against_v1 = rev is not None and V1_REFACTORED.startswith(rev[:7]) and len(rev) >= 7
        rep.add("now / before, baseline run CPU (median of paired ratios)", ratio, "x",
                target=V2_CPU_LIMIT if against_v1 else None,
                note="against refactored version 1" if against_v1 else "")
        return {"label": label, "now_cpu_s": now_s, "before_cpu_s": before_s, "paired_ratio": ratio}
    finally:
        for proc in procs:
            proc.stdin.close()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# =============================================================================================
# 2. The retail update against numpy and Mesa
# =============================================================================================
def bench_retail(rep: Report, quick: bool) -> dict:
    from tests import retail_reference as rr
    weeks = 12 if quick else 26
    mesa_weeks = 1 if quick else 2
    repeats = 2 if quick else 5
    path = rr.price_path(weeks)
    out: dict = {}
    for holders in (10_000, 100_000):
        pop_t, np_t, agree = [], [], []
        for _ in range(repeats):
            pop = rr.make_population(holders)
            ref = rr.NumpyRetail(pop)
            tp, tn = [], []
            for w in path:
                gc.disable()
                t = time.perf_counter(); rr.population_week(pop, w); tp.append(time.perf_counter() - t)
                t = time.perf_counter(); ref.week(w); tn.append(time.perf_counter() - t)
                gc.enable()
            pop_t.append(tp)
            np_t.append(tn)
            agree.append(rr.compare_states(pop, ref))
        pop_week = _median([sum(t) / weeks for t in pop_t])
        np_week = _median([sum(t) / weeks for t in np_t])
        # one Mesa agent per holder, on the first weeks of the same path (slow: a few weeks only)
        pop = rr.make_population(holders)
        mesa_model = rr.MesaRetailModel(pop)
        tm = []
        for w in path[:mesa_weeks]:
            t = time.perf_counter(); mesa_model.week(w); tm.append(time.perf_counter() - t)
        pop_same = rr.make_population(holders)
        for w in path[:mesa_weeks]:
            rr.population_week(pop_same, w)
        mesa_agree = rr.compare_states(pop_same, mesa_model)
        pop_first = _median([sum(t[:mesa_weeks]) for t in pop_t])
        mesa_ratio = sum(tm) / pop_first
        out[holders] = {"population_week_s": pop_week, "numpy_week_s": np_week, "mesa_week_s": sum(tm) / mesa_weeks,
                        "population_first_weeks_s": pop_first, "mesa_weeks": mesa_weeks, "weeks": weeks,
                        "agreement_numpy": max(agree), "agreement_mesa": mesa_agree}
        del mesa_model
        gc.collect()
        tag = f"{holders:,} holders"
        rep.add(f"retail update, {tag}: model's population, per week", pop_week * 1e3, "ms")
        rep.add(f"retail update, {tag}: plain numpy reference, per week", np_week * 1e3, "ms")
        rep.add(f"retail update, {tag}: Mesa agent per holder, per week", sum(tm) / mesa_weeks * 1e3, "ms")
        limit = 3.0 if holders == 100_000 else None
        rep.add(f"retail update, {tag}: population / numpy reference", pop_week / np_week, "x", limit)
        rep.add(f"retail update, {tag}: Mesa agents / population", mesa_ratio, "x",
                20.0 if holders == 100_000 else None, op=">=")
        rep.add(f"retail update, {tag}: largest difference vs numpy / Mesa", max(max(agree), mesa_agree), "rel",
                1e-9)
    rep.add("retail update: time ratio 100,000 / 10,000 holders",
            out[100_000]["population_week_s"] / out[10_000]["population_week_s"], "x", 11.0)
    return {str(k): v for k, v in out.items()}


# =============================================================================================
# 3. Monte Carlo: parallel efficiency and memory
# =============================================================================================
def _mc(n: int, workers: int, tmp: Path) -> dict:
    out = tmp / f"mc-{n}-{workers}"
    cmd = [sys.executable, "-m", "sim.cli", "mc", "baseline", "-n", str(n), "--seed", "1", "--workers", str(workers),
           "--out", str(out), "--no-figures", "--quiet"]
    r = run_measured(cmd)
    r["runs"] = n
    return r


def bench_mc(rep: Report, quick: bool) -> dict:
    probe = subprocess.run([sys.executable, "-m", "sim.cli", "mc", "--help"], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    if probe.returncode != 0:
        reason = "`drypowder mc` is not available: " + (probe.stderr.strip().splitlines() or ["?"])[-1]
        for name in ("mc parallel efficiency, 2 workers vs 1", "mc 1,000 runs: peak memory of the process tree",
                     "mc peak memory, 1,000 runs / 100 runs"):
            rep.add(name, None, "", note=reason)
        return {"error": reason}
    tmp = Path(tempfile.mkdtemp(prefix="drypowder-bench-mc-"))
    res: dict = {}
    try:
        # long enough that the start-up (about 3 s, as long as 15 runs on one worker) does not dominate
        n = 16 if quick else 192
        # one efficiency per pair of commands run back to back (1 worker first, then 2 first, ...), the
        # median of the pairs: one pair moves by 0.2 with the host's other load from one minute to the next
        pairs = []
        for i in range(1 if quick else 3):
            first, second = (1, 2) if i % 2 == 0 else (2, 1)
            walls = {first: _mc(n, first, tmp), second: _mc(n, second, tmp)}
            pairs.append({"1": walls[1], "2": walls[2]})
        res["efficiency"] = pairs
        failed = [r for pair in pairs for r in pair.values() if r["returncode"] != 0]
        ok = not failed
        eff = _median([pair["1"]["wall_s"] / (2 * pair["2"]["wall_s"]) for pair in pairs]) if ok else None
        rep.add(f"mc {n} runs: wall with 1 worker (median of {len(pairs)})",
                _median([pair["1"]["wall_s"] for pair in pairs]) if ok else None, "s")
        rep.add(f"mc {n} runs: wall with 2 workers (median of {len(pairs)})",
                _median([pair["2"]["wall_s"] for pair in pairs]) if ok else None, "s")
        rep.add("mc parallel efficiency, 2 workers vs 1", eff, "", 0.8, op=">=",
                note=(f"median of {len(pairs)} pairs" if ok else "mc failed: " + failed[0]["stderr"][-200:]))
        small, big = (50, 200) if quick else (100, 1000)
        a = _mc(small, 2, tmp)
        # the host's speed just before and just after the long command: it drifts within minutes
        speed_before = _median([machine_speed_s() for _ in range(3)])
        b = _mc(big, 2, tmp)
        speed_after = _median([machine_speed_s() for _ in range(3)])
        res["machine_speed_around_big_s"] = [speed_before, speed_after]
        rep.add(f"machine speed just before mc {big:,} runs (the model group's workload)", speed_before, "s")
        rep.add(f"machine speed just after mc {big:,} runs", speed_after, "s")
        res["memory"] = {str(small): a, str(big): b}
        ok = a["returncode"] == 0 and b["returncode"] == 0
        rep.add(f"mc {big:,} runs, 2 workers: wall", b["wall_s"] if ok else None, "s",
                120.0 if big == 1000 else None)       # the issue: 1,000 runs within 2 minutes
        rep.add(f"mc {big:,} runs, 2 workers: runs per second", big / b["wall_s"] if ok else None, "1/s")
        rep.add(f"mc {big:,} runs: peak memory of the process tree", b["peak_rss_mb"] if ok else None, "MB", 1536.0)
        rep.add(f"mc peak memory, {big:,} runs / {small:,} runs (flat: about 1)",
                b["peak_rss_mb"] / a["peak_rss_mb"] if ok else None, "x", 1.25)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


# =============================================================================================
# 4. drypowder sweep against Mesa's batch_run
# =============================================================================================
def bench_sweep(rep: Report, quick: bool) -> dict:
    import yaml
    tmp = Path(tempfile.mkdtemp(prefix="drypowder-bench-sweep-"))
    res: dict = {}
    try:
        spec = yaml.safe_load((HERE / "sweep_grid.yaml").read_text())
        if quick:
            spec["grid"] = {k: v[:2] for k, v in spec["grid"].items()}
            spec["replications"] = 2
        spec_path = tmp / "sweep_grid.yaml"
        spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
        n_runs = spec["replications"] * len(list(spec["grid"].values())[0]) * len(list(spec["grid"].values())[1])
        sw = run_measured([sys.executable, "-m", "sim.cli", "sweep", str(spec_path), "--workers", "2",
                           "--out", str(tmp / "sweep"), "--no-figures", "--quiet"])
        rows_json = tmp / "batch_rows.json"
        br = run_measured([sys.executable, str(HERE / "mesa_batch.py"), str(spec_path), "--processes", "2",
                           "--out", str(rows_json)])
        res = {"runs": n_runs, "sweep": sw, "batch_run": br}
        ok_sw, ok_br = sw["returncode"] == 0, br["returncode"] == 0
        same = None
        if ok_sw and ok_br:
            same = _same_runs(tmp / "sweep", rows_json, list(spec["grid"]))
            res["same_runs"] = same
        note_sw = "" if ok_sw else "sweep failed: " + sw["stderr"][-200:]
        note_br = "" if ok_br else "batch_run failed: " + br["stderr"][-200:]
        rep.add(f"drypowder sweep, {n_runs} runs, 2 workers: runs per second", n_runs / sw["wall_s"] if ok_sw else None,
                "1/s", note=note_sw)
        rep.add("mesa batch_run, same grid and seeds, 2 processes: runs per second",
                n_runs / br["wall_s"] if ok_br else None, "1/s", note=note_br)
        rep.add("drypowder sweep: peak memory of the process tree", sw["peak_rss_mb"] if ok_sw else None, "MB")
        rep.add("mesa batch_run: peak memory of the process tree", br["peak_rss_mb"] if ok_br else None, "MB")
        if same is not None:
            rep.add("sweep and batch_run ran the same simulations (final AI revenue differs by)", same, "rel", 1e-9)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res


def _same_runs(sweep_dir: Path, rows_json: Path, keys: list[str]) -> float:
    """Largest relative difference of the final AI revenue between matching sweep and batch_run runs."""
    import pandas as pd
    res = pd.read_parquet(next(sweep_dir.rglob("results.parquet")))
    rows = json.loads(rows_json.read_text())["rows"]
    worst = 0.0
    for r in rows:
        sel = res["seed"] == r["rng"]
        for k in keys:
            sel &= (res[k] - r[k]).abs() < 1e-12
        if sel.sum() != 1:
            return float("inf")
        got = float(res.loc[sel, "final_ai_revenue_bn"].iloc[0])
        worst = max(worst, abs(got - r["ai_revenue_bn"]) / max(abs(got), 1e-12))
    return worst


# =============================================================================================
# =============================================================================================
# 5. Instructions per run (valgrind): a count that does not depend on the machine's load
# =============================================================================================
def bench_instructions(rep: Report, rev: str | None, tree: Path | None) -> dict:
    res: dict = {}
    now = instructions_per_run(ROOT)
    res["current"] = now
    note = "" if now is not None else "valgrind not found or failed"
    rep.add("instructions per baseline run", now / 1e6 if now else None, "M", note=note)
    lean = instructions_per_run(ROOT, lean=True) if now else None
    res["current_lean"] = lean
    rep.add("instructions per baseline run as experiments build it (detail=False)", lean / 1e6 if lean else None,
            "M", note=note)
    if rev or tree:
        tmp = Path(tempfile.mkdtemp(prefix="drypowder-before-"))
        try:
            label = str(tree) if tree is not None else f"git {rev}"
            tree = tree if tree is not None else _extract(rev, tmp)
            before = instructions_per_run(tree)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        res["before"] = before
        rep.add("before: instructions per baseline run", before / 1e6 if before else None, "M", note=label)
        if now and before:
            rep.add("instructions per run, now / before", now / before, "x")
    return res


def machine() -> dict:
    import mesa
    import numpy as np
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "numpy": np.__version__, "mesa": mesa.__version__,
            "load_average": os.getloadavg()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer repeats and smaller runs")
    p.add_argument("--only", nargs="+", choices=GROUPS + SLOW_GROUPS, help="run only these groups")
    p.add_argument("--instructions", action="store_true",
                   help="also count instructions per baseline run under valgrind (a few minutes)")
    p.add_argument("--before", metavar="REV", help="also time baseline runs of git revision REV, interleaved with these")
    p.add_argument("--v1", action="store_true",
                   help=f"--before {V1_REFACTORED}, the refactored version 1 (target: at most {V2_CPU_LIMIT:g}x its CPU)")
    p.add_argument("--before-tree", metavar="DIR", type=Path, help="the same with the source tree DIR")
    p.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = p.parse_args(argv)
    if args.v1:
        args.before = args.before or V1_REFACTORED

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(HERE))
    groups = list(args.only or GROUPS) + (["instructions"] if args.instructions else [])
    rep = Report()
    print(f"drypowder benchmarks ({'quick' if args.quick else 'full'}), {datetime.now():%Y-%m-%d %H:%M}, "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    rep.details["load_average"] = {}

    def header(group: str, text: str) -> None:
        load = os.getloadavg()[0]
        rep.details["load_average"][group] = load
        print(f"{text} (load average {load:.2f}):")

    if "model" in groups:
        header("model", "model runs, in process (medians)")
        rep.details["model"] = bench_model(rep, args.quick)
        if args.before or args.before_tree:
            rep.details["model_before"] = bench_model_before(rep, args.before, args.before_tree, args.quick)
    if "retail" in groups:
        header("retail", "retail update (medians)")
        rep.details["retail"] = bench_retail(rep, args.quick)
    if "mc" in groups:
        header("mc", "drypowder mc (subprocesses)")
        rep.details["mc"] = bench_mc(rep, args.quick)
    if "sweep" in groups:
        header("sweep", "drypowder sweep vs mesa batch_run (subprocesses)")
        rep.details["sweep"] = bench_sweep(rep, args.quick)
    if "instructions" in groups:
        header("instructions", "instructions per run (valgrind; independent of load)")
        rep.details["instructions"] = bench_instructions(rep, args.before, args.before_tree)
    failed = [f["name"] for f in rep.figures if f["status"] == "FAIL"]
    print(f"{len(rep.figures)} figures in {time.perf_counter() - t0:.0f}s; "
          f"{sum(f['status'] == 'PASS' for f in rep.figures)} pass, {len(failed)} fail, "
          f"{sum(f['status'] == 'NOT MEASURED' for f in rep.figures)} not measured")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                    "mode": "quick" if args.quick else "full", "machine": machine(),
                                    "figures": rep.figures, "details": rep.details}, indent=2, default=str))
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
