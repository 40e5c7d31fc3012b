"""The Solara app ``drypowder viz`` serves (``solara run sim.viz.app``): :data:`Page`.

Everything the page will ever import is imported here, and one model is built, stepped and drawn
once, when the server starts: Solara loads this module before it accepts a connection, so the
first visitors never import modules concurrently (simultaneous first imports of the same modules
from several sessions' threads can fail half-way with "partially initialized module" errors).

When started by ``drypowder viz``, this process also ends when that parent does (see
:func:`watch_parent`), so it never outlives the command that started it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import warnings

import mesa.visualization  # noqa: F401 - Mesa's SolaraViz and its components, imported up front
import numpy as np  # noqa: F401
import pandas as pd  # noqa: F401
import solara
import solara.lab  # noqa: F401

from sim.viz import state  # noqa: F401
from sim.viz.agent_view import agent_details, agent_html
from sim.viz.charts import CHARTS, agent_chart, chart_spec
from sim.viz.live_model import LiveModel
from sim.viz.network_view import cascade_rounds, edge_reference, network_layout, network_state
from sim.viz.page import live_page
from sim.viz.params import SCENARIO_KEY

log = logging.getLogger(__name__)
# Solara warns on every first visit over plain http to 127.0.0.1 that it sets its session cookie with
# SameSite=lax rather than none (none needs https and only matters inside an iframe): nothing to act on
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)
PARENT_ENV = "DRYPOWDER_VIZ_PARENT_PID"
WARM_UP_WEEKS = 3


def warm_up() -> None:
    """Build a model, step it and compute every panel's data once, so that every module any of
    this touches is imported now, in one thread."""
    model = LiveModel("baseline", choices=state.CHOICES)
    for _ in range(WARM_UP_WEEKS):
        model.step()
    model.start_twin({SCENARIO_KEY: "baseline"})
    model.step()
    df = model.model_frame()
    for name in CHARTS:
        chart_spec(name, df, model.horizon, 1, model.twin.model_frame())
    ref = edge_reference(model)
    network_layout(model)
    network_state(model, 1, ref)
    cascade_rounds(model, int(model.steps))
    details = agent_details(model, model.holders[0].unique_id)
    agent_html(details)
    agent_chart(model.history, 0, model.horizon, None, "warm-up")
    model.summary()
    model.release()


def watch_parent(parent_pid: int, interval_s: float = 1.0) -> threading.Thread:
    """End this server (SIGTERM to itself, then a hard exit) once ``parent_pid`` is gone: the
    ``drypowder viz`` that started it was killed without a chance to stop it."""
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval_s)
        log.warning("drypowder viz (pid %d) is gone: stopping the server", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5.0)
        os._exit(0)
    t = threading.Thread(target=watch, name="drypowder-viz-parent-watch", daemon=True)
    t.start()
    return t


if os.environ.get(PARENT_ENV, "").isdigit():
    watch_parent(int(os.environ[PARENT_ENV]))
warm_up()
Page = live_page()
page = Page
