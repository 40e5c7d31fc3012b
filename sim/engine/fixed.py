"""Arithmetic whose last bits do not depend on the machine.

A matrix product through BLAS sums in an order its kernel chooses, and OpenBLAS chooses the kernel
from the CPU (Haswell, SkylakeX, Zen ...); numpy's ``exp`` and ``log`` take an AVX-512 code path on
CPUs that have it. Either way the last bits of a result differ between machines, and in a cascade a
last bit can decide a discrete event (a margin call of $1 thousand or less is not made, a covenant is
breached or not). So every product and every exponential or logarithm the model and its peers compute
goes through these functions: numpy's own reductions over one axis (a fixed order: pairwise along a
contiguous axis, row after row across rows), explicit accumulation in a fixed order, and the C
library's ``exp``/``log`` (:mod:`math`), the same code on every x86-64 CPU. MODEL.md §12 states
which outputs are bit-identical across machines (all of them) and how that is tested.
"""

from __future__ import annotations

import functools
import math

import numpy as np

_sum = np.add.reduce


def dot(x: np.ndarray, y: np.ndarray) -> float:
    """x . y of two vectors, summed pairwise in numpy's fixed order."""
    return float(_sum(np.multiply(x, y)))


def row_dot(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``a @ v`` for a (..., K) array and a (K,) vector: each row's products summed along the row."""
    return _sum(np.multiply(a, v), -1)


def transpose_dot(a: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``a.T @ v`` for an (N, M) array and an (N,) vector: rows weighted by ``v``, added row after row."""
    return _sum(np.multiply(a, v[:, None]), 0)


def weighted_rows(v: np.ndarray, a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``v @ a`` for a (K,) vector and a (K, N) array, accumulated row after row (j = 0 .. K-1) without
    a (K, N) temporary: sum_j v_j a[j]."""
    k = len(v)
    vs = v.tolist()
    out = np.multiply(a[0], vs[0], out=out)
    if k > 1:
        tmp = np.empty_like(out)
        for j in range(1, k):
            np.multiply(a[j], vs[j], out=tmp)
            out += tmp
    return out


# e**x and log(x) in plain double arithmetic (multiplications, additions, exact scalings), so that they
# do not depend on the C library either: glibc picks an FMA or a plain variant of its exp and log from
# the CPU, and their last bits differ. Accuracy: within 2 ulp of the true value over the model's range.
_LN2_HI = 6.93147180369123816490e-01      # ln 2, its first 32 bits: k * _LN2_HI is exact for |k| < 2**20
_LN2_LO = 1.90821492927058770002e-10      # ln 2 - _LN2_HI
_INV_LN2 = 1.44269504088896338700e+00
_EXP_TAYLOR = [1.0 / math.factorial(i) for i in range(14)]      # |r| <= ln2 / 2: the rest < 1e-17
_SQRT_HALF = 0.70710678118654752440


def _exp_reduced(r):
    """exp(r) for |r| <= ln 2 / 2 by its Taylor polynomial of degree 13 (Horner)."""
    p = _EXP_TAYLOR[13]
    for c in reversed(_EXP_TAYLOR[:13]):
        p = p * r + c
    return p


def exp(x):
    """e**x of a number or an array (overflow gives inf, underflow 0)."""
    if isinstance(x, (float, int)):
        x = float(x)
        if x > 709.78:
            return math.inf
        if x < -745.2:
            return 0.0
        k = round(x * _INV_LN2)
        return math.ldexp(_exp_reduced((x - k * _LN2_HI) - k * _LN2_LO), k)
    a = np.asarray(x, dtype=float)
    clipped = np.clip(a, -745.2, 709.78)
    k = np.rint(clipped * _INV_LN2)
    out = np.ldexp(_exp_reduced((clipped - k * _LN2_HI) - k * _LN2_LO), k.astype(np.int64))
    out = np.where(a > 709.78, np.inf, np.where(a < -745.2, 0.0, out))
    return out if out.ndim else float(out)


def _log_mantissa(m):
    """log(m) for m in [sqrt(1/2), sqrt(2)): 2 atanh(f), f = (m - 1) / (m + 1), by its series to f**23."""
    f = (m - 1.0) / (m + 1.0)
    f2 = f * f
    p = 1.0 / 23.0
    for n in range(21, 0, -2):
        p = p * f2 + 1.0 / n
    return 2.0 * f * p


def log(x):
    """Natural logarithm of a number or an array (0 gives -inf, negatives nan)."""
    if isinstance(x, (float, int)):
        x = float(x)
        if not x > 0.0 or x == math.inf:
            return math.log(x) if x >= 0.0 else math.nan      # 0 -> -inf (ValueError in math), inf, nan
        m, e = math.frexp(x)
        if m < _SQRT_HALF:
            m, e = m * 2.0, e - 1
        return e * _LN2_HI + (e * _LN2_LO + _log_mantissa(m))
    a = np.asarray(x, dtype=float)
    positive = (a > 0.0) & np.isfinite(a)
    m, e = np.frexp(np.where(positive, a, 1.0))
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = (e - low).astype(float)
    out = e * _LN2_HI + (e * _LN2_LO + _log_mantissa(m))
    out = np.where(positive, out, np.where(a == 0.0, -np.inf, np.where(a == np.inf, np.inf, np.nan)))
    return out if out.ndim else float(out)


@functools.lru_cache(maxsize=1024)
def _power_scalar(base: float, exponent: float) -> float:
    """power() of two numbers, remembered: a step asks for the same growth factors many times (every
    firm's plan and cash flow at the same t)."""
    if base == 0.0:
        return 0.0 if exponent > 0 else (1.0 if exponent == 0 else math.inf)
    return exp(exponent * log(base))


def power(base, exponent):
    """base ** exponent for base > 0 (exp(exponent log base)); base 0 gives 0 for a positive exponent."""
    if isinstance(base, (float, int)) and isinstance(exponent, (float, int)):
        return _power_scalar(float(base), float(exponent))
    b = np.asarray(base, dtype=float)
    return np.where(b == 0.0, np.where(np.asarray(exponent) > 0, 0.0, 1.0), exp(exponent * log(np.where(b == 0.0, 1.0, b))))


def solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with a x = b for a square, non-singular ``a``: Gaussian elimination with partial pivoting,
    every step in a fixed order (a LAPACK solve sums in its kernel's order)."""
    m = np.array(a, dtype=float)
    x = np.array(b, dtype=float)
    n = len(x)
    for col in range(n):
        pivot = col + int(np.argmax(np.abs(m[col:, col])))
        if m[pivot, col] == 0.0:
            raise np.linalg.LinAlgError("singular matrix")
        if pivot != col:
            m[[col, pivot]] = m[[pivot, col]]
            x[[col, pivot]] = x[[pivot, col]]
        below = m[col + 1:, col] / m[col, col]
        m[col + 1:, col:] -= np.multiply.outer(below, m[col, col:])
        x[col + 1:] -= below * x[col]
    for row in range(n - 1, -1, -1):
        x[row] = (x[row] - dot(m[row, row + 1:], x[row + 1:])) / m[row, row]
    return x
