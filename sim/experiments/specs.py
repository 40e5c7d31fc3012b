"""Sweep and sensitivity specs: their models (pydantic, unknown keys are errors) and designs.

A spec is data: it is read with the bounded safe loader (:mod:`sim.safe_load`) by
:mod:`sim.experiments.prepare`, which also checks it against its base config.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any, Iterator, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator
from sim.argtypes import SEED_LIMIT
from sim.limits import check_run_count
from sim.value_checks import StrictData

#: Numbers a sampled design holds at most (points x parameters): it is drawn, kept in memory and
#: hashed as text before the first run (10^7 numbers: about 80 MB, and a few seconds to hash).
MAX_SAMPLE_VALUES = 10_000_000

#: Values of one grid axis at most: a longer axis is a sampler's job (``sampler: lhs``); each
#: value that is not a number is validated against the config alone (about half a millisecond).
MAX_AXIS_VALUES = 10_000


class _Spec(StrictData):
    """A part of a spec (:class:`sim.value_checks.StrictData`)."""


class PlotSpec(_Spec):
    x: str | None = Field(None, description="parameter on the x axis of heat maps (default: the first)")
    y: str | None = Field(None, description="parameter on the y axis of heat maps (default: the second)")
    metrics: tuple[str, ...] = Field(("crisis", "peak_ig_spread_bp", "fire_sale_volume_bn", "system_losses_bn"),
                                     min_length=1, description="outcomes shown in heat maps and line plots")


class GridRange(_Spec):
    low: float
    high: float
    num: int = Field(ge=1, le=MAX_AXIS_VALUES)
    log: bool = False


def _check_bounds(key: str, bounds: Any, section: str) -> tuple[float, float]:
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2 or not all(
            isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds):
        raise ValueError(f"'{section}.{key}' must be [low, high] (two numbers), got {bounds!r}")
    low, high = float(bounds[0]), float(bounds[1])
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"'{section}.{key}': bounds must be finite, got {bounds!r}")
    if not low < high:
        raise ValueError(f"'{section}.{key}': empty range [{bounds[0]}, {bounds[1]}]: low must be below high")
    return low, high


def _grid_size(key: str, raw: Any) -> int:
    """Values of one grid axis, counted without building them (0 if the axis is malformed:
    :func:`_grid_values` then says why)."""
    if isinstance(raw, dict):
        try:
            return GridRange.model_validate(raw).num
        except ValidationError:
            return 0
    if isinstance(raw, (list, tuple)):
        if len(raw) > MAX_AXIS_VALUES:
            raise ValueError(f"'grid.{key}' has {len(raw):,} values; an axis has at most {MAX_AXIS_VALUES:,} "
                             f"(for more, sample: 'sampler: lhs' with 'n' and 'bounds')")
        return len(raw)
    return 0


def _check_sample_size(points: int, parameters: int) -> None:
    if points * parameters > MAX_SAMPLE_VALUES:
        raise ValueError(f"the design has {points:,} points of {parameters} parameters ({points * parameters:,} "
                         f"numbers); a sample holds at most {MAX_SAMPLE_VALUES:,}: lower 'n'")


def _grid_values(key: str, raw: Any) -> tuple[Any, ...]:
    if isinstance(raw, dict):
        try:
            r = GridRange.model_validate(raw)
        except ValidationError as err:
            raise ValueError(f"'grid.{key}': a range is {{low, high, num[, log]}}: "
                             + "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}"
                                         for e in err.errors())) from None
        if r.num > 1 and not r.low < r.high:
            raise ValueError(f"'grid.{key}': empty range low={r.low}, high={r.high}: low must be below high")
        if r.log:
            if r.low <= 0:
                raise ValueError(f"'grid.{key}': a log range needs low > 0")
            vals = np.geomspace(r.low, r.high, r.num)
        else:
            vals = np.linspace(r.low, r.high, r.num)
        return tuple(float(v) for v in vals)
    if isinstance(raw, (list, tuple)):
        if not raw:
            raise ValueError(f"'grid.{key}': empty list of values; give at least one value")
        if any(isinstance(v, dict) for v in raw):
            raise ValueError(f"'grid.{key}': values must be numbers, booleans, strings or lists")
        if len({json.dumps(v, sort_keys=True) for v in raw}) != len(raw):
            raise ValueError(f"'grid.{key}': repeated values in {list(raw)!r}")
        nums = [v for v in raw if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(nums) == len(raw) and any(isinstance(v, float) for v in raw):
            return tuple(float(v) for v in raw)
        return tuple(raw)
    raise ValueError(f"'grid.{key}' must be a list of values or {{low, high, num}}, got {raw!r}")


class SweepSpec(_Spec):
    description: str = ""
    base: str = Field("baseline", description="config path (relative to the spec or the repo) or scenario name")
    overrides: dict[str, Any] = Field(default_factory=dict, description="fixed overrides for every run")
    grid: dict[str, Any] | None = Field(None, description="parameter -> list of values or {low, high, num}")
    sampler: Literal["lhs", "sobol"] | None = None
    n: int | None = Field(None, ge=1, le=10_000_000, description="points drawn by the sampler")
    bounds: dict[str, Any] | None = Field(None, description="parameter -> [low, high] for the sampler")
    replications: int = Field(4, ge=1, le=1_000_000)
    seed: int = Field(0, ge=0, lt=SEED_LIMIT)
    common_seeds: bool = Field(False, description="replication r uses the same seed at every point")
    plot: PlotSpec = PlotSpec()

    @model_validator(mode="after")
    def _check(self) -> "SweepSpec":
        if self.grid is not None and (self.sampler is not None or self.bounds is not None):
            raise ValueError("give either 'grid' or 'sampler' with 'n' and 'bounds', not both")
        if self.grid is None and self.sampler is None:
            if self.bounds is not None:
                raise ValueError("'bounds' needs 'sampler: lhs' or 'sampler: sobol' (and 'n')")
            raise ValueError("nothing to vary: give 'grid' (parameter -> values) or 'sampler' "
                             "(lhs|sobol) with 'n' and 'bounds'")
        if self.grid is not None:
            if not self.grid:
                raise ValueError("'grid' is empty: name at least one parameter and its values")
            check_run_count(math.prod(_grid_size(k, v) for k, v in self.grid.items()) * self.replications,
                            "the grid (every combination, times 'replications')")
            for k, v in self.grid.items():
                _grid_values(k, v)
        else:
            if not self.bounds:
                raise ValueError(f"sampler {self.sampler!r} needs 'bounds': parameter -> [low, high]")
            if self.n is None:
                raise ValueError(f"sampler {self.sampler!r} needs 'n', the number of points")
            for k, v in self.bounds.items():
                _check_bounds(k, v, "bounds")
            check_run_count(self.n * self.replications, "the sample ('n' points times 'replications')")
            _check_sample_size(self.n, len(self.bounds))
            if self.sampler == "sobol" and self.n & (self.n - 1):
                lo = 1 << (self.n.bit_length() - 1)
                raise ValueError(f"sampler 'sobol' needs n a power of 2 for its balance properties "
                                 f"(got {self.n}; use {lo} or {lo * 2})")
        if self.n is not None and self.sampler is None:
            raise ValueError("'n' only applies with 'sampler'; a grid runs every combination")
        return self

    # ------------------------------------------------------------------ the design
    @property
    def parameters(self) -> list[str]:
        return list(self.grid) if self.grid is not None else list(self.bounds or {})

    def n_points(self) -> int:
        if self.grid is not None:
            return math.prod(_grid_size(k, v) for k, v in self.grid.items())
        return int(self.n)

    def axis_values(self) -> dict[str, tuple[Any, ...]] | None:
        """Grid values per parameter (``None`` for a sampler)."""
        if self.grid is None:
            return None
        return {k: _grid_values(k, v) for k, v in self.grid.items()}

    def points(self, int_keys: frozenset[str] = frozenset()) -> Iterator[tuple[Any, ...]]:
        """The design, one tuple of parameter values per point, in point order."""
        if self.grid is not None:
            yield from itertools.product(*self.axis_values().values())
            return
        lows = np.array([float(self.bounds[k][0]) for k in self.parameters])
        highs = np.array([float(self.bounds[k][1]) for k in self.parameters])
        yield from _sample(self.sampler, lows, highs, self.n, self.seed, [k in int_keys for k in self.parameters])


def _sample(sampler: str, lows, highs, n: int, seed: int, is_int: list[bool]) -> Iterator[tuple[Any, ...]]:
    from scipy.stats import qmc    # here, not at the top: scipy.stats adds 0.4 s to the start of every mc
    d = len(lows)
    rng = np.random.default_rng(seed)
    if sampler == "lhs":
        unit = qmc.LatinHypercube(d=d, rng=rng).random(n)
    else:
        unit = qmc.Sobol(d=d, scramble=True, rng=rng).random_base2(int(round(math.log2(n))))
    x = qmc.scale(unit, lows, highs)
    for row in x:
        yield tuple(int(round(v)) if i else float(v) for v, i in zip(row, is_int))


HEADLINE: dict[str, tuple[float, float]] = {
    "dry_powder.initial_bn": (600.0, 1800.0),
    "hyperscalers.capex_growth": (0.0, 0.5),
    "gpu.generation_value_drop": (0.15, 0.55),
    "retail.margin_share": (0.05, 0.30),
    "hedge_funds.leverage": (1.5, 5.0),
    "ai.revenue_growth": (0.2, 1.0),
}


class SensitivitySpec(_Spec):
    description: str = ""
    base: str = "baseline"
    overrides: dict[str, Any] = Field(default_factory=dict)
    method: Literal["sobol", "morris"] = "sobol"
    n: int = Field(32, ge=2, le=1_000_000, description="sobol: base sample N (power of 2); morris: trajectories")
    parameters: dict[str, Any] = Field(default_factory=lambda: {k: list(v) for k, v in HEADLINE.items()})
    outputs: tuple[str, ...] = Field(("peak_ig_spread_bp", "fire_sale_volume_bn", "crisis"), min_length=1)
    replications: int = Field(1, ge=1, le=10_000, description="runs per sample point (outputs averaged)")
    seed: int = Field(0, ge=0, lt=SEED_LIMIT)
    common_seeds: bool = Field(True, description="the same seeds at every point (common random numbers)")
    second_order: bool = False
    num_levels: int = Field(4, ge=2, le=100, description="morris grid levels (even)")
    confidence: float = Field(0.95, gt=0, lt=1)
    resamples: int = Field(1000, ge=10, le=100_000)

    @model_validator(mode="after")
    def _check(self) -> "SensitivitySpec":
        if not self.parameters:
            raise ValueError("'parameters' is empty: name at least two parameters with [low, high]")
        if len(self.parameters) < 2:
            raise ValueError("global sensitivity needs at least two parameters")
        for k, v in self.parameters.items():
            _check_bounds(k, v, "parameters")
        if self.method == "sobol" and self.n & (self.n - 1):
            lo = 1 << (self.n.bit_length() - 1)
            raise ValueError(f"method 'sobol' needs n a power of 2 (Saltelli sampling on a Sobol' sequence; "
                             f"got {self.n}; use {lo} or {lo * 2})")
        if self.method == "morris" and self.num_levels % 2:
            raise ValueError(f"'num_levels' must be even for morris (got {self.num_levels})")
        check_run_count(self.n_points() * self.replications, f"the {self.method} design (points times 'replications')")
        _check_sample_size(self.n_points(), len(self.parameters))
        return self

    def n_points(self) -> int:
        """Points of the design, counted without drawing it: Saltelli n(D + 2), or n(2D + 2) with second
        order; Morris n(D + 1)."""
        d = len(self.parameters)
        if self.method == "sobol":
            return self.n * (2 * d + 2 if self.second_order else d + 2)
        return self.n * (d + 1)

    def problem(self) -> dict[str, Any]:
        names = list(self.parameters)
        return {"num_vars": len(names), "names": names,
                "bounds": [[float(self.parameters[k][0]), float(self.parameters[k][1])] for k in names]}

    def sample(self) -> np.ndarray:
        problem = self.problem()
        if self.method == "sobol":
            from SALib.sample import sobol as saltelli   # (SALib imports scipy.stats: see _sample)
            return saltelli.sample(problem, self.n, calc_second_order=self.second_order, seed=self.seed % 2**32)
        from SALib.sample import morris                  # (likewise)
        return morris.sample(problem, self.n, num_levels=self.num_levels, seed=self.seed % 2**32)
