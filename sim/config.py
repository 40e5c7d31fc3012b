"""Configuration: the whole scenario (:class:`Config`), loaded from YAML with safe loading and validated.

Every number the model uses lives in the config sections (:mod:`sim.config_sections`) with its unit
in the name or description; MODEL.md gives the source of each default. A config is data: it is read
with a bounded safe YAML loader (:mod:`sim.safe_load`) and checked against these models, so an
unknown key or a bad value is an error that names the key, what is allowed and, for a typo, the
closest valid key.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from sim.config_sections import (AIConfig, AILab, AILabConfig, AssetParams, CentralBankConfig, ChannelsConfig,
                                 CrisisConfig, DryPowderConfig, GPUConfig, HedgeFundConfig, HyperscalerConfig,
                                 HyperscalerFirm, MarketConfig, NeocloudConfig, PowerConfig, PrivateCreditConfig,
                                 RatesConfig, RetailConfig, SimulationConfig, SovereignConfig, _default_assets, _Strict)
from sim.config_sections import closest_name as _closest
from sim.domain import ASSETS  # asset names in column order
from sim.messages import format_validation_error
from sim.resources import CONFIG_DIR, SHIPPED_ROOT, shipped_file
from sim.safe_load import load_yaml, read_yaml_mapping
from sim.value_checks import NAME_MAX_CHARS, folder_name

__all__ = ["AIConfig", "AILab", "AILabConfig", "ASSETS", "AssetParams", "BASELINE_PATH", "CentralBankConfig",
           "Config", "ConfigError", "CrisisConfig", "DryPowderConfig", "GPUConfig", "HedgeFundConfig",
           "HyperscalerConfig", "HyperscalerFirm", "NeocloudConfig", "PowerConfig", "PrivateCreditConfig",
           "RatesConfig", "RetailConfig", "SCENARIO_DIR", "SimulationConfig", "SovereignConfig", "dump_yaml",
           "load_config", "resolve_config_arg"]

#: The folder holding ``configs/`` and ``data/``: the checkout, or the copy inside an installed wheel
#: (:mod:`sim.resources`); relative paths in specs such as ``configs/baseline.yaml`` resolve against it.
PROJECT_ROOT = SHIPPED_ROOT
BASELINE_PATH = CONFIG_DIR / "baseline.yaml"
SCENARIO_DIR = CONFIG_DIR / "scenarios"

#: The shortest duration of the two bonds whose prices give the yields (sim.prices): a quarter.
MIN_BOND_DURATION_YEARS = 0.25


class ConfigError(ValueError):
    """A user-facing configuration problem: the message says what, where and what is allowed."""


class Config(_Strict):
    """The whole scenario. Build with :func:`load_config`; never mutate: use overrides."""

    name: str = Field("baseline", min_length=1, max_length=NAME_MAX_CHARS,
                      description="scenario name; names the run folder, so: letters, digits, '.', '_', '-'")
    description: str = ""
    seed: int = Field(20260101, ge=0, lt=2**63, description="seed of the model's random generator (--seed overrides it)")
    simulation: SimulationConfig = SimulationConfig()
    dry_powder: DryPowderConfig = DryPowderConfig()
    rates: RatesConfig = RatesConfig()
    central_bank: CentralBankConfig = CentralBankConfig()
    ai: AIConfig = AIConfig()
    hyperscalers: HyperscalerConfig = HyperscalerConfig()
    neoclouds: NeocloudConfig = NeocloudConfig()
    gpu: GPUConfig = GPUConfig()
    private_credit: PrivateCreditConfig = PrivateCreditConfig()
    sovereigns: SovereignConfig = SovereignConfig()
    hedge_funds: HedgeFundConfig = HedgeFundConfig()
    retail: RetailConfig = RetailConfig()
    ai_labs: AILabConfig = AILabConfig()
    assets: dict[str, AssetParams] = Field(default_factory=_default_assets)
    market: MarketConfig = MarketConfig()
    channels: ChannelsConfig = ChannelsConfig()
    power: PowerConfig = PowerConfig()
    crisis: CrisisConfig = CrisisConfig()

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        return folder_name(name)

    @model_validator(mode="after")
    def _check_assets(self) -> "Config":
        names = set(self.assets)
        missing = [a for a in ASSETS if a not in names]
        unknown = sorted(names - set(ASSETS))
        if unknown:
            hint = _closest(unknown[0], ASSETS)
            raise ValueError(f"unknown asset {unknown[0]!r} in 'assets'{hint}; allowed: {', '.join(ASSETS)}")
        if missing:
            raise ValueError(f"'assets' lacks {', '.join(missing)}; every asset needs its parameters")
        allowed_order = set(ASSETS) | {"hedge_fund_shares", "private_credit_shares"}
        for item in self.sovereigns.conviction_order:
            if item not in allowed_order:
                raise ValueError(f"unknown asset {item!r} in sovereigns.conviction_order{_closest(item, allowed_order)}; "
                                 f"allowed: {', '.join(sorted(allowed_order))}")
        for s in self.gpu.generation_steps:
            if s < 0:
                raise ValueError("gpu.generation_steps must be non-negative step numbers")
        for bond in ("ust", "ig_bonds"):
            if self.assets[bond].duration < MIN_BOND_DURATION_YEARS:
                raise ValueError(f"assets.{bond}.duration must be at least {MIN_BOND_DURATION_YEARS} years "
                                 f"(got {self.assets[bond].duration}): yields are read off this bond's price "
                                 "through its duration, and a bill shorter than a quarter has no 10y yield to give")
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """A short hash of the resolved config: equal hashes mean equal inputs."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Loading, overrides and messages
# --------------------------------------------------------------------------------------------
def read_yaml_text(path: str | Path, what: str = "config", error: type[ConfigError] = ConfigError,
                   allow_empty: bool = True) -> tuple[dict[str, Any], str]:
    """Read a YAML mapping safely (:func:`sim.safe_load.read_yaml_mapping`: no code, no duplicate
    keys, no alias bombs, bounded size and depth), returning it with its text; every failure raises
    ``error`` with a message naming the file and, for bad YAML, the line."""
    return read_yaml_mapping(path, what=what, error=error, allow_empty=allow_empty)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a config file (a YAML mapping; an empty file is the baseline)."""
    return read_yaml_text(path)[0]


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` from the command line; the value is read as a YAML scalar or list."""
    if "=" not in text:
        raise ConfigError(f"malformed --set {text!r}: expected KEY=VALUE, e.g. dry_powder.initial_bn=800")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"malformed --set {text!r}: the key must be dotted names, e.g. gpu.generation_value_drop")
    try:
        value = load_yaml(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise ConfigError(f"malformed --set {text!r}: the value {raw!r} is not a number, bool, string or list") from None
    if value is None:
        raise ConfigError(f"malformed --set {text!r}: no value after '='")
    return key, value


def flatten_dotted(obj: Any, prefix: str = "", keep_empty: bool = True) -> dict[str, Any]:
    """Nested mappings to dotted keys (``{"a": {"b": 1}} -> {"a.b": 1}``), the inverse of
    :func:`apply_overrides`; lists stay values. An empty mapping stays a value unless
    ``keep_empty`` is false (then it contributes no key)."""
    out: dict[str, Any] = {}
    if not isinstance(obj, dict):
        return {prefix: obj}
    for k, v in obj.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and (v or not keep_empty):
            out.update(flatten_dotted(v, key, keep_empty))
        else:
            out[key] = v
    return out


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted-key overrides set (``{"dry_powder.initial_bn": 800}``)."""
    return _set_overrides(copy.deepcopy(data), overrides)


def _set_overrides(out: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """:func:`apply_overrides` on ``out`` itself."""
    for dotted, value in overrides.items():
        parts = str(dotted).split(".")
        node = out
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part) if isinstance(node, dict) else None
            if nxt is None:
                nxt = {}
                node[part] = nxt
            if not isinstance(nxt, dict):
                raise ConfigError(f"override {dotted!r}: {'.'.join(parts[:i + 1])} is a value, not a section")
            node = nxt
        node[parts[-1]] = value
    return out


@functools.cache
def _defaults() -> dict[str, Any]:
    """The defaults as a dict (shared: copy before changing it; :func:`deep_merge` does)."""
    return Config().to_dict()


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` laid over ``base``: mappings merge key by key (so a config or ``--set`` may give one
    field of one asset), anything else is replaced. Neither argument is changed; the result shares
    nothing with them."""
    out = copy.deepcopy(base)
    _merge_into(out, update)
    return out


def _merge_into(out: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            _merge_into(out[key], value)
        else:
            out[key] = copy.deepcopy(value)


def load_config(config: "str | Path | dict | Config | None" = None, overrides: dict[str, Any] | None = None) -> Config:
    """Build a validated :class:`Config` from a path, dict, Config or ``None`` (the baseline)."""
    overrides = dict(overrides or {})
    if isinstance(config, Config):
        if not overrides:
            return config
        data, source = config.to_dict(), f"'{config.name}'"
    elif config is None:
        data, source = read_yaml(BASELINE_PATH), str(BASELINE_PATH.name)   # missing: an error, not the defaults
    elif isinstance(config, dict):
        data, source = config, "(dict)"            # deep_merge copies it
    else:
        data, source = read_yaml(config), str(config)
    data = _set_overrides(deep_merge(_defaults(), data), overrides)   # (the merge is a fresh copy)
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source, Config)) from None


def scenario_path(name: str) -> Path:
    """Path of a named scenario in ``configs/scenarios``; unknown names get the list of valid ones."""
    p = SCENARIO_DIR / f"{name}.yaml"
    if not p.exists():
        names = sorted(q.stem for q in SCENARIO_DIR.glob("*.yaml"))
        raise ConfigError(f"unknown scenario {name!r}{_closest(name, names)}; available: {', '.join(names)}")
    return p


def resolve_config_arg(arg: str | None) -> Path:
    """A CONFIG argument is a path to a YAML file (from the current directory, else among the shipped
    files: ``configs/scenarios/ai_bear.yaml`` works anywhere) or the name of a scenario."""
    if arg is None:
        return BASELINE_PATH
    p = Path(arg)
    if p.suffix in (".yaml", ".yml") or p.exists() or "/" in arg:
        return shipped_file(p)
    if arg == "baseline":
        return BASELINE_PATH
    return scenario_path(arg)


def dump_yaml(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)

