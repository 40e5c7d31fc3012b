"""The page's panels, each a Solara component that takes the model, as Mesa's ``SolaraViz`` passes
it (``components=[LiveView, AgentPanel, ...]``), and re-renders when Mesa steps the model.

The network, charts, parameter inputs and week scrubber are small Vue templates (``vue/``) fed
with numbers: a new week sends the values that changed, never a picture, which is what lets Play
run at tens of weeks a second. The view state shared between panels (the week shown, the agent
picked, the cascade replayed) lives in per-session reactive variables (:mod:`sim.viz.state`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import solara
from mesa.visualization.utils import update_counter

from sim.config import ConfigError
from sim.viz import state
from sim.viz.agent_view import agent_details, agent_html
from sim.viz.charts import KEY_CHARTS, agent_chart, chart_spec
from sim.viz.export import export_run
from sim.viz.network_view import cascade_rounds, edge_reference, network_layout, network_state

VUE = Path(__file__).parent / "vue"


@solara.component_vue(str(VUE / "network.vue"))
def NetworkView(layout_json: str, state_json: str, replay_json: str = "", selected: int = -1, frame: int = 0,
                event_node_click: Callable[[int], None] | None = None,
                event_drawn: Callable[[int], None] | None = None,
                event_close_replay: Callable[[Any], None] | None = None):
    pass


@solara.component_vue(str(VUE / "chart.vue"))
def ChartView(spec_json: str, event_pick: Callable[[int], None] | None = None):
    pass


@solara.component_vue(str(VUE / "scrubber.vue"))
def Scrubber(week: int, max_week: int, follow: bool, event_set_week: Callable[[int], None] | None = None):
    pass


def Chart(spec: dict, **kw):
    """A chart of :mod:`sim.viz.charts` (its spec goes as one JSON string: Solara compares and sends
    a string as one value, where a deep list of numbers would be walked item by item)."""
    return ChartView(spec_json=json.dumps(spec), **kw)


def shown_week(model) -> int:
    """The week the page shows: the one picked with the scrubber, else the latest run."""
    w = state.view_week.value
    steps = int(model.steps)
    return steps if w is None or w < 0 or w > steps else int(w)


def _frames(model):
    df = model.model_frame()
    twin = model.twin.model_frame() if getattr(model, "twin", None) is not None else None
    return df, twin


def _spec(model, name: str, df, twin_df, height: int) -> dict:
    week = shown_week(model)
    cursor = None if week == int(model.steps) and state.view_week.value in (None, -1) else week
    return chart_spec(name, df, int(model.horizon), cursor, twin_df, "B", height)


def readouts(model) -> list[tuple[str, str]]:
    m = model.metrics
    return [("step", f"Week {int(model.steps)} / {int(model.horizon)}"),
            ("pool", f"Dry powder ${float(m['dry_powder_bn']):,.0f}bn"),
            ("ust10y", f"10y {float(m['ust10y_pct']):.2f}%"),
            ("ig", f"IG {float(m['ig_spread_bp']):.0f}bp"),
            ("defaults", f"Defaults {int(m['defaults_total'])}"),
            ("fire_sales", f"Fire sales ${float(m['fire_sales_bn']):,.1f}bn this week")]


@solara.component
def Readouts(model, week: int) -> None:
    """The current week's headline numbers (``week`` is a prop so that a new week re-renders it)."""
    with solara.Row(classes=["dp-readouts"], gap="6px"):
        for key, text in readouts(model):
            solara.Text(text, classes=["dp-readout", f"dp-readout-{key}"])
        if getattr(model, "twin", None) is not None:
            t = model.twin.metrics
            solara.Text(f"B: pool ${float(t['dry_powder_bn']):,.0f}bn, IG {float(t['ig_spread_bp']):.0f}bp, "
                        f"defaults {int(t['defaults_total'])}", classes=["dp-readout", "dp-readout-twin"])


