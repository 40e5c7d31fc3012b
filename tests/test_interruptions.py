"""Interrupted, killed and refused: what a sweep, an mc and a run leave behind.

* SIGKILL of the main process (what the out-of-memory killer does) leaves no process of the
  command alive: the pool's workers watch their parent and the worker server and the resource
  tracker end with them.
* Ctrl-C at random moments: after every interruption the runs reported done are the rows on
  disk, and resuming gives the same table as an uninterrupted sweep.
* A full disk ends the command with one clean ``error:`` line and a folder marked ``interrupted``
  that ``--resume`` finishes.

The campaigns are tiny (8 weeks, 100 retail holders, four agents of each kind).
"""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from sim import cli, outputs
from sim.experiments import store

ROOT = Path(__file__).resolve().parents[1]
TINY = {"simulation.steps": 8, "retail.holders": 100, "neoclouds.count": 4, "private_credit.count": 4,
        "hedge_funds.count": 4}
PROC = Path("/proc")

pytestmark = pytest.mark.skipif(not (PROC / "self" / "stat").exists(), reason="needs Linux /proc")


def sweep_spec(folder: Path, name: str, replications: int) -> Path:
    body = {"base": "baseline", "overrides": dict(TINY), "seed": 5, "replications": replications,
            "grid": {"dry_powder.initial_bn": [400, 800, 1200, 1600], "hyperscalers.capex_growth": [0.0, 0.3]},
            "plot": {"metrics": ["crisis"]}}
    path = folder / name
    path.write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


def session_processes(sid: int) -> list[tuple[int, str]]:
    """Live processes (not zombies) of session ``sid``: (pid, command line)."""
    found = []
    for d in PROC.iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            found.append((int(d.name), cmd))
    return found


