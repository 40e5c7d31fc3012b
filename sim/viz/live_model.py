"""The model the live page runs: :class:`LiveModel`, a :class:`sim.model.DryPowderModel` built from
the page's parameters, that also keeps what the page needs to look back: the network of claims at
every week (for the week scrubber and the cascade replay) and, when a comparison is on, a second
run on the same seed stepped in lockstep.

Mesa's ``SolaraViz`` re-creates the model on Reset as ``type(model)(**model_params)``, so the
constructor takes the page's parameters by name (values may be per-session reactive holders with
a ``.value``, which are read here).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.model import DryPowderModel
from sim.network import claims_network
from sim.viz.headroom import agent_assets, stress_levels
from sim.viz.params import PARAM_KEYS, SCENARIO_KEY, ViewParams, build_config, params_of_config, scenario_choices

CONFIG_ENV = "DRYPOWDER_VIZ_CONFIG"


def default_choices() -> dict[str, Path]:
    """The scenarios the page offers: the project's, plus the CONFIG given to ``drypowder viz``."""
    return scenario_choices(os.environ.get(CONFIG_ENV) or None)


def _plain(value: Any) -> Any:
    """A page value, read from its reactive holder when it is one."""
    return value.value if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)) else value


@dataclass
class WeekState:
    """The network at the end of one week: per holder (book order) total assets, liabilities,
    cash, stress (1 = at the binding limit) and default flag; per edge of the
    :class:`EdgeIndex` its value in $bn (0 when the claim does not exist that week)."""

    assets: np.ndarray
    liabilities: np.ndarray
    cash: np.ndarray
    stress: np.ndarray
    defaulted: np.ndarray
    edge_ids: np.ndarray
    edge_values: np.ndarray

    def edge_array(self, n_edges: int) -> np.ndarray:
        out = np.zeros(n_edges)
        out[self.edge_ids] = self.edge_values
        return out


@dataclass
class EdgeIndex:
    """Every claim (from, to, kind) seen so far, numbered in order of appearance: the page's
    network keeps its edges in this order, so a new week only sends the values."""

    keys: list[tuple[Any, Any, str]] = field(default_factory=list)
    ids: dict[tuple[Any, Any, str], int] = field(default_factory=dict)

    def id_of(self, key: tuple[Any, Any, str]) -> int:
        i = self.ids.get(key)
        if i is None:
            i = self.ids[key] = len(self.keys)
            self.keys.append(key)
        return i


class History:
    """What the page replays: a :class:`WeekState` per week run, over one :class:`EdgeIndex`."""

    def __init__(self) -> None:
        self.weeks: list[WeekState] = []
        self.edges = EdgeIndex()

    def record(self, model) -> None:
        g = claims_network(model)
        ids, values = [], []
        for u, v, d in g.edges(data=True):
            ids.append(self.edges.id_of((u, v, d["kind"])))
            values.append(float(d.get("value_bn", 0.0)))
        stress = stress_levels(model)
        holders = model.holders
        self.weeks.append(WeekState(
            assets=agent_assets(model), liabilities=np.asarray(model.book.total_liabilities(), dtype=float).copy(),
            cash=np.asarray(model.book.cash, dtype=float).copy(),
            stress=np.array([stress[a.unique_id] for a in holders]),
            defaulted=np.array([bool(a.defaulted) for a in holders]),
            edge_ids=np.asarray(ids, dtype=np.int64), edge_values=np.asarray(values)))

    def at(self, week: int) -> WeekState:
        return self.weeks[max(0, min(int(week), len(self.weeks) - 1))]


