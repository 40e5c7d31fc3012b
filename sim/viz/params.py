"""What the page lets a user set: the scenario, the seed and the headline parameters, each checked
against the config schema (:class:`sim.config.Config`) exactly as ``drypowder run --set`` checks it,
so a value the page accepts is one the command line accepts, and the other way round.

Nothing here imports the browser stack: the CLI, the tests and the page share it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sim.config import (BASELINE_PATH, SCENARIO_DIR, Config, ConfigError, load_config, read_yaml,
                        resolve_config_arg)

SEED_KEY = "seed"
SCENARIO_KEY = "scenario_name"   # (not "scenario": Mesa passes its own Scenario object under that name)
BACKSTOP_KEY = "central_bank_backstop"


@dataclass(frozen=True)
class Headline:
    """A headline parameter: its page key (a Python name, also the model_params key), its dotted
    config key, label, unit, the slider's range and step. Typed values outside the slider's range
    are accepted when the config schema accepts them (the slider then widens)."""

    key: str
    dotted: str
    label: str
    unit: str
    min: float
    max: float
    step: float
    is_int: bool = False

    @property
    def digits(self) -> int:
        return 0 if self.is_int else max(0, -int(math.floor(math.log10(self.step))))

    def format(self, value: Any) -> str:
        """The value as the page writes it (thousands separated, the step's decimals)."""
        if self.is_int:
            return f"{int(round(value)):,}"
        return f"{float(value):,.{self.digits}f}"

    def bounds(self, value: Any) -> tuple[float, float]:
        """Slider range, widened to include ``value`` (a scenario may sit outside the default)."""
        lo, hi = self.min, self.max
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            lo, hi = min(lo, value), max(hi, value)
        return lo, hi


HEADLINE: tuple[Headline, ...] = (
    Headline("dry_powder_initial_bn", "dry_powder.initial_bn", "Dry powder at start", "$bn", 100, 3000, 50, True),
    Headline("hyperscalers_capex_growth", "hyperscalers.capex_growth", "Capex growth", "per yr", 0.0, 0.6, 0.01),
    Headline("gpu_generation_value_drop", "gpu.generation_value_drop", "GPU generation value drop", "share",
             0.0, 0.8, 0.01),
    Headline("retail_margin_share", "retail.margin_share", "Retail share on margin", "share", 0.0, 0.6, 0.01),
    Headline("hedge_funds_leverage", "hedge_funds.leverage", "Hedge-fund leverage", "x", 1.0, 8.0, 0.1),
    Headline("ai_revenue_growth", "ai.revenue_growth", "AI revenue growth", "log/yr", -0.5, 1.5, 0.01),
    Headline("retail_holders", "retail.holders", "Retail holders", "accounts", 1000, 50000, 1000, True),
)
HEADLINE_BY_KEY: dict[str, Headline] = {h.key: h for h in HEADLINE}
SWITCHES: dict[str, str] = {BACKSTOP_KEY: "central_bank.backstop"}
DOTTED: dict[str, str] = {**{h.key: h.dotted for h in HEADLINE}, **SWITCHES}
#: every key the page sets, in the order the page shows them
PARAM_KEYS: tuple[str, ...] = (SCENARIO_KEY, SEED_KEY, *DOTTED)


# ---------------------------------------------------------------------- scenarios
def scenario_choices(extra: "str | Path | None" = None) -> dict[str, Path]:
    """Scenario name -> YAML path: ``baseline``, every ``configs/scenarios/*.yaml`` and, when
    ``extra`` is a file that is none of these (the CONFIG given to ``drypowder viz``), that file
    under its stem (made unique)."""
    choices: dict[str, Path] = {"baseline": Path(BASELINE_PATH)}
    if Path(SCENARIO_DIR).is_dir():
        for p in sorted(Path(SCENARIO_DIR).glob("*.yaml")):
            choices.setdefault(p.stem, p)
    if extra is not None:
        p = Path(extra)
        known = {q.resolve() for q in choices.values()}
        if p.resolve() not in known:
            name = p.stem
            while name in choices:
                name += "'"
            choices[name] = p
    return choices


def scenario_name_for(config: "str | Path | None", choices: dict[str, Path]) -> str:
    """The entry of ``choices`` that is ``config`` (a path); ``baseline`` if None or unknown."""
    if config is None:
        return "baseline"
    p = Path(config).resolve()
    return next((name for name, q in choices.items() if q.resolve() == p), "baseline")


@lru_cache(maxsize=64)
def _scenario_data(path: str, mtime_ns: int) -> dict[str, Any]:
    return read_yaml(path)


def scenario_data(name: str, choices: dict[str, Path]) -> dict[str, Any]:
    """The YAML mapping of scenario ``name`` (read once per file version; do not change it)."""
    if name not in choices:
        raise ConfigError(f"unknown scenario {name!r}; available: {', '.join(choices)}")
    p = Path(choices[name])
    return _scenario_data(str(p), p.stat().st_mtime_ns)


def _get_dotted(data: dict, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        node = node[part]
    return node


def scenario_params(name: str, choices: dict[str, Path]) -> dict[str, Any]:
    """The page's values for scenario ``name``: its name, seed and headline parameters."""
    if name not in choices:
        raise ConfigError(f"unknown scenario {name!r}; available: {', '.join(choices)}")
    p = Path(choices[name])
    return dict(_scenario_params(name, str(p), p.stat().st_mtime_ns))


@lru_cache(maxsize=64)
def _scenario_params(name: str, path: str, mtime_ns: int) -> dict[str, Any]:
    return params_of_config(name, build_config(name, {name: Path(path)}, {}))


def params_of_config(name: str, cfg: Config) -> dict[str, Any]:
    """The page's values (scenario ``name``, seed, headline parameters) that ``cfg`` holds."""
    data = cfg.to_dict()
    params: dict[str, Any] = {SCENARIO_KEY: name, SEED_KEY: int(cfg.seed)}
    for key, dotted in DOTTED.items():
        value = _get_dotted(data, dotted)
        params[key] = bool(value) if key in SWITCHES else value
    return params


# ---------------------------------------------------------------------- checking input
def _schema_message(exc: ConfigError) -> str:
    """A schema error without the source prefix (which names a file on the server)."""
    text = str(exc)
    return re.sub(r"^invalid config [^:]*: ", "", text)


def build_config(scenario: str, choices: dict[str, Path], params: dict[str, Any]) -> Config:
    """The validated config of ``scenario`` with the page's ``params`` (page keys, e.g.
    ``{"seed": 7, "dry_powder_initial_bn": 600}``) applied as dotted overrides: the same check as
    ``drypowder run SCENARIO --seed 7 --set dry_powder.initial_bn=600``. Raises ConfigError with a
    message that names the parameter and what is allowed (and no server path)."""
    overrides = page_overrides(params)
    try:
        return load_config(scenario_data(scenario, choices), overrides)
    except ConfigError as exc:
        raise ConfigError(_schema_message(exc)) from None


def page_overrides(params: dict[str, Any]) -> dict[str, Any]:
    """Page keys to dotted config overrides (``seed`` stays ``seed``; scenario and None skipped)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key == SCENARIO_KEY or value is None:
            continue
        if key == SEED_KEY:
            out["seed"] = value
        elif key in DOTTED:
            out[DOTTED[key]] = value
        else:
            raise ConfigError(f"unknown page parameter {key!r}; known: {', '.join(PARAM_KEYS)}")
    return out


_INTEGER = re.compile(r"^[+-]?\d+$")
_WHOLE_DECIMAL = re.compile(r"^[+-]?\d+\.0*$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_value(key: str, text: Any) -> Any:
    """A typed entry (a string, or a number from a slider) as the value for page key ``key``, read
    as the command line reads it: the seed as ``--seed`` does (a whole number), a parameter as
    ``--set`` does (a whole number for a count, which may be written 2000.0; any decimal or
    exponent form for the rest). Thousands separators are allowed. Raises ConfigError with a short
    message for anything else; the value's range is the schema's business (:func:`check_value`)."""
    if key == BACKSTOP_KEY:
        if isinstance(text, bool):
            return text
        s = str(text).strip().lower()
        if s in ("true", "on", "yes", "1"):
            return True
        if s in ("false", "off", "no", "0"):
            return False
        raise ConfigError(f"{key}: expected on or off, got {text!r}")
    if isinstance(text, bool):
        raise ConfigError(f"{label_of(key)}: expected a number, got {text!r}")
    whole = key == SEED_KEY or (key in DOTTED and schema_is_int(DOTTED[key]))
    if isinstance(text, (int, float)):
        value: Any = text
        if whole and float(value).is_integer():
            value = int(value)
    else:
        s = str(text).strip().replace(",", "")
        if whole and _INTEGER.match(s):
            value = int(s)
        elif whole and key != SEED_KEY and _WHOLE_DECIMAL.match(s):
            value = int(float(s))
        elif not whole and _DECIMAL.match(s):
            value = float(s)
        else:
            kind = "a whole number" if whole else "a number"
            raise ConfigError(f"{label_of(key)}: expected {kind}, got {str(text)[:40]!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{label_of(key)}: expected a finite number, got {text!r}")
    if whole and not isinstance(value, int):
        raise ConfigError(f"{label_of(key)}: expected a whole number, got {text!r}")
    return value if whole else float(value)


@lru_cache(maxsize=None)
def schema_is_int(dotted: str) -> bool:
    """Whether the config schema types ``dotted`` as a whole number (as ``retail.holders``)."""
    cls: Any = Config
    for part in dotted.split("."):
        field_info = cls.model_fields[part]
        cls = field_info.annotation
    return cls is int


def label_of(key: str) -> str:
    if key == SEED_KEY:
        return "seed"
    h = HEADLINE_BY_KEY.get(key)
    return h.label if h else key


def check_value(key: str, text: Any, scenario: str, choices: dict[str, Path], params: dict[str, Any]) -> Any:
    """Parse ``text`` for ``key`` and check it with the other page values ``params`` against the
    schema; returns the value or raises ConfigError (message names the parameter)."""
    value = parse_value(key, text)
    build_config(scenario, choices, {**{k: v for k, v in params.items() if k != SCENARIO_KEY}, key: value})
    return value


# ---------------------------------------------------------------------- what the view shows
@dataclass(frozen=True)
class ViewParams:
    """The parameters of one model on show: scenario, seed, headline values, and which of those
    differ from the scenario's own (for the header)."""

    scenario: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.values[SEED_KEY])

    def changed(self, choices: dict[str, Path]) -> list[tuple[str, Any, Any]]:
        """(key, value, the scenario's value) for every value that is not the scenario's."""
        base = scenario_params(self.scenario, choices)
        return [(k, v, base.get(k)) for k, v in self.values.items()
                if k not in (SCENARIO_KEY, SEED_KEY) and v != base.get(k)]

    def describe(self, choices: dict[str, Path]) -> str:
        """One line for the header: scenario, every changed parameter, seed."""
        parts = []
        for key, value, was in self.changed(choices):
            if key in SWITCHES:
                parts.append(f"backstop {'on' if value else 'off'}")
            else:
                h = HEADLINE_BY_KEY[key]
                parts.append(f"{h.label.lower()} {h.format(value)} {h.unit} (scenario {h.format(was)})")
        changed = "; ".join(parts) if parts else "scenario values"
        return f"{self.scenario} · seed {self.seed} · {changed}"


def initial_params(config: "str | Path | None", choices: dict[str, Path]) -> dict[str, Any]:
    """The page's starting values: those of ``config`` (a path or scenario name; default baseline)."""
    path = None if config is None else resolve_config_arg(str(config))
    return scenario_params(scenario_name_for(path, choices), choices)
