"""The live page without a browser: input checks against the config schema (as the CLI checks),
the page's model and its history, what each panel shows (network, cascade rounds, headroom, charts,
agent), the export and its rerun, the Solara page itself (Mesa's SolaraViz with a custom component
added in one line) and the server's handling of stop signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from sim.config import ConfigError, load_config
from sim.viz import params as P
from sim.viz.live_model import LiveModel

ROOT = Path(__file__).resolve().parents[1]
CHOICES = P.scenario_choices()


@pytest.fixture(scope="module")
def run40():
    """A baseline page model after 40 weeks (cascades by then), with a comparison run."""
    m = LiveModel("baseline", choices=CHOICES, compare={P.SCENARIO_KEY: "dry_powder_exhausted"})
    for _ in range(40):
        m.step()
    return m


# ---------------------------------------------------------------- inputs, checked like the CLI's
def _cli_verdict(key: str, text: str) -> bool:
    """Whether ``drypowder run --seed TEXT`` (the seed) or ``--set DOTTED=TEXT`` accepts ``text``."""
    import argparse

    from sim.argtypes import seed as _seed
    from sim.cli import _overrides
    try:
        if key == "seed":
            _seed(text)
        else:
            load_config(CHOICES["baseline"], _overrides([f"{P.DOTTED[key]}={text}"]))
        return True
    except (ConfigError, argparse.ArgumentTypeError):
        return False


@pytest.mark.parametrize("key,texts", [
    ("seed", ["0", "11", str(2 ** 63 - 1), str(2 ** 63), str(2 ** 64), "-1", "1.5", "abc", "", "1e3", "1000.0"]),
    ("retail_margin_share", ["0", "1", "1.01", "-0.1", "0.2", ".5", "+0.5", "nan", "inf", "2e-1"]),
    ("retail_holders", ["1000", "2,000", "2000.5", "2000.0", "1e3", "+2000", "-5", "0"]),
    ("dry_powder_initial_bn", ["0", "-1", "900", "1e4", "x", "1,200.5"]),
])
def test_page_accepts_exactly_what_the_cli_accepts(key, texts):
    dotted = "seed" if key == "seed" else P.DOTTED[key]
    values = P.scenario_params("baseline", CHOICES)
    for text in texts:
        try:
            value = P.check_value(key, text, "baseline", CHOICES, values)
            accepted = True
        except ConfigError as exc:
            accepted, value = False, None
            msg = str(exc)
            assert "Traceback" not in msg and str(ROOT) not in msg and len(msg) < 300, msg
        cli = _cli_verdict(key, text.replace(",", ""))      # (thousands separators: the page's display)
        assert accepted == cli, (key, text, accepted, cli)
        if accepted:
            assert float(value) == float(text.replace(",", ""))
    with pytest.raises(ConfigError, match="seed"):
        P.check_value("seed", str(2 ** 63), "baseline", CHOICES, values)


def test_scenarios_load_and_the_header_names_every_change():
    for name in CHOICES:
        values = P.scenario_params(name, CHOICES)
        assert values[P.SCENARIO_KEY] == name and isinstance(values[P.SEED_KEY], int)
        for h in P.HEADLINE:
            lo, hi = h.bounds(values[h.key])
            assert lo <= values[h.key] <= hi
    m = LiveModel("baseline", 7, choices=CHOICES, dry_powder_initial_bn=600, central_bank_backstop=True)
    assert m.cfg.seed == 7 and m.cfg.dry_powder.initial_bn == 600 and m.cfg.central_bank.backstop is True
    text = m.view_params.describe(CHOICES)
    assert text.startswith("baseline · seed 7 · ")
    assert "dry powder at start 600 $bn (scenario 1,200)" in text and "backstop on" in text
    assert [k for k, _, _ in m.view_params.changed(CHOICES)] == ["dry_powder_initial_bn", "central_bank_backstop"]
    assert LiveModel(choices=CHOICES).view_params.describe(CHOICES).endswith("scenario values")


def test_a_config_given_to_viz_joins_the_scenarios(tmp_path):
    custom = tmp_path / "my_run.yaml"
    custom.write_text("name: my_run\ndry_powder:\n  initial_bn: 700\n")
    choices = P.scenario_choices(custom)
    assert choices["my_run"] == custom and P.initial_params(custom, choices)[P.SCENARIO_KEY] == "my_run"
    assert LiveModel("my_run", choices=choices).cfg.dry_powder.initial_bn == 700


# ---------------------------------------------------------------- the page's model
class _Holder:
    """What Mesa's Reset passes for a page parameter: a per-session reactive holder."""

    def __init__(self, value):
        self.value = value