class DisplayPace:
    """Keeps Play at the pace of the browser that shows it: a step waits (briefly) until the browser
    has drawn the last frame rendered for it, so at most one frame is in flight. Without this, a
    server faster than the browser queues frames: the page lags behind the model and Pause acts
    late. A model no browser has acknowledged (tests, scripts) never waits."""

    WAIT_S = 0.5        # at most this long per step: a stalled browser slows Play, never stops it

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.rendered = -1      # the last frame (week) rendered for the browser
        self.shown = -1         # the last frame the browser says it has drawn

    def frame_rendered(self, week: int) -> None:
        with self._cond:
            self.rendered = max(self.rendered, int(week))

    def frame_shown(self, week: int) -> None:
        with self._cond:
            self.shown = max(self.shown, int(week))
            self._cond.notify_all()

    def wait(self) -> None:
        with self._cond:
            if self.shown >= 0:
                self._cond.wait_for(lambda: self.shown >= self.rendered, timeout=self.WAIT_S)


class LiveModel(DryPowderModel):
    """:class:`DryPowderModel` for the page. ``LiveModel(scenario_name="baseline", seed=None, **headline,
    compare=None)``: ``scenario_name`` a name from :func:`default_choices` (or ``choices``), ``seed``
    default the scenario's, headline values by page key (``dry_powder_initial_bn=600``), and
    ``compare`` the parameters of a second run (a dict of page keys, scenario included) drawn
    beside this one on the same seed. Values are checked with the config schema like
    ``drypowder run --set``; a bad one raises :class:`sim.config.ConfigError`."""

    def __init__(self, scenario_name: Any = "baseline", seed: Any = None, dry_powder_initial_bn: Any = None,
                 hyperscalers_capex_growth: Any = None, gpu_generation_value_drop: Any = None,
                 retail_margin_share: Any = None, hedge_funds_leverage: Any = None, ai_revenue_growth: Any = None,
                 retail_holders: Any = None, central_bank_backstop: Any = None, compare: Any = None,
                 choices: dict[str, Path] | None = None):
        given = dict(zip(PARAM_KEYS, (scenario_name, seed, dry_powder_initial_bn, hyperscalers_capex_growth,
                                      gpu_generation_value_drop, retail_margin_share, hedge_funds_leverage,
                                      ai_revenue_growth, retail_holders, central_bank_backstop)))
        self.choices = default_choices() if choices is None else choices
        params = {k: _plain(v) for k, v in given.items()}
        name = params.pop(SCENARIO_KEY) or "baseline"
        cfg = build_config(name, self.choices, params)
        super().__init__(cfg)
        self.view_params = _view_params(name, cfg)
        self.lock = threading.RLock()
        self.display = DisplayPace()
        self.history = History()
        self.history.record(self)
        self.twin: DryPowderModel | None = None
        self.twin_params: ViewParams | None = None
        spec = _plain(compare)
        if spec:
            self.start_twin(spec)

    def step(self) -> None:
        # (Mesa has counted this step in ``self.steps`` already; Play and Step stop at the horizon)
        self.display.wait()
        with self.lock:
            super().step()
            self.history.record(self)
            if self.twin is not None:
                while self.twin.steps < self.steps:
                    self.twin.step()
            if self.steps >= self.horizon:
                self.running = False

    def start_twin(self, spec: dict[str, Any]) -> ViewParams:
        """Start the second run: ``spec`` page values (scenario and headline keys; the seed is
        this run's) on the same seed, caught up to this run's week. Returns its parameters."""
        spec = {k: _plain(v) for k, v in dict(spec).items()}
        name = spec.pop(SCENARIO_KEY, None) or self.view_params.scenario
        spec["seed"] = self.view_params.seed
        cfg = build_config(name, self.choices, spec)
        twin = DryPowderModel(cfg)
        with self.lock:
            while twin.steps < self.steps:
                twin.step()
            self.twin, self.twin_params = twin, _view_params(name, cfg)
        return self.twin_params

    def stop_twin(self) -> None:
        with self.lock:
            twin, self.twin, self.twin_params = self.twin, None, None
        if twin is not None:
            twin.close()

    def release(self) -> None:
        """Free this run and its comparison now (a closed page): see :meth:`DryPowderModel.close`."""
        with self.lock:
            self.stop_twin()
            self.history = History()
            self.close()


def _view_params(name: str, cfg) -> ViewParams:
    return ViewParams(name, params_of_config(name, cfg))
