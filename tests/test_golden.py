"""Golden regression: today's outputs for fixed seeds against a stored reference.

An unintended change to the model's numbers fails here. When a change is intended, regenerate the
reference with `scripts/update_golden.py` in a commit of its own that says why. Floats are compared
to a relative 1e-7: tight enough to catch any change of behaviour, loose enough for a different BLAS
summation order on another machine.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tests.golden_cases import CASES, fingerprint

REFERENCE = json.loads((Path(__file__).parent / "golden" / "reference.json").read_text())


def _compare(got, want, path=""):
    if isinstance(want, dict):
        assert set(got) == set(want), path
        for k in want:
            _compare(got[k], want[k], f"{path}.{k}")
    elif isinstance(want, list):
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            _compare(g, w, f"{path}[{i}]")
    elif isinstance(want, float):
        assert math.isclose(got, want, rel_tol=1e-7, abs_tol=1e-9), f"{path}: {got} != {want}"
    else:
        assert got == want, f"{path}: {got} != {want}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_outputs_match_the_stored_reference(name):
    assert name in REFERENCE, "new case: run scripts/update_golden.py"
    _compare(fingerprint(name), REFERENCE[name], name)