def test_live_model_reads_reactive_holders_and_runs_like_the_plain_model():
    from sim.model import DryPowderModel
    kw = {"seed": 5, "dry_powder_initial_bn": 700}
    a = LiveModel(choices=CHOICES, **{k: _Holder(v) for k, v in kw.items()}, scenario_name=_Holder("baseline"))
    b = DryPowderModel(load_config(CHOICES["baseline"], {"seed": 5, "dry_powder.initial_bn": 700}))
    for _ in range(12):
        a.step()
        b.step()
    assert a.cfg == b.cfg and a.metrics == b.metrics
    assert len(a.history.weeks) == 13
    # the history's week 12 is the network now
    g = b.network
    w = a.history.at(12)
    values = w.edge_array(len(a.history.edges.keys))
    for (u, v, kind), x in zip(a.history.edges.keys, values):
        assert x == pytest.approx(g.edges[u, v]["value_bn"] if g.has_edge(u, v) and g.edges[u, v]["kind"] == kind
                                  else 0.0)


def test_comparison_runs_in_lockstep_on_the_same_seed(run40):
    m = run40
    assert m.twin is not None and m.twin.steps == m.steps == 40
    assert m.twin.cfg.seed == m.cfg.seed and m.twin.cfg.name == "dry_powder_exhausted"
    m2 = LiveModel("dry_powder_exhausted", m.cfg.seed, choices=CHOICES)
    for _ in range(40):
        m2.step()
    assert m2.metrics == m.twin.metrics


def test_play_stops_at_the_horizon():
    m = LiveModel(choices=CHOICES, **{"retail_holders": 1000})
    m.horizon = 5
    while m.running:
        m.step()
    assert m.steps == 5 and len(m.history.weeks) == 6


# ---------------------------------------------------------------- what the panels show
def test_network_layout_and_state(run40):
    from sim.viz.network_view import edge_reference, network_layout, network_state
    m = run40
    layout = network_layout(m)
    assert len(layout["nodes"]) == len(m.holders) and len(layout["markets"]) == 8
    xy = np.array([[n["x"], n["y"]] for n in layout["nodes"] + layout["markets"]])
    assert (xy >= 0).all() and (xy <= 1).all()
    assert len({(x, y) for x, y in xy.tolist()}) == len(xy)          # no two nodes on one spot
    assert network_layout(LiveModel(choices=CHOICES))["nodes"][0]["x"] == layout["nodes"][0]["x"]
    ref = edge_reference(m)
    now, start = network_state(m, 40, ref), network_state(m, 0, ref)
    assert len(now["r"]) == len(m.holders) and len(now["edge_w"]) == len(layout["edges"])
    assert all(0 < r <= 20 for r in now["r"])
    live_edges = m.history.at(40).edge_ids
    assert sum(w > 0 for w in now["edge_w"]) == len(live_edges)
    assert start["title"].startswith("Network of claims, week 0")
    for i, a in enumerate(m.holders):
        assert now["dead"][i] == a.defaulted


def test_cascade_rounds_follow_the_event_log(run40):
    from sim.viz.network_view import CONSTRAINT_COLORS, cascade_rounds, forced_events
    m = run40
    ev = forced_events(m.events_frame())
    week = int(ev.groupby("step")["round"].nunique().idxmax())
    c = cascade_rounds(m, week)
    part = ev[ev["step"] == week]
    assert [r["round"] for r in c["rounds"]] == sorted(part["round"].unique().tolist())
    for r in c["rounds"]:
        rows = part[part["round"] == r["round"]]
        assert r["value_bn"] == pytest.approx(rows["value_bn"].sum())
        assert {s[0] for s in r["sellers"]} == {i for i, a in enumerate(m.holders) if a.unique_id in set(rows.agent_id)}
        assert all(s[1] == CONSTRAINT_COLORS[s[2]] for s in r["sellers"])
        assert all(0 <= e < len(m.history.edges.keys) for e in r["edges"])
        for asset, move in r["moves"].items():
            assert move == pytest.approx(rows[rows.asset == asset]["price_return"].iloc[0])
        # the claims lit for a seller start or end at it
        ids = {m.holders[s[0]].unique_id for s in r["sellers"]}
        assert all(m.history.edges.keys[e][0] in ids or m.history.edges.keys[e][1] in ids for e in r["edges"])
    assert cascade_rounds(m, 0)["rounds"] == []


