"""Experiment specs: seeds, sweep and sensitivity specs (safe YAML, validated with pydantic).

Everything here runs in the main process before any simulation starts, so a bad spec fails fast
with a :class:`SpecError` (a :class:`sim.config.ConfigError`, shown by the CLI as ``error: ...``
with exit status 2) and nothing is written.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.config import (
    BASELINE_PATH,
    PROJECT_ROOT,
    Config,
    ConfigError,
    read_yaml_text,
    _closest,
    load_config,
    scenario_path,
)

SEED_LIMIT = 2**63


class SpecError(ConfigError):
    """A bad experiment spec or experiment option (exit status 2, message shown as is)."""


# =============================================================================================
# Seeds
# =============================================================================================
def _seed_from(ss: np.random.SeedSequence) -> int:
    """One integer seed in [0, 2**63) from a SeedSequence (two 32-bit words of its state)."""
    hi, lo = (int(w) for w in ss.generate_state(2, dtype=np.uint32))
    return ((hi << 32) | lo) & (SEED_LIMIT - 1)


def replication_seed(root: int, replication: int) -> int:
    """Seed of Monte Carlo replication ``replication``: child ``replication`` of
    ``SeedSequence(root).spawn(N)`` (built directly, so it never depends on N)."""
    return _seed_from(np.random.SeedSequence(int(root), spawn_key=(int(replication),)))


def replication_seeds(root: int, n: int) -> list[int]:
    return [replication_seed(root, i) for i in range(n)]


def run_seed(root: int, point: int, replication: int, common: bool = False) -> int:
    """Seed of sweep run (point, replication): ``SeedSequence(root, spawn_key=(point, replication))``.

    With ``common`` (common random numbers) replication r uses the same seed at every point."""
    key = (0, int(replication)) if common else (int(point), int(replication))
    return _seed_from(np.random.SeedSequence(int(root), spawn_key=key))


# =============================================================================================
# Config keys and the base config
# =============================================================================================
def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts to dotted keys (``{"a": {"b": 1}} -> {"a.b": 1}``); lists stay values."""
    out: dict[str, Any] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and v:
                out.update(flatten(v, key))
            else:
                out[key] = v
    else:
        out[prefix] = obj
    return out


def config_leaves(cfg: Config) -> dict[str, Any]:
    """Every dotted key that can be overridden, with its value in ``cfg``."""
    return flatten(cfg.to_dict())


def check_key(key: str, leaves: dict[str, Any], where: str) -> None:
    if key in leaves:
        return
    sections = {k.split(".")[0] for k in leaves}
    if key in sections or any(k.startswith(key + ".") for k in leaves):
        raise SpecError(f"{where}: {key!r} is a config section, not a parameter; "
                        f"name one of its keys, e.g. {next(k for k in leaves if k.startswith(key + '.'))!r}")
    raise SpecError(f"{where}: unknown parameter {key!r}{_closest(key, leaves)}; "
                    f"parameters are dotted config keys such as 'dry_powder.initial_bn' "
                    f"(`drypowder validate` prints the config)")


def resolve_base(base: str, spec_path: Path | None) -> Path:
    """A spec's ``base``: a YAML path (relative to the spec file, then to the repo) or a scenario name."""
    p = Path(base)
    if p.suffix in (".yaml", ".yml") or "/" in base:
        if p.is_absolute():
            candidates = [p]
        else:
            candidates = ([spec_path.parent / p] if spec_path is not None else []) + [PROJECT_ROOT / p, Path.cwd() / p]
        for c in candidates:
            if c.is_file():
                return c.resolve()
        raise SpecError(f"base config {base!r} not found (looked in: {', '.join(str(c) for c in candidates)})")
    if base == "baseline":
        return BASELINE_PATH
    return scenario_path(base)


