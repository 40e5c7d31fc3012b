"""A spec read, validated and made ready to run: its base config resolved, every parameter and
value checked against that config, its outcomes checked against the model's summary, its size
known, and the hash that names its run folder.

Everything here runs in the main process before any simulation starts, so a bad spec fails fast
with a :class:`SpecError` (exit status 2) and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from sim.config import BASELINE_PATH, PROJECT_ROOT, Config, ConfigError, flatten_dotted, load_config, \
    read_yaml_text, scenario_path
from sim.experiments.errors import SpecError
from sim.experiments.specs import SensitivitySpec, SweepSpec
from sim.experiments.tasks import flatten_summary
from sim.messages import closest, format_validation_error
from sim.model import DryPowderModel


# =============================================================================================
# Config keys and the base config
# =============================================================================================
def config_leaves(cfg: Config) -> dict[str, Any]:
    """Every dotted key that can be overridden, with its value in ``cfg``."""
    return flatten_dotted(cfg.to_dict())


def check_key(key: str, leaves: dict[str, Any], where: str) -> None:
    if key in leaves:
        return
    sections = {k.split(".")[0] for k in leaves}
    if key in sections or any(k.startswith(key + ".") for k in leaves):
        raise SpecError(f"{where}: {key!r} is a config section, not a parameter; "
                        f"name one of its keys, e.g. {next(k for k in leaves if k.startswith(key + '.'))!r}")
    raise SpecError(f"{where}: unknown parameter {key!r}{closest(key, leaves)}; "
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


def _probes(values: list[Any]) -> list[Any]:
    """The values of an axis that decide whether all of them are valid. A numeric field's rules are
    a range and a type, so numbers need only their extremes and their first fraction (for an
    integer field); anything else is checked value by value."""
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(values) <= 2 or len(nums) < len(values):
        return values
    odd = [next((v for v in nums if isinstance(v, float) and not math.isfinite(v)), None),   # NaN escapes min/max
           next((v for v in nums if isinstance(v, float) and not v.is_integer()), None)]
    return [min(nums), max(nums)] + [v for v in odd if v is not None]


def normalise_overrides(raw: dict[str, Any] | None) -> dict[str, Any]:
    """Spec ``overrides`` may be dotted keys or nested sections; returns dotted keys."""
    return flatten_dotted(raw or {})


# =============================================================================================
# Loading
# =============================================================================================
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
    limit_config: Config              # the base with every integer parameter at its largest value in the design


def _largest(base: Config, params: dict[str, Any], int_keys: frozenset[str]) -> Config:
    """The config of the design's largest model: the sizes that set memory and time (agent counts,
    holders, steps) are integer parameters, each at its largest value."""
    tops = {k: max(int(round(v)) for v in vals) for k, vals in params.items() if k in int_keys and vals}
    try:
        return load_config(base, tops)
    except ConfigError:                     # each value validated alone; together they need not
        return base


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
        for v in _probes([int(round(v)) if key in int_keys and section != "grid" else v for v in vals]):
            _check_value(base, key, v, f"{where}.{key}")
    return base_path, base, frozenset(int_keys)


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str, separators=(",", ":")).encode()).hexdigest()


def _read_spec(p: Path, model: type[BaseModel], what: str):
    """The spec file ``p`` read safely and validated as ``model``; SpecError with the key's path."""
    data, _ = read_spec_yaml(p, what)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise SpecError(format_validation_error(err, str(p), model, what="spec")) from None


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
            raise SpecError(f"{p}: 'plot.{axis}' is {v!r}, which is not a swept parameter{closest(v, names)}; "
                            f"swept: {', '.join(names)}")
    if spec.plot.x is not None and spec.plot.x == spec.plot.y:
        raise SpecError(f"{p}: 'plot.x' and 'plot.y' name the same parameter {spec.plot.x!r}")
    check_metrics(base, spec.plot.metrics, f"{p}: 'plot.metrics'")
    return Prepared(kind="sweep", spec=spec, source=str(p), base_path=str(base_path), base=base,
                    parameters=names, int_keys=int_keys, n_points=spec.n_points(), replications=spec.replications,
                    limit_config=_largest(base, params, int_keys))


def load_sensitivity_spec(path: str | Path) -> Prepared:
    p = Path(path)
    spec = _read_spec(p, SensitivitySpec, "sensitivity spec")
    params = {k: list(v) for k, v in spec.parameters.items()}
    base_path, base, int_keys = _validate_common(spec, str(p), p, params, "parameters")
    check_metrics(base, spec.outputs, f"{p}: 'outputs'")
    return Prepared(kind="sensitivity", spec=spec, source=str(p), base_path=str(base_path), base=base,
                    parameters=list(spec.parameters), int_keys=int_keys, n_points=spec.n_points(),
                    replications=spec.replications, limit_config=_largest(base, params, int_keys))


def design_hash(prep: Prepared, x: np.ndarray | None = None) -> str:
    """Digest of the design: every point of a sweep in order, or a sensitivity sample ``x``. Computed
    only once the design's size has passed the limits (:mod:`sim.limits`)."""
    if prep.kind == "sensitivity":
        return _digest(np.round(x, 12).tolist())
    h = hashlib.sha256()
    for pt in prep.spec.points(prep.int_keys):
        h.update(json.dumps(pt, default=str).encode())
    return h.hexdigest()


def campaign_hash(prep: Prepared, x: np.ndarray | None = None) -> str:
    """Identity of a sweep/sensitivity campaign: the resolved base config, the spec and the design."""
    return _digest({"kind": prep.kind, "base": prep.base.to_dict(), "spec": prep.spec.model_dump(mode="json"),
                    "design": design_hash(prep, x)})[:10]


# =============================================================================================
# Metric names (flattened summary keys)
# =============================================================================================
@lru_cache(maxsize=8)
def _probe_metrics(cfg_json: str) -> tuple[str, ...] | None:
    """Flattened summary keys of a 1-step run of the base (None if the model cannot run)."""
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
            raise SpecError(f"{where}: unknown outcome {m!r}{closest(m, known)}; outcomes are flattened "
                            f"summary keys, e.g. crisis, peak_ig_spread_bp, fire_sale_volume_bn, "
                            f"max_drawdown.crypto, defaults.neocloud")