def test_headroom_against_the_constraints(run40):
    from sim.viz.headroom import USED_CAP, Limit, constraint_headroom, stress_levels
    m = run40
    room = constraint_headroom(m)
    assert set(room) == {a.unique_id for a in m.holders}
    first = {a.kind: room[a.unique_id][0].limit for a in m.holders}
    assert first["hedge_fund"] == Limit.MARGIN and first["neocloud"] == Limit.COVENANT
    assert first["private_credit"] == Limit.GATE and first["sovereign"] == Limit.COMMITMENT
    assert first["hyperscaler"] == Limit.LEVERAGE
    hf = next(a for a in m.hedge_funds if not a.defaulted)
    values = m.book.units[hf.row] * m.prices
    equity = values.sum() - max(m.book.external_debt[hf.row] - m.book.cash[hf.row], 0)
    mm = m.market.margins()[1]          # the cascade's own figure for this week
    assert room[hf.unique_id][0].used == pytest.approx(min(values @ mm / equity, USED_CAP))
    stress = stress_levels(m)
    assert all(0 <= s <= USED_CAP for s in stress.values())
    assert all(stress[a.unique_id] == USED_CAP for a in m.holders if a.defaulted)


def test_charts_carry_every_week_and_the_comparison(run40):
    from sim.viz.charts import CHARTS, agent_chart, chart_spec
    m = run40
    df, twin = m.model_frame(), m.twin.model_frame()
    for name in CHARTS:
        spec = chart_spec(name, df, m.horizon, 12, twin)
        own = [s for s in spec["series"] if not s["name"].startswith("B: ")]
        other = [s for s in spec["series"] if s["name"].startswith("B: ")]
        assert own and len(other) == len(own), name
        assert all(len(s["values"]) == 41 and s["dash"] for s in other)
        assert spec["cursor"] == 12 and spec["x_max"] == m.horizon
        json.dumps(spec)
    pool = chart_spec("pool", df, m.horizon)["series"][0]["values"]
    assert pool == pytest.approx(df["dry_powder_bn"].tolist(), rel=1e-4)
    a = agent_chart(m.history, 3, m.horizon, None, "x")
    assets = [w.assets[3] for w in m.history.weeks]
    assert a["series"][0]["values"] == pytest.approx(assets, rel=1e-4)


def test_agent_inspector(run40):
    from sim.viz.agent_view import agent_details, agent_html
    m = run40
    for a in m.holders:
        d = agent_details(m, a.unique_id)
        assert d["total_assets"] == pytest.approx(m.total_assets()[a.row] + (m.retail.cash.sum() if a.kind == "retail"
                                                                             else 0), abs=0.01 * len(d["sheet"]["assets"]))
        assert d["total_liabilities"] == pytest.approx(m.book.total_liabilities()[a.row], abs=0.02)
    seller = m.events_frame().query("constraint == 'margin_call'").agent_id.iloc[0]
    d = agent_details(m, seller)
    assert d["sales"]["rows"] and d["sales"]["total_bn"] > 0
    assert d["sales"]["rows"][0]["week"] >= d["sales"]["rows"][-1]["week"]
    html = agent_html(d)
    assert "<script" not in html and "margin" in html
    assert agent_details(m, -12345) is None


def test_export_reruns_to_the_same_numbers(tmp_path):
    from sim.cli import main
    from sim.viz.export import export_run
    m = LiveModel("baseline", 3, choices=CHOICES, hedge_funds_leverage=4.0)
    for _ in range(20):
        m.step()
    e = export_run(m, tmp_path / "out")
    manifest = json.loads((e.folder / "manifest.json").read_text())
    assert manifest["steps"] == 20 and manifest["seed"] == 3 and manifest["config_hash"] == m.cfg.digest()
    assert e.rerun_command.startswith("drypowder run --from ")
    assert main(["run", "--from", str(e.folder / "manifest.json"), "--out", str(tmp_path / "rerun"), "--quiet"]) == 0
    rerun = next((tmp_path / "rerun").iterdir())
    assert json.loads((rerun / "summary.json").read_text()) == json.loads((e.folder / "summary.json").read_text())
    assert json.loads((rerun / "manifest.json").read_text())["config_hash"] == manifest["config_hash"]


