"""Fuzz suite: every kind of bad input in tests/fuzz_cases.py, through the real command line.

For every case: no traceback; no silent accept (bad input exits 2 with exactly one ``error:``
line); no hang (each case is bounded in time by a watchdog and in memory by the runner's address
space); and nothing written outside ``--out``, checked by listing the case's whole folder (four
levels above ``--out``), the project's ``runs/`` and the system's temporary folder before and after.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from sim import cli
from tests import fuzz_cases

ROOT = Path(__file__).resolve().parents[1]
CASE_SECONDS = 30.0           # a case that takes longer is a hang
LEVELS = ("l1", "l2", "l3", "l4")


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def _outside(folder: Path) -> dict[str, set[str]]:
    """What lies around the cases' folders: the project's runs/ and the temporary folder's top."""
    tmp = Path(tempfile.gettempdir())
    return {"runs": _listing(ROOT / "runs") if (ROOT / "runs").exists() else set(),
            "tmp": {p.name for p in tmp.iterdir() if "ESCAPED" in p.name or p.name.startswith("drypowder-")}}


def _manifest(tmp: Path) -> dict:
    code = cli.main(["run", "--steps", "8", "--quiet", *fuzz_cases.TINY, "--out", str(tmp)])
    assert code == 0
    return json.loads(next(tmp.glob("*/manifest.json")).read_text())


def _sandbox(base: Path, c: dict) -> dict:
    root = base / c["id"]
    deep = root.joinpath(*LEVELS)
    (deep / "work").mkdir(parents=True)
    inputs = root / "inputs"
    inputs.mkdir()
    for name, body in c["files"].items():
        path = inputs / name
        path.write_bytes(body if isinstance(body, bytes) else body.encode("utf-8"))
    out = deep / "out"
    argv = [a.replace("{out}", str(out)).replace("{in}", str(inputs)) for a in c["argv"]]
    return {**c, "argv": argv, "cwd": str(deep / "work"), "root": str(root), "out": str(out), "files": {}}


def _run_all(cases: list[dict], scratch: Path) -> dict[int, dict]:
    """Run the cases in the runner, restarting it after a case that hangs."""
    spec = scratch / "cases.json"
    spec.write_text(json.dumps(cases), encoding="utf-8")
    log = scratch / "results.jsonl"
    results: dict[int, dict] = {}
    first = 0
    while first < len(cases):
        proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "fuzz_runner.py"), str(spec), str(log), str(first)],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        started, current = time.monotonic(), first
        while True:
            seen = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
            for r in seen:
                if r["event"] == "end":
                    results[r["i"]] = r
            done_upto = max([r["i"] for r in seen if r["event"] == "end"], default=first - 1)
            if done_upto + 1 != current:
                current, started = done_upto + 1, time.monotonic()
            if proc.poll() is not None:
                break
            if time.monotonic() - started > CASE_SECONDS:
                proc.kill()
                break
            time.sleep(0.05)
        proc.wait()
        if current < len(cases) and current not in results:
            results[current] = {"i": current, "event": "hang", "code": None, "stdout": "", "escaped": None,
                                "stderr": f"no result within {CASE_SECONDS:.0f} s (runner: {proc.stderr.read()[-500:]})"}
        first = max(results) + 1
    return results


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    base = tmp_path_factory.mktemp("fuzz")
    cases = [_sandbox(base, c) for c in fuzz_cases.all_cases(_manifest(base / "manifest"))]
    around = _outside(base)
    before = {c["id"]: _listing(Path(c["root"])) for c in cases}
    results = _run_all(cases, tmp_path_factory.mktemp("fuzz-runner"))
    after_around = _outside(base)
    return {c["id"]: {"case": c, "result": results.get(i), "before": before[c["id"]],
                      "after": _listing(Path(c["root"])), "around": (around, after_around)}
            for i, c in enumerate(cases)}


def _ids() -> list[str]:
    return [c["id"] for c in fuzz_cases.all_cases({"config": {}, "seed": 0, "steps": 8})]


@pytest.mark.parametrize("case_id", _ids())
def test_bad_input_is_refused_cleanly(outcomes, case_id):
    o = outcomes[case_id]
    c, r = o["case"], o["result"]
    assert r is not None and r["event"] == "end", f"hang: {r}"
    assert r["escaped"] is None, f"an exception escaped the command line:\n{r['escaped']}"
    err = r["stderr"]
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if c["expect"] == "reject":
        assert r["code"] == 2, f"exit {r['code']} (a silent accept?): {err}"
        assert len(errors) == 1, err
        assert "out of memory" not in errors[0], errors[0]      # refused in advance, not when it was too late
        if c["needle"]:
            assert c["needle"] in errors[0], errors[0]
    elif c["expect"] == "ok":
        assert r["code"] == 0 and not errors, err
    else:                                                       # a valid config the model may not survive
        assert r["code"] in (0, 1), err
        if r["code"] == 1:
            assert len(errors) == 1 and "internal error" in errors[0], err
            report = Path(errors[0].split("details in ")[1].split(";")[0])
            assert report.is_file() and Path(c["out"]) in report.parents
    new = o["after"] - o["before"]
    out = str(Path(c["out"]).relative_to(c["root"]))
    outside = sorted(p for p in new if p != out and not p.startswith(out + "/"))
    assert outside == [], f"written outside --out: {outside}"
    before, after = o["around"]
    assert after["runs"] == before["runs"] and after["tmp"] == before["tmp"], "written outside the cases' folders"
