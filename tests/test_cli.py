"""The command line: outputs of `drypowder run`, reruns from a manifest, and bad input (exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--set", "retail.holders=300", "--steps", "20", "--quiet"]


def run_cli(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_run_writes_the_documented_folder(tmp_path, capsys):
    code, out, err = run_cli(["run", *FAST, "--seed", "4", "--out", str(tmp_path)], capsys)
    assert code == 0
    run_dir = Path(out.strip().splitlines()[-1])          # the last line is the run directory
    assert run_dir.parent == tmp_path and run_dir.is_dir()
    for name in ("config.yaml", "manifest.json", "model.parquet", "agents.parquet", "events.parquet",
                 "summary.json", "figures/dashboard.png"):
        assert (run_dir / name).stat().st_size > 0, name
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["seed"] == 4 and manifest["steps"] == 20 and len(manifest["config_hash"]) == 16
    assert {"package_version", "git_revision", "timings_s", "config"} <= set(manifest)
    model = pd.read_parquet(run_dir / "model.parquet")
    assert len(model) == 21 and model["step"].iloc[-1] == 20
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["seed"] == 4
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temporary leftovers


def test_same_seed_gives_identical_parquet_bytes_and_rerun_from_manifest(tmp_path, capsys):
    _, out1, _ = run_cli(["run", *FAST, "--seed", "9", "--out", str(tmp_path / "a")], capsys)
    _, out2, _ = run_cli(["run", *FAST, "--seed", "9", "--out", str(tmp_path / "b")], capsys)
    a, b = Path(out1.split()[-1]), Path(out2.split()[-1])
    for name in ("model.parquet", "agents.parquet", "events.parquet"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    code, out3, _ = run_cli(["run", "--from", str(a / "manifest.json"), "--quiet", "--out", str(tmp_path / "c")], capsys)
    assert code == 0
    c = Path(out3.split()[-1])
    assert (a / "model.parquet").read_bytes() == (c / "model.parquet").read_bytes()


def test_scenario_names_resolve(tmp_path, capsys):
    code, out, _ = run_cli(["run", "ai_bear", *FAST, "--out", str(tmp_path)], capsys)
    assert code == 0 and "ai_bear" in out


def exit_code(args) -> int:
    """main() returns a code; argparse's own errors raise SystemExit: both count."""
    try:
        return int(main(args))
    except SystemExit as exc:
        return int(exc.code)


@pytest.mark.parametrize("args, needle", [
    (["run", "no_such_scenario"], "unknown scenario 'no_such_scenario'"),
    (["run", "missing/config.yaml"], "config file not found"),
    (["run", "--set", "dry_powder.inital_bn=5"], "did you mean 'initial_bn'"),
    (["run", "--set", "dry_powder.initial_bn=-5"], "dry_powder.initial_bn"),
    (["run", "--set", "hedge_funds.leverage=nan"], "hedge_funds.leverage"),
    (["run", "--set", "retail.holders=lots"], "retail.holders"),
    (["run", "--set", "novalue"], "malformed --set"),
    (["run", "--steps", "0"], "must be at least 1"),
    (["run", "--seed", "minus"], "seed must be a whole number"),
    (["validate", "ai_bul"], "did you mean 'ai_bull'"),
    (["run", "--from", "nowhere/manifest.json"], "manifest not found"),
    (["viz", "--port", "70000"], "port must be 1-65535"),
    (["validate-peer", "--balance-sheets", "nowhere.csv"], "nowhere.csv"),
])
def test_bad_input_exits_2_with_one_clear_message(args, needle, tmp_path, capsys):
    code = exit_code([*args, *(["--out", str(tmp_path)] if args[0] in ("run", "validate-peer") else [])])
    out, err = capsys.readouterr()
    assert code == 2
    assert needle in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []                 # nothing half-written


def test_invalid_yaml_and_unwritable_output(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dry_powder: {initial_bn: [1,\n")
    code, _, err = run_cli(["run", str(bad), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "invalid YAML" in err
    if os.geteuid() != 0:     # root can write anywhere; the check below needs an ordinary user
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        code, _, err = run_cli(["run", *FAST, "--out", str(locked / "x")], capsys)
        assert code == 2 and "not writable" in err
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run_cli(["run", *FAST, "--out", str(blocker / "sub")], capsys)
    assert code == 2 and "not writable" in err


def test_console_script_runs_and_prints_the_run_dir(tmp_path):
    exe = Path(sys.executable).parent / "drypowder"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "sim.cli"]
    out = subprocess.run([*cmd, "run", *FAST, "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip().splitlines()[-1]).is_dir()
    bad = subprocess.run([*cmd, "run", "--set", "x"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "error:" in bad.stderr