# ---------------------------------------------------------------- the Solara page: Mesa's SolaraViz
def test_page_is_mesa_solaraviz_and_takes_a_one_line_custom_component():
    solara = pytest.importorskip("solara")
    import ipyvuetify as v
    from solara.widgets import GridLayout

    from sim.viz import state
    from sim.viz.page import _commit, live_page
    from sim.viz.panels import COMPONENTS

    page = live_page(extra_components=[lambda model: solara.Text(f"My panel: week {model.steps}")])

    @solara.component
    def Root():
        with solara.AppLayout():
            page()

    box, rc = solara.render(Root(), handle_error=False)
    try:
        # Mesa's SolaraViz: its controls (render interval, Reset / Play / Step) and its grid of components
        assert rc.find(v.Slider, label="Render Interval (steps)").widget.v_model == 1
        assert rc.find(v.Btn, children=["▶"]).widget
        grid = rc.find(GridLayout).widget
        assert len(grid.items) == len(COMPONENTS) + 1           # the page's panels and the custom one
        def texts(widget=box) -> list[str]:
            """Every text on the page (Mesa's grid keeps its panels in ``items``, not ``children``)."""
            out = []
            for child in [*(getattr(widget, "children", None) or []), *(getattr(widget, "items", None) or [])]:
                if isinstance(child, str):
                    out.append(child)
                else:
                    out += texts(child)
            return out
        assert "My panel: week 0" in texts()
        rc.find(v.Btn, children=["Step"]).widget.click()
        assert "My panel: week 1" in texts()
        assert any(t.startswith("Week 1 /") for t in texts())
        # a typed value goes through the schema: a bad one is refused with a message
        _commit("seed")(str(2 ** 63))
        assert "seed" in state.errors.value["seed"] and state.PARAMS["seed"].value != 2 ** 63
        _commit("dry_powder_initial_bn")("650")
        _commit("seed")("9")
        assert not state.errors.value
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert any(t == "Dry powder $650bn" for t in texts())
        assert len(COMPONENTS) == 3
    finally:
        rc.close()
        for key, value in state.INITIAL.items():
            state.PARAMS[key].set(value)


# ---------------------------------------------------------------- the server and its child
def test_server_command_and_env(tmp_path):
    from sim.viz import server
    cmd = server.server_command(9999)
    assert cmd[1:3] == ["run", "sim.viz.app"]
    assert cmd[3:] == ["--host", "127.0.0.1", "--port", "9999", "--production", "--no-open"]
    env = server.server_env(tmp_path / "x.yaml", tmp_path / "out")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env[server.CONFIG_ENV] == str((tmp_path / "x.yaml").resolve())
    assert env[server.OUT_ENV] == str((tmp_path / "out").resolve())
    assert env[server.PARENT_ENV] == str(os.getpid())
    assert server.CONFIG_ENV not in server.server_env(None)


def test_viz_rejects_bad_input_without_starting(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dry_powder:\n  initial_bnn: 5\n")
    for args in ([str(bad)], [str(tmp_path / "missing.yaml")], ["--port", "0"], ["--port", "x"]):
        done = subprocess.run([sys.executable, "-m", "sim.cli", "viz", *args], capture_output=True, text=True,
                              cwd=ROOT, timeout=60)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("error:") == 1 and "Traceback" not in done.stderr, done.stderr


STAND_IN = """
import sys, time
from sim.viz import server
server.server_command = lambda port, host: [sys.executable, "-c", "import time; time.sleep(120)"]
print("ready", flush=True)
sys.exit(server.serve(None, 1))
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                             # a zombie (ended, not yet reaped) counts as gone
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return True


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL])
def test_viz_ends_its_server_on_every_stop_signal(sig):
    """``serve`` with a stand-in child: each stop signal ends both; SIGKILL of the parent ends the
    child too (the kernel's parent-death signal, Linux)."""
    if sig == signal.SIGKILL and not sys.platform.startswith("linux"):
        pytest.skip("parent-death signal is Linux's")
    import psutil
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(STAND_IN)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert parent.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 30
        children = []
        while not children and time.monotonic() < deadline:
            children = psutil.Process(parent.pid).children()
            time.sleep(0.1)
        assert len(children) == 1
        child = children[0].pid
        os.kill(parent.pid, sig)
        code = parent.wait(timeout=30)
        assert code == (-9 if sig == signal.SIGKILL else 0)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child)
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_failing_panel_shows_a_short_message_without_server_paths(caplog):
    solara = pytest.importorskip("solara")
    from sim.viz.page import live_page

    def broken(model):
        raise FileNotFoundError(f"[Errno 2] No such file or directory: '{ROOT / 'runs' / 'x.yaml'}'")

    page = live_page(extra_components=[broken])

    @solara.component
    def Root():
        with solara.AppLayout():
            page()

    box, rc = solara.render(Root(), handle_error=False)
    try:
        shown = json.dumps(_all_text(box))
        assert "Something went wrong" in shown and "FileNotFoundError" in shown and "x.yaml" in shown
        assert str(ROOT) not in shown and "Traceback" not in shown
    finally:
        rc.close()


def _all_text(widget) -> list[str]:
    out = []
    for child in [*(getattr(widget, "children", None) or []), *(getattr(widget, "items", None) or [])]:
        out += [child] if isinstance(child, str) else _all_text(child)
    for attr in ("title", "value"):
        if isinstance(getattr(widget, attr, None), str):
            out.append(getattr(widget, attr))
    return out
