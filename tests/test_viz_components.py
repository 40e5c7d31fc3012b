"""The live page without a browser: the model factory, the figures, the session the page drives
and the Solara component tree itself (rendered with ``solara.render``, buttons clicked in Python)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from sim import viz
from sim.config import SCENARIO_DIR

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_pixels(data: bytes) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def _drawn(data: bytes) -> bool:
    """A PNG with real content: not blank, several colours, some pixels not white."""
    px = _png_pixels(data)
    return (data.startswith(PNG_MAGIC) and len(np.unique(px.reshape(-1, 3), axis=0)) > 8
            and (px.min(axis=2) < 250).mean() > 0.03)


@pytest.fixture(scope="module")
def stepped():
    """A baseline session stepped until its first forced sale (bounded), shared by the read-only tests."""
    s = viz.VizSession()
    for _ in range(80):
        s.step()
        if viz.latest_cascade(s.model)["step"] is not None:
            break
    return s


# ---------------------------------------------------------------- the model factory
def test_make_model_maps_slider_keys_to_dotted_overrides():
    m = viz.make_model("baseline", 7, dry_powder_initial_bn=800, hyperscalers_capex_growth=0.3,
                       gpu_generation_value_drop=0.5, retail_margin_share=0.2, hedge_funds_leverage=3.5,
                       ai_revenue_growth=0.4, retail_holders=2000, central_bank_backstop=True)
    c = m.cfg
    assert c.dry_powder.initial_bn == 800 and m.metrics["dry_powder_bn"] == pytest.approx(800)
    assert c.hyperscalers.capex_growth == pytest.approx(0.3)
    assert c.gpu.generation_value_drop == pytest.approx(0.5)
    assert c.retail.margin_share == pytest.approx(0.2)
    assert c.hedge_funds.leverage == pytest.approx(3.5)
    assert c.ai.revenue_growth == pytest.approx(0.4)
    assert c.retail.holders == 2000 and m.retail.n == 2000
    assert c.central_bank.backstop is True
    # the seed drives the model's randomness; None leaves the config's seed
    small = {"retail_holders": 1000}
    a, b = viz.make_model(seed=7, **small).run(3), viz.make_model(seed=7, **small).run(3)
    assert a.metrics["price_crypto"] == b.metrics["price_crypto"]
    assert viz.make_model(seed=8, **small).run(3).metrics["price_crypto"] != a.metrics["price_crypto"]


def test_headline_overrides_skip_none_and_reject_unknown_keys():
    assert viz.headline_overrides(dry_powder_initial_bn=None) == {}
    assert viz.headline_overrides(retail_holders=2500.4, central_bank_backstop=1) == {
        "retail.holders": 2500, "central_bank.backstop": True}
    with pytest.raises(TypeError, match="unknown viz parameter"):
        viz.headline_overrides(dry_powder_bn=5)
    assert set(viz.DOTTED) == {h.key for h in viz.HEADLINE} | set(viz.SWITCHES)


def test_scenario_choices_cover_baseline_and_every_scenario_file(tmp_path):
    choices = viz.scenario_choices()
    assert "baseline" in choices
    on_disk = {p.stem for p in Path(SCENARIO_DIR).glob("*.yaml")} if Path(SCENARIO_DIR).is_dir() else set()
    assert on_disk <= set(choices)
    for name in choices:
        params = viz.default_params(name, choices)
        assert params["scenario"] == name and isinstance(params["seed"], int)
        for h in viz.HEADLINE:      # every scenario's value fits its slider
            lo, hi = h.bounds(params[h.key])
            assert lo <= params[h.key] <= hi
    # a config file given on the command line joins the list under its stem
    custom = tmp_path / "my_run.yaml"
    custom.write_text("name: my_run\ndry_powder:\n  initial_bn: 700\n")
    with_custom = viz.scenario_choices(custom)
    assert with_custom["my_run"] == custom
    assert viz.scenario_name_for(custom, with_custom) == "my_run"
    session = viz.VizSession(custom)
    assert session.applied["scenario"] == "my_run" and session.model.cfg.dry_powder.initial_bn == 700


# ---------------------------------------------------------------- figures
def test_every_figure_renders_to_a_non_empty_png(stepped):
    images = stepped.render()
    assert set(images) == {"network", *viz.CHARTS}
    for name, data in images.items():
        assert data.startswith(PNG_MAGIC), name
        h, w = _png_pixels(data).shape[:2]
        assert h > 100 and w > 200, (name, h, w)
        assert _drawn(data), name


def test_network_layout_is_fixed_and_covers_every_node(stepped):
    m = viz.make_model()
    layout = viz.network_layout(m)
    before = dict(layout["pos"])
    assert set(m.network.nodes) <= set(before)
    m.run(4)
    assert viz.network_layout(m) is layout and layout["pos"] == before
    # a fresh model with the same structure gets the same picture
    assert viz.network_layout(viz.make_model())["pos"] == before


def test_stress_levels_and_latest_cascade(stepped):
    m = stepped.model
    stress = viz.stress_levels(m)
    assert set(stress) == {a.unique_id for a in m.holders}
    assert all(0.0 <= v <= 2.0 for v in stress.values())
    for a in m.holders:
        if a.defaulted:
            assert stress[a.unique_id] == 2.0
    c = viz.latest_cascade(m)
    assert c["step"] is not None, "no forced sale in 80 baseline weeks"
    from sim.domain import FORCED
    assert c["rows"] and all(r["constraint"] in FORCED and r["value_bn"] > 0 for r in c["rows"])
    assert [r["round"] for r in c["rows"]] == sorted(r["round"] for r in c["rows"])
    html = viz.cascade_html(m)
    assert "<table" in html and "Round" in html and f"Week {c['step']}" in html
    assert viz.cascade_html(viz.make_model()).count("No forced sales") == 1
    r = viz.readouts(m)
    assert r["step"].startswith(f"Week {int(m.steps)} /") and "bn" in r["pool"]


# ---------------------------------------------------------------- the session the page drives
def test_session_slider_change_applies_on_reset():
    s = viz.VizSession()
    initial = s.applied["dry_powder_initial_bn"]
    assert s.step(3) == 3 and not s.dirty
    s.set_param("dry_powder_initial_bn", 500)
    s.set_param("central_bank_backstop", True)
    assert s.dirty and s.model.cfg.dry_powder.initial_bn == initial      # not yet applied
    old, gen = s.model, s.generation
    s.reset()
    assert s.model is not old and s.generation == gen + 1 and not s.dirty
    assert int(s.model.steps) == 0
    assert s.model.cfg.dry_powder.initial_bn == 500 and s.model.metrics["dry_powder_bn"] == pytest.approx(500)
    assert s.model.cfg.central_bank.backstop is True
    s.set_param("seed", 11)
    s.reset()
    assert s.applied["seed"] == 11 and s.model.cfg.dry_powder.initial_bn == 500
    with pytest.raises(KeyError):
        s.set_param("no_such_knob", 1)
    other = next((n for n in s.choices if n != "baseline"), None)
    if other is not None:                # a scenario loads its own values into the controls
        s.set_scenario(other)
        assert s.pending == viz.default_params(other, s.choices)
        s.reset()
        assert s.applied["scenario"] == other


# ---------------------------------------------------------------- the Solara components
def test_dashboard_components_step_slider_and_reset(monkeypatch):
    solara = pytest.importorskip("solara")
    import ipyvuetify as v
    import ipywidgets

    # the wiring, not the drawing (every chart is drawn above): network + one chart keep it fast
    monkeypatch.setattr(viz, "CHARTS", {"pool": viz.pool_figure})
    box, rc = solara.render(viz.Dashboard(), handle_error=False)
    try:
        def counter() -> str:
            return rc.find(v.Html, class_="dp-step-counter").widget.children[0]

        def readout(key: str) -> str:
            return rc.find(v.Html, class_=f"dp-readout dp-readout-{key}").widget.children[0]

        def images() -> dict[str, bytes]:
            found = rc.find(ipywidgets.Image).widgets
            return {next(c for c in w._dom_classes if c.startswith(("dp-chart-", "dp-network"))): bytes(w.value)
                    for w in found}

        assert counter().startswith("Week 0 /")
        step = rc.find(v.Btn, children=["Step"]).widget
        step.click()
        assert counter().startswith("Week 1 /")
        imgs = images()
        assert set(imgs) == {"dp-network", *(f"dp-chart-{n}" for n in viz.CHARTS)}
        assert all(_drawn(data) for data in imgs.values())

        # a slider change is pending until Reset, then the new model shows it
        pool_before = imgs["dp-chart-pool"]
        slider = rc.find(v.Html, class_="dp-slider dp-slider-dry_powder_initial_bn").find(v.Slider).widget
        slider.v_model = 400
        rc.find(v.Alert).assert_not_empty()                # "Changed: press Reset to apply."
        assert counter().startswith("Week 1 /")
        rc.find(v.Btn, children=["Reset"]).widget.click()
        assert counter().startswith("Week 0 /")
        assert readout("pool") == "Dry powder $400bn"
        assert len(rc.find(v.Alert)) == 0
        assert images()["dp-chart-pool"] != pool_before          # the charts show the new model
        rc.find(attributes={"class": "dp-cascade-body"}).assert_single()
    finally:
        rc.close()


# ---------------------------------------------------------------- the server entry point
def test_server_command_and_env(tmp_path):
    cmd = viz.server_command(9999)
    assert cmd[0] == str(viz.solara_executable()) and cmd[1:3] == ["run", "sim.viz"]
    assert cmd[3:] == ["--host", "127.0.0.1", "--port", "9999", "--production", "--no-open"]
    env = viz.server_env(tmp_path / "x.yaml")
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env[viz.CONFIG_ENV] == str((tmp_path / "x.yaml").resolve())
    assert viz.CONFIG_ENV not in viz.server_env(None)


def test_serve_rejects_a_bad_config_without_starting(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dry_powder:\n  initial_bnn: 5\n")
    assert viz.serve(bad, port=1) == 2
    assert "drypowder viz" in capsys.readouterr().err
    assert viz.serve(tmp_path / "missing.yaml", port=1) == 2
    with pytest.raises(SystemExit) as e:
        viz.main(["--help"])
    assert e.value.code == 0