def launch(args: list[str], cwd: Path) -> subprocess.Popen:
    """The command in a session of its own, so that all its processes can be found (and Ctrl-C
    sent to its group, as a terminal does)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "sim.cli", *args], cwd=cwd, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def rows_on_disk(folder: Path, key: str = "run") -> int:
    parts = sorted((folder / "parts").glob("part-*.parquet")) if (folder / "parts").exists() else []
    keys = [pq.read_table(p, columns=[key]).column(0).to_numpy() for p in parts]
    return int(np.unique(np.concatenate(keys)).size) if keys else 0


def results(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / "results.parquet").drop(columns=["elapsed_s"])


# =============================================================================================
# SIGKILL: no process outlives the command
# =============================================================================================
@pytest.mark.parametrize("command", ["sweep", "mc"])
def test_sigkill_of_the_main_process_leaves_no_process_behind(tmp_path, command):
    if command == "sweep":
        args = ["sweep", str(sweep_spec(tmp_path, "kill.yaml", 200))]
    else:
        args = ["mc", "baseline", "-n", "2000", *[x for k, v in TINY.items() for x in ("--set", f"{k}={v}")]]
    proc = launch([*args, "--workers", "2", "--out", str(tmp_path / "out"), "--quiet", "--no-figures"], tmp_path)
    deadline = time.monotonic() + 60
    while len(session_processes(proc.pid)) < 5:        # main, resource tracker, forkserver, two workers
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, session_processes(proc.pid)
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = session_processes(proc.pid)
    for pid, _ in left:                                  # (so that a failure leaves nothing running)
        os.kill(pid, signal.SIGKILL)
    assert left == [], f"still alive 10 s after the main process was killed: {left}"


@pytest.mark.parametrize("command,sig,group", [("mc", signal.SIGTERM, False), ("sweep", signal.SIGHUP, True)])
def test_sigterm_and_sighup_end_the_command_and_its_workers_cleanly(tmp_path, command, sig, group):
    """SIGTERM to the main process (a service manager, ``kill``) and SIGHUP to the group (a closed
    terminal) stop the command like Ctrl-C: rows kept and counted, workers ended."""
    if command == "sweep":
        args, key = ["sweep", str(sweep_spec(tmp_path, "hup.yaml", 200))], "run"
    else:
        args, key = ["mc", "baseline", "-n", "3000", *[x for k, v in TINY.items() for x in ("--set", f"{k}={v}")]], \
            "replication"
    proc = launch([*args, "--workers", "2", "--out", str(tmp_path / "out"), "--quiet", "--no-figures",
                   "--batch-size", "5"], tmp_path)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "out").glob("*/parts/part-*.parquet")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    (os.killpg if group else os.kill)(proc.pid, sig)
    _, stderr = proc.communicate(timeout=60)
    folder = next((tmp_path / "out").iterdir())
    m = DONE.search(stderr)
    assert proc.returncode == 130 and m and "Traceback" not in stderr, stderr
    assert int(m.group(1)) == rows_on_disk(folder, key)
    assert json.loads((folder / "manifest.json").read_text())["status"] == "interrupted"
    deadline = time.monotonic() + 10
    while session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert session_processes(proc.pid) == []


# =============================================================================================
# Ctrl-C at random moments
# =============================================================================================
DONE = re.compile(r"interrupted: (\d+) of (\d+) runs done \((\d+) failed\) and kept in")
#: Exit statuses of an interrupted command: 130, or death by SIGINT after a clean exit (what CPython
#: does when the Ctrl-C went through an extension module's import; a shell shows 130 for both).
INTERRUPTED = (130, -signal.SIGINT)


def test_ctrl_c_at_ten_random_moments_keeps_every_reported_run_and_resumes_identically(tmp_path, capsys):
    spec = sweep_spec(tmp_path, "ctrlc.yaml", 20)                 # 160 runs
    out = tmp_path / "out"
    base = ["sweep", str(spec), "--out", str(out), "--quiet", "--no-figures", "--batch-size", "4"]
    rng = np.random.default_rng(20260101)
    before = 0
    reported = 0
    for i in range(10):
        folder = next(out.glob("sweep-ctrlc-*"), None)
        parts0 = len(list((folder / "parts").glob("part-*"))) if folder and (folder / "parts").exists() else 0
        workers = ["--workers", "2" if i % 2 else "1"]           # a pool, or in this process
        proc = launch(base + workers + (["--resume"] if folder else []), tmp_path)
        if rng.random() < 0.3:                                # any moment, start-up included
            time.sleep(rng.uniform(0.3, 2.0))     # (the interpreter's own first ~0.1 s is Python's)
        else:                                                 # while runs are being written
            deadline = time.monotonic() + 60
            want = parts0 + int(rng.integers(1, 4))
            while proc.poll() is None and time.monotonic() < deadline:
                folder = next(out.glob("sweep-ctrlc-*"), None)
                if folder and len(list((folder / "parts").glob("part-*.parquet"))) >= want:
                    break
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)               # Ctrl-C: the whole group, as a terminal sends it
        stdout, stderr = proc.communicate(timeout=60)
        assert "Traceback" not in stderr, stderr
        folder = next(out.glob("sweep-ctrlc-*"), None)
        on_disk = rows_on_disk(folder) if folder else 0
        m = DONE.search(stderr)
        if m:
            assert proc.returncode in INTERRUPTED, stderr
            assert int(m.group(1)) == on_disk, (i, stderr)   # what it says is what it kept
            assert json.loads((folder / "manifest.json").read_text())["status"] == "interrupted"
            lines = [line for line in stderr.splitlines() if line.strip()]
            assert len(lines) == 2 and lines[1].startswith("finish with: drypowder sweep") and "--resume" in lines[1]
            reported += 1
        elif proc.returncode == 0:                            # it finished before the signal
            break
        else:                                                 # stopped before any run was started
            assert proc.returncode in INTERRUPTED and stderr.strip() == "interrupted", stderr
            assert on_disk == before, (i, stderr)
        assert on_disk >= before                              # nothing lost
        before = on_disk
        assert not session_processes(proc.pid)
    assert reported >= 3, "too few interruptions landed while runs were being written"

    code = cli.main(base + ["--workers", "2", "--resume"])    # finish it, in this process
    capsys.readouterr()
    assert code == 0
    folder = next(out.glob("sweep-ctrlc-*"))
    man = json.loads((folder / "manifest.json").read_text())
    assert man["status"] == "complete"
    code = cli.main(["sweep", str(spec), "--workers", "1", "--out", str(tmp_path / "ref"), "--quiet", "--no-figures"])
    capsys.readouterr()
    assert code == 0
    ref = next((tmp_path / "ref").glob("sweep-ctrlc-*"))
    pd.testing.assert_frame_equal(results(folder), results(ref))


# =============================================================================================
# A full disk
# =============================================================================================
def _enospc_after(monkeypatch, module, name: str, calls_ok: int) -> dict:
    """Make ``module.name`` raise ENOSPC after ``calls_ok`` successful calls, as a full disk does."""
    real = getattr(module, name)
    state = {"calls": 0, "full": True}

    def write(*args, **kwargs):
        state["calls"] += 1
        if state["full"] and state["calls"] > calls_ok:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(args[-1]) if args else None)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, write)
    return state


def test_a_full_disk_ends_a_sweep_cleanly_and_resume_finishes_it(tmp_path, capsys, monkeypatch):
    spec = sweep_spec(tmp_path, "full.yaml", 6)                   # 48 runs
    args = ["sweep", str(spec), "--workers", "1", "--out", str(tmp_path / "out"), "--quiet", "--no-figures",
            "--batch-size", "5"]
    state = _enospc_after(monkeypatch, store, "write_table", 3)   # three part files, then the disk is full
    code = cli.main(args)
    out, err = capsys.readouterr()
    folder = Path(out.strip().splitlines()[-1])
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: no space left on device"), err
    m = re.search(r"(\d+) of 48 runs done", lines[0])
    assert m and int(m.group(1)) == rows_on_disk(folder) == 15
    assert "--resume" in lines[0]
    assert json.loads((folder / "manifest.json").read_text())["status"] == "interrupted"

    state["full"] = False                                         # space was freed
    code = cli.main(args + ["--resume"])
    capsys.readouterr()
    assert code == 0 and json.loads((folder / "manifest.json").read_text())["status"] == "complete"
    code = cli.main(["sweep", str(spec), "--workers", "1", "--out", str(tmp_path / "ref"), "--quiet", "--no-figures"])
    capsys.readouterr()
    pd.testing.assert_frame_equal(results(folder), results(next((tmp_path / "ref").glob("sweep-*"))))


def test_a_full_disk_while_consolidating_keeps_the_parts_for_resume(tmp_path, capsys, monkeypatch):
    spec = sweep_spec(tmp_path, "late.yaml", 2)                   # 16 runs
    args = ["sweep", str(spec), "--workers", "1", "--out", str(tmp_path / "out"), "--quiet", "--no-figures"]
    state = _enospc_after(monkeypatch, store.pq, "ParquetWriter", 0)   # the consolidated table cannot be written
    code = cli.main(args)
    out, err = capsys.readouterr()
    folder = Path(out.strip().splitlines()[-1])
    assert code == 2 and err.startswith("error: no space left on device") and "16 of 16 runs done" in err
    assert json.loads((folder / "manifest.json").read_text())["status"] == "interrupted"
    assert rows_on_disk(folder) == 16 and not (folder / "results.parquet").exists()
    state["full"] = False
    code = cli.main(args + ["--resume"])
    capsys.readouterr()
    assert code == 0 and len(results(folder)) == 16


def test_a_full_disk_ends_a_run_with_one_line_and_nothing_half_written(tmp_path, capsys, monkeypatch):
    _enospc_after(monkeypatch, outputs, "write_parquet", 1)
    out = tmp_path / "out"
    code = cli.main(["run", "--set", "retail.holders=100", "--steps", "8", "--quiet", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 2 and err.startswith("error: no space left on device") and len(err.strip().splitlines()) == 1
    assert list(out.iterdir()) == []                              # not even the hidden temporary folder
