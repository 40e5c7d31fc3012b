"""Input checks shared by the engine's public functions: a clear ValueError instead of a numpy error."""

from __future__ import annotations

import numpy as np


def as_array(name: str, value, ndim: int, *, nonnegative: bool = False) -> np.ndarray:
    """``value`` as a float array of ``ndim`` dimensions, finite (and >= 0 if asked), else ValueError."""
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains infinite values")
    if nonnegative and (arr < 0).any():
        raise ValueError(f"{name} must be non-negative (min {arr.min():g})")
    return arr


def check_len(name: str, arr: np.ndarray, n: int, what: str) -> None:
    if arr.shape[0] != n:
        raise ValueError(f"{name} has length {arr.shape[0]}, expected {n} ({what})")
