"""The live page: Mesa's ``SolaraViz`` around a :class:`sim.viz.live_model.LiveModel`, one per
browser session, with the page's panels as its components and its parameters as its
``model_params``; Mesa's own controls step, play, reset and set the render interval.

:func:`live_page` builds the page component; ``components=`` adds panels of your own (any Mesa
component: a function of the model returning Solara elements, or a ``@solara.component``).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any, Callable

import solara
from mesa.visualization import SolaraViz

from sim.config import ConfigError
from sim.viz import state
from sim.viz.live_model import LiveModel
from sim.viz.panels import COMPONENTS
from sim.viz.params import BACKSTOP_KEY, HEADLINE, SCENARIO_KEY, SEED_KEY, check_value, scenario_params

log = logging.getLogger(__name__)
VUE = Path(__file__).parent / "vue"
PLAY_INTERVAL_MS = 5         # Mesa's pause between Play frames (its default, 100 ms, caps Play at 10 frames a second)
RENDER_INTERVAL = 1          # weeks per frame
CSS = (Path(__file__).parent / "page.css").read_text(encoding="utf-8")


@solara.component_vue(str(VUE / "param_input.vue"))
def ParamInput(name: str, label: str, unit: str, value: Any, text: str, min: float = 0, max: float = 1,
               step: float = 1, digits: int = 0, slider: bool = True, changed: bool = False, error: str = "",
               event_commit: Callable[[str], None] | None = None):
    pass


def _commit(key: str) -> Callable[[Any], None]:
    def commit(text: Any) -> None:
        values = state.current_values()
        try:
            value = check_value(key, text, values[SCENARIO_KEY], state.CHOICES, values)
        except ConfigError as exc:
            state.errors.set({**state.errors.value, key: str(exc)})
            return
        state.errors.set({k: v for k, v in state.errors.value.items() if k != key})
        state.PARAMS[key].set(value)
    return commit


@solara.component
def ParamsPanel(model) -> None:
    """Scenario, headline parameters (slider and typed entry, with units), backstop, seed. Values
    are checked against the config schema as they are entered; Mesa's Reset applies them."""
    values = state.current_values()
    errors = state.errors.value
    base = scenario_params(values[SCENARIO_KEY], state.CHOICES)

    def on_scenario(name: str) -> None:
        for key, value in scenario_params(name, state.CHOICES).items():
            state.PARAMS[key].set(value)
        state.errors.set({})

    with solara.Card("Scenario and parameters", margin=0, classes=["dp-params"]):
        solara.Select("Scenario", values=list(state.CHOICES), value=values[SCENARIO_KEY], on_value=on_scenario,
                      classes=["dp-scenario"], dense=True)
        for h in HEADLINE:
            lo, hi = h.bounds(values[h.key])
            ParamInput(name=h.key, label=h.label, unit=h.unit, value=values[h.key], text=h.format(values[h.key]),
                       min=lo, max=hi, step=h.step, digits=h.digits, changed=values[h.key] != base[h.key],
                       error=errors.get(h.key, ""), event_commit=_commit(h.key))
        with solara.Row(gap="12px", classes=["dp-param-last"]):
            solara.Switch(label="Central-bank backstop", value=bool(values[BACKSTOP_KEY]),
                          on_value=lambda v: _commit(BACKSTOP_KEY)(bool(v)), classes=["dp-switch-backstop"])
            ParamInput(name=SEED_KEY, label="Seed", unit="", value=values[SEED_KEY], text=str(values[SEED_KEY]),
                       slider=False, error=errors.get(SEED_KEY, ""), event_commit=_commit(SEED_KEY))
        if any(values[k] != v for k, v in model.view_params.values.items()):
            solara.Text("Changed: press Reset (above) to apply.", classes=["dp-pending"])


@solara.component
def SidebarBelowMesa(model) -> None:
    """The parameter card in the sidebar, below Mesa's controls: Solara orders sidebar content by how
    deep in the page it is declared, and this sits one component deeper than Mesa's."""
    _SidebarParams(model)


@solara.component
def _SidebarParams(model) -> None:
    with solara.Sidebar():
        ParamsPanel(model)


def header(model) -> str:
    """The app bar's text: scenario, every changed parameter and the seed; the second run's too."""
    text = f"drypowder live · {model.view_params.describe(model.choices)}"
    if getattr(model, "twin_params", None) is not None:
        text += f" ║ B (dashed): {model.twin_params.describe(model.choices)}"
    return text


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.\-]+){2,}")


def without_paths(text: str) -> str:
    """``text`` with file paths (which would show the server's folders) replaced by their last part."""
    return _PATH.sub(lambda m: "…/" + re.split(r"[\\/]", m.group(0))[-1], text)


@solara.component
def ErrorNote(error: BaseException, clear: Callable[[], None]) -> None:
    """What a user sees when something fails: what, and a way back; the traceback goes to the log."""
    with solara.Card("Something went wrong", classes=["dp-error"]):
        solara.Text(f"{type(error).__name__}: {without_paths(str(error))[:300]}")
        solara.Text("The details are in the server's log. Reset builds a new model from the inputs.")
        solara.Button("Back to the page", on_click=clear, color="primary")


def live_page(components: list | None = None, extra_components: list | None = None) -> Callable[[], Any]:
    """The page component: ``components`` replaces the page's panels (default
    :data:`sim.viz.panels.COMPONENTS`); ``extra_components`` adds to them, e.g.
    ``live_page(extra_components=[lambda model: solara.Text(f"{model.metrics['defaults_total']} defaults")])``."""
    panels = list(COMPONENTS if components is None else components) + list(extra_components or [])

    @solara.component
    def Guarded() -> None:
        first = solara.use_memo(lambda: LiveModel(**state.model_params()), [])
        model = solara.use_reactive(first)
        error, clear = solara.use_exception()
        live = model.value

        def release_on_close():
            def cleanup():
                m = model.value
                if isinstance(m, LiveModel):
                    m.release()
            return cleanup

        solara.use_effect(release_on_close, [])
        solara.use_effect(state.reset_view, [live])
        state.compare_spec.get()            # a comparison started or stopped re-renders the header
        if error is not None:
            log.error("page error", exc_info=error)
            ErrorNote(error, clear)
            return
        SolaraViz(model, components=panels, model_params=state.model_params(), name=header(live),
                  play_interval=PLAY_INTERVAL_MS, render_interval=RENDER_INTERVAL)
        SidebarBelowMesa(live)

    @solara.component
    def Page() -> None:
        """The page: its style, title, and Mesa's SolaraViz around the session's model, behind an
        error boundary that shows a short message instead of a traceback. (The boundary is a child:
        Solara loops when the component that catches also renders the page's style.)"""
        solara.Style(CSS)
        solara.Title("drypowder live")
        Guarded()

    return Page