@solara.component
def LiveView(model) -> None:
    """The network of claims (with the cascade replay on it) beside the key charts, then the week
    scrubber, the timeline of the run's cascades, defaults and fire sales, the impossible trinity.
    One component for everything that changes every week: Solara renders once per component that
    follows Mesa's step counter, so fewer followers make a faster Play."""
    update_counter.get()
    state.compare_spec.get()          # a comparison started or stopped redraws the charts
    n_edges = len(model.history.edges.keys)
    layout = solara.use_memo(lambda: json.dumps(network_layout(model)), [model, n_edges])
    edge_ref = solara.use_memo(lambda: edge_reference(model), [model, n_edges])
    week = shown_week(model)
    net = network_state(model, week, edge_ref)
    df, twin_df = _frames(model)
    replay_week = state.replay_week.value
    replay = solara.use_memo(lambda: "" if replay_week is None else json.dumps(cascade_rounds(model, replay_week)),
                             [model, replay_week])

    def pick_agent(i):
        holders = model.holders
        if isinstance(i, int) and 0 <= i < len(holders):
            state.selected_agent.set(holders[i].unique_id)

    def pick_week(w):
        w = max(0, min(int(w), int(model.steps)))
        state.view_week.set(w)
        state.replay_week.set(w)

    def set_week(w):
        w = int(w)
        state.view_week.set(-1 if w < 0 or w >= int(model.steps) else w)

    selected = next((i for i, a in enumerate(model.holders) if a.unique_id == state.selected_agent.value), -1)
    with solara.Column(classes=["dp-live"], gap="4px"):
        Readouts(model, int(model.steps))
        with solara.Row(classes=["dp-live-row"], gap="10px"):
            with solara.Column(classes=["dp-live-net"], gap="0px"):
                model.display.frame_rendered(int(model.steps))
                NetworkView(layout_json=layout, state_json=json.dumps(net), replay_json=replay, selected=selected,
                            frame=int(model.steps), event_drawn=model.display.frame_shown,
                            event_node_click=pick_agent, event_close_replay=lambda *_: state.replay_week.set(None))
            with solara.Column(classes=["dp-live-charts"], gap="2px"):
                for name in KEY_CHARTS:
                    Chart(_spec(model, name, df, twin_df, 118))
        Scrubber(week=week, max_week=int(model.steps), follow=state.view_week.value in (None, -1),
                 event_set_week=set_week)
        Chart(_spec(model, "timeline", df, twin_df, 96), event_pick=pick_week)
        with solara.Row(classes=["dp-more"], gap="10px"):
            for name in ("defaults", "trinity"):
                with solara.Column(classes=["dp-more-chart"]):
                    Chart(_spec(model, name, df, twin_df, 120))


@solara.component
def AgentPanel(model) -> None:
    """The agent picked on the network: balance sheet, headroom, history, forced sales."""
    agent_id = state.selected_agent.value
    if agent_id is not None:
        update_counter.get()        # only an open inspector follows the steps
    if agent_id is None:
        solara.Text("Click an agent on the network to inspect its balance sheet, headroom and sales.",
                    classes=["dp-agent-hint"])
        return
    details = agent_details(model, agent_id)
    if details is None:
        return
    with solara.Column(classes=["dp-agent"], gap="2px"):
        with solara.Row(justify="space-between"):
            solara.Text("Agent", classes=["dp-panel-title"])
            solara.Button("Close", text=True, on_click=lambda: state.selected_agent.set(None),
                          classes=["dp-agent-close"])
        solara.HTML(tag="div", unsafe_innerHTML=agent_html(details), classes=["dp-agent-body"])
        Chart(agent_chart(model.history, details["row"], int(model.horizon),
                                   None if state.view_week.value in (None, -1) else shown_week(model),
                                   str(details["name"])))


@solara.component
def CompareExport(model) -> None:
    """Start or stop a comparison run on the same seed; write the view as a run folder. (It does not
    follow the steps: it reads the model only when a button is pressed.)"""
    choice, set_choice = solara.use_state(state.EDITED)
    message, set_message = solara.use_state("")
    options = [state.EDITED, *model.choices]

    def start():
        try:
            spec = state.compare_spec_for(choice, model)
            params = model.start_twin(spec)
            state.compare_spec.set(spec)
            set_message(f"Comparing with B = {params.describe(model.choices)}")
        except ConfigError as exc:
            set_message(f"Cannot compare: {exc}")

    def stop():
        model.stop_twin()
        state.compare_spec.set(None)
        set_message("")

    def export():
        try:
            e = export_run(model)
        except (ConfigError, OSError) as exc:
            state.export_note.set(f"Could not write the run folder: {getattr(exc, 'strerror', None) or exc}")
            return
        state.export_note.set(f"Wrote {e.folder} (week {e.week}, seed {e.seed}, config {e.config_hash}). "
                              f"Rerun these weeks: {e.rerun_command} · the whole run: {e.full_run_command}")

    with solara.Row(classes=["dp-tools"], gap="16px"):
        with solara.Column(classes=["dp-compare"], gap="2px"):
            solara.Text("Compare: a second run on the same seed, dashed in every chart", classes=["dp-panel-title"])
            with solara.Row(gap="8px"):
                solara.Select("Second run (B)", values=options, value=choice, on_value=set_choice,
                              classes=["dp-compare-choice"])
                if getattr(model, "twin", None) is None:
                    solara.Button("Start comparison", on_click=start, color="primary", classes=["dp-compare-start"])
                else:
                    solara.Button("Stop comparison", on_click=stop, classes=["dp-compare-stop"])
            if message:
                solara.Text(message, classes=["dp-compare-note"])
        with solara.Column(classes=["dp-export"], gap="2px"):
            solara.Text("Reproduce: save this view as a run folder", classes=["dp-panel-title"])
            solara.Button("Save run folder", on_click=export, color="primary", classes=["dp-export-button"])
            if state.export_note.value:
                solara.Text(state.export_note.value, classes=["dp-export-note"])


#: The page's panels in order, as ``SolaraViz(components=...)`` takes them (all on page 0).
COMPONENTS: list = [LiveView, AgentPanel, CompareExport]
