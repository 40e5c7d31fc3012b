"""Small array helpers for the weekly loop (pure numpy)."""

from __future__ import annotations

import numpy as np


def divide_where_positive(num, den, fill) -> np.ndarray:
    """``num / den`` where ``den > 0``, ``fill`` (a number or an array) elsewhere (shapes broadcast).

    numpy's masked divide (``where=``) runs an element-by-element loop that costs several plain
    divides on the model's small arrays, so the usual case, every denominator positive, divides
    plainly; both give the same numbers."""
    positive = den > 0
    if np.logical_and.reduce(positive, axis=None):
        return np.divide(num, den)
    out = np.full(np.broadcast_shapes(np.shape(num), np.shape(den)), fill, dtype=float)
    return np.divide(num, den, out=out, where=positive)


# The ufunc reductions themselves: ndarray.sum / .any / .all pass through Python-level wrappers in
# numpy, and the weekly loop calls them thousands of times (the same computation, less overhead).
fast_sum = np.add.reduce
fast_any = np.logical_or.reduce
fast_all = np.logical_and.reduce
