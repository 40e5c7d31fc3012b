"""Same config and seed, same bytes, whichever machine runs them.

Three things chosen from the CPU could change a result's last bits: the OpenBLAS kernel
(``OPENBLAS_CORETYPE`` overrides the choice), numpy's SIMD code paths (``NPY_DISABLE_CPU_FEATURES``
turns the dispatched AVX2 and AVX-512 paths off) and glibc's math variants (``GLIBC_TUNABLES``
turns its AVX2 and FMA variants off). So one machine can stand in for several: every golden case
(tests/golden_cases.py) is run and written with the project's own run writer
(``sim.outputs.write_run``; its dashboard figure, which is not compared, is not drawn) in a fresh
process per variant, and ``model.parquet`` and ``events.parquet`` must be byte-identical across all
of them. A kernel whose instructions this CPU lacks is left out (it would crash, not compute). Run as
a program, this module writes the run folders for the environment it was started under:
``python -m tests.test_machine_independence OUT_DIR``.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import platform
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPARED = ("model.parquet", "events.parquet")
#: OpenBLAS kernels (OPENBLAS_CORETYPE) and the CPU flags (/proc/cpuinfo) their code needs.
KERNELS = {
    "Haswell": {"avx2", "fma"},
    "SkylakeX": {"avx512f", "avx512bw", "avx512dq", "avx512vl"},
    "Sandybridge": {"avx"},
    "Prescott": {"pni"},   # SSE3
    "Zen": {"avx2", "fma"},
}
TIMEOUT_S = 600


def openblas_corenames() -> dict[str, str]:
    """The kernel each OpenBLAS library loaded in this process runs (numpy's and scipy's)."""
    import numpy  # noqa: F401  (loads numpy's OpenBLAS)
    import scipy.linalg  # noqa: F401  (loads scipy's)
    with open("/proc/self/maps", encoding="utf-8") as maps:
        libraries = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and ".so" in line})
    names = {}
    for path in libraries:
        lib = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                       "openblas_get_corename"):
            get = getattr(lib, symbol, None)
            if get is not None:
                get.restype = ctypes.c_char_p
                names[Path(path).name] = get().decode()
                break
    return names


def write_golden_runs(out: Path) -> None:
    """Run every golden case and write its run folder under ``out/<case>/``; print the kernels."""
    import sim.plots
    from sim.config import load_config
    from sim.model import DryPowderModel
    from sim.outputs import write_run
    from tests.golden_cases import CASES, COMMON

    sim.plots.dashboard = lambda *args, **kwargs: None   # the figure is not compared; it takes most of the time
    for name, (overrides, seed) in sorted(CASES.items()):
        cfg = load_config(None, {**COMMON, **overrides, "seed": seed})
        model = DryPowderModel(cfg).run()
        write_run(model, cfg, out / name, argv=None, timings={}, overrides={}, source=f"golden case {name}")
    print(json.dumps(openblas_corenames()))


def _cpu_flags() -> set[str]:
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


def _numpy_simd_paths() -> list[str]:
    """numpy's dispatched SIMD targets this CPU runs (disabling them forces the baseline code)."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    return [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]


def _variants(flags: set[str]) -> dict[str, dict[str, str]]:
    """Environment overrides, one per machine the test stands in for."""
    out = {f"OpenBLAS {k}": {"OPENBLAS_CORETYPE": k} for k, needs in KERNELS.items() if needs <= flags}
    simd = _numpy_simd_paths()
    if simd:
        out["numpy baseline SIMD"] = {"NPY_DISABLE_CPU_FEATURES": " ".join(simd)}
    out["glibc without AVX2/FMA"] = {"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F"}
    return out


def _run_under(overrides: dict[str, str], out: Path) -> dict[str, str]:
    env = {**os.environ, **overrides}
    proc = subprocess.run([sys.executable, "-m", "tests.test_machine_independence", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, f"{overrides}: exit {proc.returncode}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@pytest.mark.slow
@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or not Path("/proc/cpuinfo").is_file(),
                    reason="the OpenBLAS kernels compared are x86-64 kernels, chosen by Linux CPU flags")
def test_golden_runs_are_byte_identical_on_every_kernel_simd_path_and_math_library_variant(tmp_path):
    import pandas as pd

    variants = _variants(_cpu_flags())
    kernels = [name for name in variants if name.startswith("OpenBLAS")]
    if len(kernels) < 2:
        pytest.skip(f"this CPU runs only {kernels} of the kernels {list(KERNELS)}")
    folders = {name: tmp_path / f"v{i}" for i, name in enumerate(variants)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        corenames = dict(zip(variants, pool.map(lambda v: _run_under(variants[v], folders[v]), variants)))
    loaded = {name for v in kernels for name in corenames[v].values()}
    assert len(loaded) >= 2, f"OPENBLAS_CORETYPE changed nothing: every process ran {loaded}"

    reference = next(iter(variants))
    differences = []
    for case in sorted(p.name for p in folders[reference].iterdir()):
        for output in COMPARED:
            files = {v: next((folders[v] / case).glob(f"*/{output}")) for v in variants}
            digests = {v: _digest(f) for v, f in files.items()}
            if len(set(digests.values())) > 1:
                rows = {v: len(pd.read_parquet(f)) for v, f in files.items()}
                differences.append(f"{case}/{output}: " + ", ".join(
                    f"{v} (OpenBLAS runs {'/'.join(sorted(set(corenames[v].values())))}): sha256 {digests[v]}, "
                    f"{rows[v]} rows" for v in variants))
    assert not differences, "outputs depend on the machine:\n" + "\n".join(differences)


if __name__ == "__main__":
    write_golden_runs(Path(sys.argv[1]))