def _is_int_field(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_value(base: Config, key: str, value: Any, where: str) -> None:
    """Validate one parameter value against the base config (range checks, types)."""
    try:
        load_config(base, {key: value})
    except ConfigError as exc:
        msg = str(exc)
        msg = msg.split(": ", 1)[1] if msg.startswith("invalid config") else msg
        raise SpecError(f"{where}: value {value!r} is not allowed for {key}: {msg}") from None


def normalise_overrides(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Spec ``overrides`` may be dotted keys or nested sections; returns dotted keys."""
    return flatten(raw or {})


# =============================================================================================
# Spec models
# =============================================================================================
class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class PlotSpec(_Spec):
    x: str | None = Field(None, description="parameter on the x axis of heat maps (default: the first)")
    y: str | None = Field(None, description="parameter on the y axis of heat maps (default: the second)")
    metrics: tuple[str, ...] = Field(("crisis", "peak_ig_spread_bp", "fire_sale_volume_bn", "system_losses_bn"),
                                     min_length=1, description="outcomes shown in heat maps and line plots")


class GridRange(_Spec):
    low: float
    high: float
    num: int = Field(ge=1)
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
            for k, v in self.grid.items():
                _grid_values(k, v)
        else:
            if not self.bounds:
                raise ValueError(f"sampler {self.sampler!r} needs 'bounds': parameter -> [low, high]")
            if self.n is None:
                raise ValueError(f"sampler {self.sampler!r} needs 'n', the number of points")
            for k, v in self.bounds.items():
                _check_bounds(k, v, "bounds")
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
            return int(np.prod([len(_grid_values(k, v)) for k, v in self.grid.items()]))
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
    from scipy.stats import qmc
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
        return self

    def problem(self) -> dict[str, Any]:
        names = list(self.parameters)
        return {"num_vars": len(names), "names": names,
                "bounds": [[float(self.parameters[k][0]), float(self.parameters[k][1])] for k in names]}

    def sample(self) -> np.ndarray:
        problem = self.problem()
        if self.method == "sobol":
            from SALib.sample import sobol as saltelli
            return saltelli.sample(problem, self.n, calc_second_order=self.second_order, seed=self.seed % 2**32)
        from SALib.sample import morris
        return morris.sample(problem, self.n, num_levels=self.num_levels, seed=self.seed % 2**32)


# =============================================================================================
# Loading
# =============================================================================================
def _allowed_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    cls: Any = model
    for part in loc:
        field = getattr(cls, "model_fields", {}).get(part)
        ann = getattr(field, "annotation", None)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            cls = ann
        else:
            return []
    return list(getattr(cls, "model_fields", {}))


def format_spec_error(err: ValidationError, source: str, model: type[BaseModel]) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(e.get("loc", ()))
        where = ".".join(str(p) for p in loc) or "(top level)"
        kind = e.get("type")
        if kind == "extra_forbidden":
            allowed = _allowed_fields(model, loc[:-1])
            lines.append(f"unknown key '{where}'{_closest(loc[-1], allowed)}; allowed here: {', '.join(allowed)}")
        elif kind == "missing":
            lines.append(f"'{where}' is required")
        else:
            msg = e.get("msg", "invalid value")
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
                lines.append(msg if msg.startswith("'") or not loc else f"'{where}': {msg}")
                continue
            got = e.get("input")
            got_s = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
            lines.append(f"'{where}': {msg}{got_s}")
    return f"invalid spec {source}: " + "; ".join(lines)


def read_spec_yaml(path: str | Path, what: str = "spec") -> tuple[dict[str, Any], str]:
    """A spec file: safe YAML, a non-empty mapping (errors are :class:`SpecError`)."""
    return read_yaml_text(path, what=what, error=SpecError, allow_empty=False)


class Prepared(BaseModel):
    """A validated spec with its resolved base config (everything a campaign needs)."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)
    kind: str
    spec: Any
    source: str
    base_path: str
    base: Config
    parameters: list[str]
    int_keys: frozenset[str]
    n_points: int
    replications: int
    design_hash: str


def _validate_common(spec, source: str, spec_path: Path | None, params: dict[str, Any], section: str):
    base_path = resolve_base(spec.base, spec_path)
    fixed = normalise_overrides(spec.overrides)
    base0 = load_config(base_path)
    leaves0 = config_leaves(base0)
    for key in fixed:
        check_key(key, leaves0, f"{source}: 'overrides'")
    try:
        base = load_config(base_path, fixed)
    except ConfigError as exc:
        raise SpecError(f"{source}: 'overrides' make an invalid config: {exc}") from None
    leaves = config_leaves(base)
    int_keys = set()
    for key, vals in params.items():
        where = f"{source}: '{section}'"
        if key == "seed":
            raise SpecError(f"{where}: 'seed' cannot be varied; runs get their seeds from the spec's "
                            f"'seed' and 'replications'")
        check_key(key, leaves, where)
        cur = leaves[key]
        if _is_int_field(cur):
            int_keys.add(key)
        if section != "grid" and (isinstance(cur, bool) or not isinstance(cur, (int, float))):
            raise SpecError(f"{where}: {key} is not numeric (it is {cur!r}); sample only numbers, "
                            f"or use a 'grid' of values")
        for v in vals:
            _check_value(base, key, int(round(v)) if key in int_keys and section != "grid" else v,
                         f"{where}.{key}")
    return base_path, base, frozenset(int_keys)


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


def _read_spec(p: Path, model: type[BaseModel], what: str):
    """The spec file ``p`` read safely and validated as ``model``; SpecError with the key's path."""
    data, _ = read_spec_yaml(p, what)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise SpecError(format_spec_error(err, str(p), model)) from None


def load_sweep_spec(path: str | Path) -> Prepared:
    p = Path(path)
    spec = _read_spec(p, SweepSpec, "sweep spec")
    if spec.grid is not None:
        params = {k: list(v) for k, v in spec.axis_values().items()}
        section = "grid"
    else:
        params = {k: list(v) for k, v in spec.bounds.items()}
        section = "bounds"
    base_path, base, int_keys = _validate_common(spec, str(p), p, params, section)
    names = spec.parameters
    for axis in ("x", "y"):
        v = getattr(spec.plot, axis)
        if v is not None and v not in names:
            raise SpecError(f"{p}: 'plot.{axis}' is {v!r}, which is not a swept parameter{_closest(v, names)}; "
                            f"swept: {', '.join(names)}")
    if spec.plot.x is not None and spec.plot.x == spec.plot.y:
        raise SpecError(f"{p}: 'plot.x' and 'plot.y' name the same parameter {spec.plot.x!r}")
    check_metrics(base, spec.plot.metrics, f"{p}: 'plot.metrics'")
    n_points = spec.n_points()
    h = hashlib.sha256()
    for pt in spec.points(int_keys):
        h.update(json.dumps(pt, default=str).encode())
    return Prepared(kind="sweep", spec=spec, source=str(p), base_path=str(base_path), base=base,
                    parameters=names, int_keys=int_keys, n_points=n_points, replications=spec.replications,
                    design_hash=h.hexdigest())


def load_sensitivity_spec(path: str | Path) -> Prepared:
    p = Path(path)
    spec = _read_spec(p, SensitivitySpec, "sensitivity spec")
    params = {k: list(v) for k, v in spec.parameters.items()}
    base_path, base, int_keys = _validate_common(spec, str(p), p, params, "parameters")
    check_metrics(base, spec.outputs, f"{p}: 'outputs'")
    x = spec.sample()
    return Prepared(kind="sensitivity", spec=spec, source=str(p), base_path=str(base_path), base=base,
                    parameters=list(spec.parameters), int_keys=int_keys, n_points=int(x.shape[0]),
                    replications=spec.replications, design_hash=_digest(np.round(x, 12).tolist()))


def campaign_hash(prep: Prepared) -> str:
    """Identity of a sweep/sensitivity campaign: the resolved base config, the spec and the design."""
    return _digest({"kind": prep.kind, "base": prep.base.to_dict(), "spec": prep.spec.model_dump(mode="json"),
                    "design": prep.design_hash})[:10]


# =============================================================================================
# Metric names (flattened summary keys)
# =============================================================================================
@lru_cache(maxsize=8)
def _probe_metrics(cfg_json: str) -> tuple[str, ...] | None:
    """Flattened summary keys of a 1-step run of the base (None if the model cannot run)."""
    from sim.experiment_exec import flatten_summary
    from sim.model import DryPowderModel
    try:
        cfg = load_config(json.loads(cfg_json), {"simulation.steps": 1})
        m = DryPowderModel(cfg)
        m.run()
        return tuple(k for k, v in flatten_summary(m.summary()).items()
                     if v is None or isinstance(v, (bool, int, float)))
    except Exception:   # noqa: BLE001 - a broken model must not block spec validation
        return None


def summary_metrics(base: Config) -> tuple[str, ...] | None:
    return _probe_metrics(json.dumps(base.to_dict(), sort_keys=True))


def check_metrics(base: Config, metrics, where: str) -> None:
    known = summary_metrics(base)
    if known is None:
        return
    numeric = set(known)
    for m in metrics:
        if m not in numeric:
            raise SpecError(f"{where}: unknown outcome {m!r}{_closest(m, known)}; outcomes are flattened "
                            f"summary keys, e.g. crisis, peak_ig_spread_bp, fire_sale_volume_bn, "
                            f"max_drawdown.crypto, defaults.neocloud")
