"""Per-session state of the page, as Solara reactive variables: each browser session (a Solara
virtual kernel) has its own values, so one viewer's inputs never move another's.

* :data:`PARAMS`: the page's parameters (scenario, seed, headline values), one reactive each. These
  are what the page hands to Mesa's ``SolaraViz`` as ``model_params``: Mesa's Reset builds the new
  model from their values at that moment.
* :data:`compare_spec`: the second run's parameters (also a model parameter, so Reset keeps the
  comparison).
* The view: the week shown, the agent picked, the week whose cascade is replayed, the last export.
"""

from __future__ import annotations

import os
from typing import Any

import solara

from sim.viz.live_model import CONFIG_ENV, default_choices
from sim.viz.params import PARAM_KEYS, SCENARIO_KEY, SEED_KEY, initial_params

CHOICES = default_choices()
INITIAL: dict[str, Any] = initial_params(os.environ.get(CONFIG_ENV) or None, CHOICES)

PARAMS: dict[str, solara.Reactive] = {key: solara.reactive(INITIAL[key]) for key in PARAM_KEYS}
errors: solara.Reactive[dict[str, str]] = solara.reactive({})
compare_spec: solara.Reactive[dict[str, Any] | None] = solara.reactive(None)

view_week: solara.Reactive[int] = solara.reactive(-1)          # -1: the latest week run
selected_agent: solara.Reactive[Any] = solara.reactive(None)
replay_week: solara.Reactive[int | None] = solara.reactive(None)
export_note: solara.Reactive[str] = solara.reactive("")

EDITED = "edited parameters"


def model_params() -> dict[str, Any]:
    """``SolaraViz(model_params=...)``: every page parameter and the comparison, as reactive holders
    that :class:`sim.viz.live_model.LiveModel` reads when Mesa's Reset builds the model. (Mesa draws
    no input for them: the page's own inputs type-check and validate them, see docs/viz.md.)"""
    return {**PARAMS, "compare": compare_spec}


def current_values() -> dict[str, Any]:
    return {key: r.value for key, r in PARAMS.items()}


def compare_spec_for(choice: str, model) -> dict[str, Any]:
    """The second run's parameters: the inputs as edited now (``edited parameters``), or a scenario's
    own values; the seed is always the first run's."""
    if choice == EDITED:
        spec = {k: v for k, v in current_values().items() if k != SEED_KEY}
    else:
        spec = {SCENARIO_KEY: choice}
    return spec


def reset_view() -> None:
    """A new model: show its latest week, no agent, no replay, no export note."""
    view_week.set(-1)
    selected_agent.set(None)
    replay_week.set(None)
    export_note.set("")
