"""The live server: watch the squeeze spread through the network of claims in a browser.

``drypowder viz [CONFIG] [--port P]`` (or ``python -m sim.viz``) calls :func:`serve`, which runs
``solara run sim.viz`` on 127.0.0.1 and blocks. The page (:data:`Page`, alias :data:`page`) is a
custom Solara app with matplotlib figures only, so it works offline (the browser code comes from
``solara-assets``; nothing is fetched from a CDN):

* the network of claims: agents coloured by type and sized by balance sheet, outlined by stress
  (margin use, covenant LTV, redemption queue against the gate, ...), defaulted agents crossed
  out; edges styled by claim type; asset markets as grey squares; the layout is computed once per
  model and stays put between steps;
* live charts: the dry-powder pool, the 10y yield and IG spread, asset prices, defaults and
  fire-sale volume, cascade rounds per step and the impossible-trinity readout;
* controls: scenario picker (``configs/scenarios/*.yaml`` plus ``baseline``), sliders for the
  headline parameters, the central-bank backstop switch, a seed, Step / Play / Reset (slider and
  seed changes apply on Reset, as in Mesa's SolaraViz);
* the latest cascade: who was forced to sell, by which constraint, in which round.

Everything that does not need a browser is plain Python and tested in
``tests/test_viz_components.py``: :func:`make_model` (slider keys to dotted overrides), the figure
functions (:data:`CHARTS`, :func:`network_figure`), :func:`render_png`, :func:`latest_cascade`,
:func:`stress_levels` and the :class:`VizSession` that the page drives.
"""

from __future__ import annotations

import argparse
import html
import io
import logging
import math
import os
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.config import ASSETS, BASELINE_PATH, SCENARIO_DIR, load_config, resolve_config_arg

try:  # the viz extra: ``pip install drypowder[viz]``
    import solara
except ImportError:  # pragma: no cover - the figures and the session still work without it
    solara = None

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
CONFIG_ENV = "DRYPOWDER_VIZ_CONFIG"
PLAY_GAP_S = 0.3         # idle time between Play frames, s
FRAME_TIMEOUT_S = 20.0   # Play waits at most this long for a frame to render, s
log = logging.getLogger(__name__)
APP_MODULE = "sim.viz"


# ====================================================================== parameters
@dataclass(frozen=True)
class Headline:
    """A headline parameter: slider key (a valid Python name), dotted config key, slider range."""

    key: str
    dotted: str
    label: str
    min: float
    max: float
    step: float
    is_int: bool = False

    def format(self, value: Any) -> str:
        if self.is_int:
            return f"{int(round(value)):,}"
        digits = max(0, -int(math.floor(math.log10(self.step)))) if self.step > 0 else 2
        return f"{float(value):.{digits}f}"

    def bounds(self, value: Any) -> tuple[float, float]:
        """Slider range, widened to include ``value`` (a scenario may sit outside the default)."""
        lo, hi = self.min, self.max
        if value is not None and not isinstance(value, bool):
            lo, hi = min(lo, value), max(hi, value)
        return lo, hi


HEADLINE: tuple[Headline, ...] = (
    Headline("dry_powder_initial_bn", "dry_powder.initial_bn", "Dry powder at start ($bn)", 100, 3000, 50, True),
    Headline("hyperscalers_capex_growth", "hyperscalers.capex_growth", "Capex growth (per yr)", 0.0, 0.6, 0.01),
    Headline("gpu_generation_value_drop", "gpu.generation_value_drop", "GPU generation value drop", 0.0, 0.8, 0.01),
    Headline("retail_margin_share", "retail.margin_share", "Retail share on margin", 0.0, 0.6, 0.01),
    Headline("hedge_funds_leverage", "hedge_funds.leverage", "Hedge-fund leverage (x)", 1.0, 8.0, 0.1),
    Headline("ai_revenue_growth", "ai.revenue_growth", "AI revenue growth (log, per yr)", -0.5, 1.5, 0.01),
    Headline("retail_holders", "retail.holders", "Retail holders (accounts)", 1000, 50000, 1000, True),
)
SWITCHES: dict[str, str] = {"central_bank_backstop": "central_bank.backstop"}
DOTTED: dict[str, str] = {**{h.key: h.dotted for h in HEADLINE}, **SWITCHES}


def scenario_choices(extra: "str | Path | None" = None) -> dict[str, Path]:
    """Scenario name -> YAML path: ``baseline``, every ``configs/scenarios/*.yaml`` and, when
    ``extra`` is a file that is none of these (e.g. the CONFIG given to ``drypowder viz``), that
    file under its stem (made unique)."""
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
                name = f"{name} ({p.parent.name})" if not name.endswith(")") else name + "'"
            choices[name] = p
    return choices


def scenario_name_for(config: "str | Path | None", choices: dict[str, Path]) -> str:
    """The entry of ``choices`` that is ``config`` (a path or a scenario name); baseline if None."""
    if config is None:
        return "baseline"
    p = Path(config).resolve()
    for name, q in choices.items():
        if q.resolve() == p:
            return name
    return "baseline"


def _config_path(scenario: "str | Path", choices: dict[str, Path] | None = None) -> Path:
    choices = scenario_choices() if choices is None else choices
    if isinstance(scenario, str) and scenario in choices:
        return choices[scenario]
    return resolve_config_arg(str(scenario))


def _get_dotted(data: dict, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        node = node[part]
    return node


def default_params(scenario: "str | Path" = "baseline", choices: dict[str, Path] | None = None) -> dict[str, Any]:
    """Control values for ``scenario``: its name, its seed and its headline parameters."""
    choices = scenario_choices() if choices is None else choices
    path = _config_path(scenario, choices)
    data = load_config(path).to_dict()
    params: dict[str, Any] = {"scenario": scenario if isinstance(scenario, str) else scenario_name_for(path, choices),
                              "seed": int(data["seed"])}
    for key, dotted in DOTTED.items():
        value = _get_dotted(data, dotted)
        params[key] = bool(value) if key in SWITCHES else value
    return params


def headline_overrides(**headline: Any) -> dict[str, Any]:
    """Slider keys to dotted config overrides; ``None`` values are left to the scenario."""
    out: dict[str, Any] = {}
    for key, value in headline.items():
        if key not in DOTTED:
            raise TypeError(f"unknown viz parameter {key!r}; known: {', '.join(DOTTED)}")
        if value is None:
            continue
        spec = next((h for h in HEADLINE if h.key == key), None)
        if spec is not None and spec.is_int:
            value = int(round(value))
        elif key in SWITCHES:
            value = bool(value)
        else:
            value = float(value)
        out[DOTTED[key]] = value
    return out


def make_model(scenario: "str | Path" = "baseline", seed: int | None = None, *,
               choices: dict[str, Path] | None = None, **headline: Any):
    """The model the page shows: ``scenario`` (a name from :func:`scenario_choices` or a path),
    ``seed`` (default: the config's) and headline overrides by slider key, e.g.
    ``make_model("baseline", 7, dry_powder_initial_bn=600, central_bank_backstop=True)``."""
    from sim.model import DryPowderModel

    path = _config_path(scenario, choices)
    overrides = headline_overrides(**headline)
    return DryPowderModel(str(path), rng=None if seed is None else int(seed), **overrides)


# ====================================================================== readouts
def _frame(model):
    return model.model_frame()


def readouts(model) -> dict[str, str]:
    """Short text readouts of the current step (shown above the charts)."""
    m = model.metrics
    return {
        "step": f"Week {int(model.steps)} / {int(model.horizon)}",
        "pool": f"Dry powder ${float(m['dry_powder_bn']):,.0f}bn",
        "depletion": f"Depletion {100 * float(m['depletion']):.0f}%",
        "ust10y": f"10y {float(m['ust10y_pct']):.2f}%",
        "ig": f"IG {float(m['ig_spread_bp']):.0f}bp",
        "defaults": f"Defaults {int(m['defaults_total'])}",
        "fire_sales": f"Fire sales ${float(m['fire_sales_bn']):,.1f}bn",
        "rounds": f"Cascade rounds {int(m['cascade_rounds'])}",
    }


def latest_cascade(model, limit: int = 14, min_value_bn: float = 0.005) -> dict[str, Any]:
    """The latest step with forced sales: ``{"step", "rounds" (list), "total_bn", "rows", "more"}``; rows
    are one per (round, agent, constraint) with at least ``min_value_bn`` sold (what would show as
    0.00 is noise): who sold, why, in which round, how much, what."""
    from sim.domain import FORCED
    from sim.records import EVENT_COLUMNS
    forced = set(FORCED)
    groups: dict[tuple, dict[str, Any]] = {}
    for row in model.events:
        e = dict(zip(EVENT_COLUMNS, row))
        value = float(e.get("value_bn", 0.0))
        if e.get("constraint") not in forced or value <= 0:
            continue
        key = (int(e["step"]), int(e["round"]), e["agent_name"], e["constraint"])
        g = groups.setdefault(key, {"step": key[0], "round": key[1], "agent": e["agent_name"], "kind": e["agent_kind"],
                                    "constraint": e["constraint"], "value_bn": 0.0, "assets": {}, "holders": 0})
        g["value_bn"] += value
        g["assets"][e["asset"]] = g["assets"].get(e["asset"], 0.0) + value
        g["holders"] = max(g["holders"], int(e.get("holders", 1) or 1))
    groups = {k: g for k, g in groups.items() if g["value_bn"] >= min_value_bn}
    if not groups:
        return {"step": None, "rounds": [], "total_bn": 0.0, "rows": [], "more": 0}
    step = max(k[0] for k in groups)
    rows = sorted((g for k, g in groups.items() if k[0] == step), key=lambda g: (g["round"], -g["value_bn"]))
    for g in rows:
        top = sorted(g["assets"].items(), key=lambda kv: -kv[1])
        g["assets"] = top[0][0].replace("_", " ") + (f" +{len(top) - 1}" if len(top) > 1 else "")
    return {"step": step, "rounds": sorted({g["round"] for g in rows}), "total_bn": sum(g["value_bn"] for g in rows),
            "rows": rows[:limit], "more": max(len(rows) - limit, 0)}


CONSTRAINT_LABELS = {"margin_call": "margin call", "covenant_breach": "covenant (LTV)", "redemption": "redemptions",
                     "commitment": "capital call", "default": "default liquidation"}


def cascade_html(model, limit: int = 12) -> str:
    """The latest-cascade panel as an HTML table (rendered on the server, no extra assets)."""
    c = latest_cascade(model, limit)
    if c["step"] is None:
        return "<p class='dp-cascade-empty'>No forced sales yet.</p>"
    rounds = c["rounds"]
    where = (f"round {rounds[0]}" if len(rounds) == 1 else f"rounds {rounds[0]}-{rounds[-1]}"
             if rounds == list(range(rounds[0], rounds[-1] + 1)) else f"rounds {', '.join(map(str, rounds))}")
    head = (f"<p><b>Week {c['step']}</b>: ${c['total_bn']:,.1f}bn forced sales in {where}"
            + ("" if c["step"] == int(model.steps) else f" <i>(nothing forced in week {int(model.steps)})</i>")
            + "</p>")
    cells = []
    for g in c["rows"]:
        who = f"{g['holders']:,} retail accts" if g["kind"] == "retail" and g["holders"] > 1 else g["agent"]
        cells.append(
            "<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in (
                g["round"], who, CONSTRAINT_LABELS.get(g["constraint"], g["constraint"]),
                f"{g['value_bn']:,.2f}", g["assets"])) + "</tr>")
    more = f"<p><i>... and {c['more']} more</i></p>" if c["more"] else ""
    return (head + "<table class='dp-cascade-table'><thead><tr><th>Round</th><th>Who</th><th>Constraint</th>"
            "<th>$bn</th><th>What</th></tr></thead><tbody>" + "".join(cells) + "</tbody></table>" + more)


# ====================================================================== the network
KIND_COLORS = {
    "hyperscaler": "#4C78A8", "neocloud": "#F58518", "private_credit": "#54A24B", "sovereign": "#B279A2",
    "hedge_fund": "#9D755D", "ai_lab": "#FF9DA6", "retail": "#EECA3B", "market": "#BAB0AC",
}
KIND_LABELS = {
    "hyperscaler": "Hyperscalers", "neocloud": "Neoclouds", "private_credit": "Private credit",
    "sovereign": "Sovereign funds", "hedge_fund": "Hedge funds", "ai_lab": "AI labs", "retail": "Retail",
    "market": "Asset markets",
}
# cluster centres: money flows sovereigns -> funds -> neoclouds / labs -> providers; markets in the middle
ANCHORS = {
    "sovereign": (-1.15, 0.0), "hedge_fund": (-0.7, 0.85), "private_credit": (-0.7, -0.85),
    "retail": (0.05, 1.05), "hyperscaler": (0.75, 0.8), "ai_lab": (1.2, 0.0), "neocloud": (0.7, -0.85),
}
EDGE_STYLES = {  # kind: (colour, linestyle, alpha, min width, max width, z-order)
    "holding": ("#9a9a9a", "solid", 0.18, 0.2, 1.6, 1),
    "fund_share": ("#3b6ea5", "solid", 0.22, 0.25, 1.8, 2),
    "commitment": ("#7b3294", "dotted", 0.8, 0.6, 2.8, 3),
    "loan": ("#b2182b", "solid", 0.75, 0.5, 3.0, 3),
    "compute_contract": ("#1b7837", "solid", 0.6, 0.4, 2.2, 2),
}
EDGE_LABELS = {"holding": "holding (market)", "fund_share": "fund shares", "commitment": "commitment",
               "loan": "GPU loan", "compute_contract": "compute contract"}
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
_LAYOUTS: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()


def agent_assets(model) -> np.ndarray:
    """Total assets by row, retail's cash (kept in the population's arrays) included."""
    assets = np.asarray(model.total_assets(), dtype=float).copy()
    retail = getattr(model, "retail", None)
    if retail is not None and getattr(retail, "row", -1) >= 0 and hasattr(retail, "cash"):
        assets[retail.row] += float(np.sum(retail.cash))
    return assets


def network_layout(model) -> dict[str, Any]:
    """Fixed positions for every node of ``model.network``, computed once per model (cached):
    each agent type is a sunflower cluster around its anchor, biggest balance sheet in the middle;
    markets on a small ring in the centre. Also keeps the reference scales for sizes and widths."""
    cached = _LAYOUTS.get(model)
    if cached is not None:
        return cached
    assets = agent_assets(model)
    pos: dict[Any, tuple[float, float]] = {}
    by_kind: dict[str, list] = {}
    for a in model.holders:
        by_kind.setdefault(a.kind, []).append(a)
    anchors = dict(ANCHORS)
    for kind, agents in by_kind.items():
        if kind not in anchors:      # an agent type this page does not know yet: park it on the rim
            t = 2.5 + len(anchors) - len(ANCHORS)
            anchors[kind] = (1.3 * math.cos(t), 1.3 * math.sin(t))
        cx, cy = anchors[kind]
        agents = sorted(agents, key=lambda a: (-assets[a.row], a.unique_id))
        c = 0.062 if len(agents) > 8 else 0.09
        for i, a in enumerate(agents):
            r = c * math.sqrt(i + 0.5) if len(agents) > 1 else 0.0
            t = i * GOLDEN_ANGLE
            pos[a.unique_id] = (cx + r * math.cos(t), cy + r * math.sin(t))
    for k, asset in enumerate(ASSETS):
        t = math.pi / 2 - 2 * math.pi * k / len(ASSETS)
        pos[f"asset:{asset}"] = (0.36 * math.cos(t), 0.36 * math.sin(t))
    edge_ref: dict[str, float] = {}
    for _, _, d in model.network.edges(data=True):
        edge_ref[d["kind"]] = max(edge_ref.get(d["kind"], 0.0), float(d.get("value_bn", 0.0)))
    non_retail = [assets[a.row] for a in model.holders if a.kind != "retail"]
    layout = {"pos": pos, "anchors": anchors, "asset_ref": max(max(non_retail, default=1.0), 1e-9),
              "edge_ref": edge_ref}
    _LAYOUTS[model] = layout
    return layout


def stress_levels(model) -> dict[Any, float]:
    """Stress of every agent: 1.0 = at its binding limit. Hedge funds: margin required / equity;
    neoclouds: covenant LTV / max LTV; private credit: queued redemptions / the quarter's gate;
    retail: share of margin accounts called or closed; others: liabilities / assets."""
    b, p = model.book, model.prices
    assets = agent_assets(model)
    liab = np.asarray(b.total_liabilities(), dtype=float)
    generic = np.divide(liab, assets, out=np.where(liab > 0, 2.0, 0.0), where=assets > 1e-12)
    out = {a.unique_id: float(generic[a.row]) for a in model.holders}
    try:  # hedge funds: maintenance margin used
        from sim.constraints import maintenance_margins
        mm = maintenance_margins(model.market.margin, model.market.realised_vol(), model.market.vol)
        for f in model.hedge_funds:
            values = b.units[f.row] * p
            equity = values.sum() - max(b.external_debt[f.row] - b.cash[f.row], 0.0)
            out[f.unique_id] = float(values @ mm / equity) if equity > 1e-12 else 2.0
    except Exception:  # noqa: BLE001 - a readout, never worth crashing the page
        pass
    try:  # neoclouds: covenant headroom
        from agents.neocloud import haircut, loan_to_value
        if model.neoclouds:
            nc = model.cfg.neoclouds
            gpu = ASSETS.index("used_gpu")
            price = p[gpu]
            ltv = loan_to_value(b.gpu_loans.sum(axis=0), b.units[model.neoclouds.rows, gpu], price,
                                haircut(price, 1.0, nc.haircut_slope))
            for a, v in zip(model.neoclouds, ltv):
                out[a.unique_id] = float(min(v / nc.ltv_max, 10.0)) if np.isfinite(v) else 2.0
    except Exception:  # noqa: BLE001
        pass
    try:  # private credit: the redemption queue against the gate
        nav = model.fund_nav()
        gate = model.cfg.private_credit.gate_per_qtr
        for f in model.pc_funds:
            queued = sum(q[2] for q in f.redemption_queue)
            cap = gate * max(nav[f.row], 0.0)
            out[f.unique_id] = float(queued / cap) if cap > 1e-12 else (2.0 if queued > 0 else 0.0)
            if getattr(f, "gate_bound_this_quarter", False):
                out[f.unique_id] = max(out[f.unique_id], 1.0)
    except Exception:  # noqa: BLE001
        pass
    try:  # retail: margin accounts under a call or closed
        from sim.constraints import maintenance_margins
        r = model.retail
        if r.n:
            mm = maintenance_margins(model.market.margin, model.market.realised_vol(), model.market.vol)
            values = r.values(p)
            on_margin = r.debt > 0
            called = on_margin & (r.equity(p) < values @ mm)
            share = (called | r.closed).sum() / max(on_margin.sum(), 1)
            out[r.unique_id] = float(2.0 * share)   # half the margin accounts in trouble = at the limit
    except Exception:  # noqa: BLE001
        pass
    for a in model.holders:
        if a.defaulted:
            out[a.unique_id] = 2.0
    return {k: float(np.clip(v, 0.0, 2.0)) for k, v in out.items()}


STRESS_NEAR = 0.9     # outlined orange from here, red at 1 (the limit binds)


def _stress_colour(s: float) -> str:
    if s >= 1.0:
        return "#d7191c"
    if s >= STRESS_NEAR:
        return "#fdae61"
    return "#4d4d4d"


def _new_figure(figsize: tuple[float, float], dpi: int, fig: Figure | None = None) -> Figure:
    """A figure on an Agg canvas, or ``fig`` cleared for reuse: a reused canvas keeps its renderer
    and with it matplotlib's text-metrics cache, which makes redrawing every frame much cheaper."""
    if fig is not None:
        fig.clear()
        return fig
    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def network_figure(model, figsize: tuple[float, float] = (8.2, 6.4), dpi: int = 80,
                   fig: Figure | None = None) -> Figure:
    """The network of claims at the current step (fixed layout from :func:`network_layout`)."""
    layout = network_layout(model)
    pos, aref, eref = layout["pos"], layout["asset_ref"], layout["edge_ref"]
    g = model.network
    fig = _new_figure(figsize, dpi, fig)
    ax = fig.add_axes((0.0, 0.11, 1.0, 0.84))
    ax.set_axis_off()
    # edges, one LineCollection per claim type
    by_kind: dict[str, tuple[list, list]] = {}
    for u, v, d in g.edges(data=True):
        if u not in pos or v not in pos:
            continue
        segs, widths = by_kind.setdefault(d["kind"], ([], []))
        colour, style, alpha, w0, w1, z = EDGE_STYLES.get(d["kind"], ("#777777", "solid", 0.4, 0.3, 1.5, 1))
        ref = eref.get(d["kind"], 0.0) or 1.0
        segs.append((pos[u], pos[v]))
        widths.append(w0 + (w1 - w0) * math.sqrt(max(float(d.get("value_bn", 0.0)), 0.0) / ref))
    for kind, (segs, widths) in by_kind.items():
        colour, style, alpha, _, _, z = EDGE_STYLES.get(kind, ("#777777", "solid", 0.4, 0.3, 1.5, 1))
        ax.add_collection(LineCollection(segs, colors=colour, linewidths=widths, linestyles=style, alpha=alpha,
                                         zorder=z))
    # markets: grey squares with the asset name
    for k, asset in enumerate(ASSETS):
        x, y = pos[f"asset:{asset}"]
        ax.scatter([x], [y], s=170, marker="s", c=KIND_COLORS["market"], edgecolors="#555555", linewidths=0.8,
                   zorder=5)
        ax.text(x, y - 0.06, asset.replace("_", " "), ha="center", va="top", fontsize=6, color="#333333", zorder=6)
    # agents: colour by type, area by total assets, outline by stress, X when defaulted
    assets = agent_assets(model)
    stress = stress_levels(model)
    for kind in dict.fromkeys([*KIND_COLORS, *(a.kind for a in model.holders)]):
        agents = [a for a in model.holders if a.kind == kind]
        if not agents:
            continue
        xy = np.array([pos[a.unique_id] for a in agents])
        size = np.array([min(24.0 + 520.0 * math.sqrt(max(assets[a.row], 0.0) / aref), 900.0) for a in agents])
        fill = ["#d9d9d9" if a.defaulted else KIND_COLORS.get(kind, "#777777") for a in agents]
        edge = [_stress_colour(stress.get(a.unique_id, 0.0)) for a in agents]
        lw = [2.4 if stress.get(a.unique_id, 0.0) >= STRESS_NEAR else 0.6 for a in agents]
        ax.scatter(xy[:, 0], xy[:, 1], s=size, c=fill, edgecolors=edge, linewidths=lw, zorder=7)
        dead = np.array([a.defaulted for a in agents])
        if dead.any():
            ax.scatter(xy[dead, 0], xy[dead, 1], s=np.maximum(size[dead] * 0.6, 40), marker="x", c="#111111",
                       linewidths=1.8, zorder=8)
        cx, cy = layout["anchors"].get(kind, (0.0, 0.0))
        n_def = int(dead.sum())
        title = f"{KIND_LABELS.get(kind, kind)}" + (f" ({len(agents)})" if len(agents) > 1 else "")
        if n_def:
            title += f" - {n_def} down"
        top = cy + (0.34 if len(agents) > 8 else 0.2)
        ax.text(cx, top, title, ha="center", va="bottom", fontsize=8, fontweight="bold",
                color="#b2182b" if n_def else "#222222", zorder=9)
        if kind in ("hyperscaler", "ai_lab"):
            for a, (x, y) in zip(agents, xy):
                ax.text(x + 0.05, y, str(a.name)[:14], fontsize=6, va="center", zorder=9, color="#222222")
    ax.set_xlim(-1.45, 1.7)
    ax.set_ylim(-1.25, 1.35)
    kind_handles = [Line2D([], [], marker="s" if k == "market" else "o", ls="", markersize=7,
                           markerfacecolor=c, markeredgecolor="#555555", label=KIND_LABELS[k])
                    for k, c in KIND_COLORS.items() if k == "market" or any(a.kind == k for a in model.holders)]
    edge_handles = [Line2D([], [], color=s[0], ls=s[1], lw=1.6, alpha=min(1.0, s[2] + 0.3), label=EDGE_LABELS[k])
                    for k, s in EDGE_STYLES.items()]
    stress_handles = [Line2D([], [], marker="o", ls="", markersize=7, markerfacecolor="white", markeredgewidth=2,
                             markeredgecolor=c, label=lab)
                      for c, lab in (("#fdae61", "near limit (>=90%)"), ("#d7191c", "at / over limit"))]
    stress_handles.append(Line2D([], [], marker="x", ls="", markersize=7, color="#111111", markeredgewidth=2,
                                 label="defaulted"))
    fig.legend(handles=kind_handles + edge_handles + stress_handles, loc="lower center", ncol=6, fontsize=6.5,
               frameon=False, bbox_to_anchor=(0.5, 0.0), handletextpad=0.3, columnspacing=0.9)
    fig.suptitle(f"Network of claims - week {int(model.steps)}", fontsize=10, y=0.985)
    return fig


# ====================================================================== charts
PRICE_COLORS = dict(zip(ASSETS, ("#1f77b4", "#aec7e8", "#4C78A8", "#9467bd", "#8c564b", "#e377c2", "#F58518",
                                 "#d62728")))


def _chart(title: str, model, fig: Figure | None = None, figsize=(4.6, 2.7), dpi: int = 80) -> tuple[Figure, Any]:
    fig = _new_figure(figsize, dpi, fig)
    ax = fig.add_subplot(111)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=7)
    ax.set_xlim(0, max(int(model.horizon), int(model.steps), 1))
    ax.set_xlabel("week", fontsize=7)
    ax.grid(alpha=0.25)
    return fig, ax


def _finish(fig: Figure) -> Figure:
    # fixed margins (tight_layout costs a second draw on every frame)
    fig.subplots_adjust(left=0.13, right=0.87, top=0.89, bottom=0.17)
    return fig


def _bars(ax, x: np.ndarray, y: np.ndarray, **kwargs) -> None:
    """Bars of width 1 centred on ``x`` drawn as one filled step patch (much faster than ax.bar)."""
    if len(x) == 0:
        return
    edges = np.append(x - 0.5, x[-1] + 0.5)
    ax.stairs(np.nan_to_num(y), edges, fill=True, **kwargs)


def pool_figure(model, fig: Figure | None = None) -> Figure:
    """The dry-powder pool ($bn) against its starting level."""
    df = _frame(model)
    fig, ax = _chart("Dry-powder pool ($bn)", model, fig)
    x = df["step"].to_numpy()
    y = df["dry_powder_bn"].to_numpy(dtype=float)
    ax.fill_between(x, 0, y, color="#4C78A8", alpha=0.25)
    ax.plot(x, y, color="#4C78A8", lw=1.6)
    start = float(y[0]) if len(y) else 0.0
    ax.axhline(start, color="#555555", ls="--", lw=0.8)
    ax.text(0.01, 0.97, f"now \\${y[-1]:,.0f}bn (start \\${start:,.0f}bn)", transform=ax.transAxes,
            fontsize=7, va="top")
    ax.set_ylim(0, max(float(np.nanmax(y)) * 1.1 if len(y) else 1.0, 1.0))
    return _finish(fig)


def rates_figure(model, fig: Figure | None = None) -> Figure:
    """The 10-year Treasury yield (%) and the IG spread (bp, right axis)."""
    df = _frame(model)
    fig, ax = _chart("Treasury 10y (%) and IG spread (bp)", model, fig)
    x = df["step"].to_numpy()
    ax.plot(x, df["ust10y_pct"].to_numpy(dtype=float), color="#1f77b4", lw=1.6, label="UST 10y %")
    ax.set_ylabel("%", fontsize=7, color="#1f77b4")
    ax2 = ax.twinx()
    ax2.plot(x, df["ig_spread_bp"].to_numpy(dtype=float), color="#d62728", lw=1.4, label="IG spread bp")
    ax2.set_ylabel("bp", fontsize=7, color="#d62728")
    ax2.tick_params(labelsize=7)
    lines = ax.get_lines() + ax2.get_lines()
    ax.legend(lines, [l.get_label() for l in lines], fontsize=6.5, loc="upper left", frameon=False)
    return _finish(fig)


def prices_figure(model, fig: Figure | None = None) -> Figure:
    """Asset price indices (1 at t = 0)."""
    df = _frame(model)
    fig, ax = _chart("Asset prices (index, start = 1)", model, fig)
    x = df["step"].to_numpy()
    for a in ASSETS:
        col = f"price_{a}"
        if col in df:
            ax.plot(x, df[col].to_numpy(dtype=float), lw=1.2, color=PRICE_COLORS.get(a), label=a.replace("_", " "))
    ax.axhline(1.0, color="#555555", lw=0.6)
    ax.legend(fontsize=5.5, ncol=4, loc="upper left", framealpha=0.7, handlelength=1.2, columnspacing=0.8)
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.25 * (hi - lo))      # room for the legend above the lines
    return _finish(fig)


def defaults_figure(model, fig: Figure | None = None) -> Figure:
    """Defaults (cumulative count) and fire-sale volume per week ($bn, bars, right axis)."""
    df = _frame(model)
    fig, ax = _chart("Defaults and fire sales", model, fig)
    x = df["step"].to_numpy()
    ax2 = ax.twinx()
    _bars(ax2, x, df["fire_sales_bn"].to_numpy(dtype=float), color="#F58518", alpha=0.6)
    ax2.set_ylabel("$bn / week", fontsize=7, color="#F58518")
    ax2.tick_params(labelsize=7)
    ax2.set_ylim(bottom=0)
    ax.step(x, df["defaults_total"].to_numpy(dtype=float), where="post", color="#b2182b", lw=1.8,
            label="defaults (cum.)")
    ax.set_ylabel("defaults", fontsize=7, color="#b2182b")
    ax.set_ylim(bottom=0, top=max(float(df["defaults_total"].max()) * 1.15, 1.0))
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    handles = [*ax.get_lines(), Patch(facecolor="#F58518", alpha=0.6, label="fire sales $bn/wk")]
    ax.legend(handles=handles, fontsize=6.5, loc="upper left", frameon=False)
    return _finish(fig)


def rounds_figure(model, fig: Figure | None = None) -> Figure:
    """Cascade rounds per step."""
    df = _frame(model)
    fig, ax = _chart("Cascade rounds per week", model, fig)
    x = df["step"].to_numpy()
    y = df["cascade_rounds"].to_numpy(dtype=float)
    _bars(ax, x, y, color="#7b3294", alpha=0.75)
    cap = getattr(getattr(model.cfg, "simulation", None), "max_cascade_rounds", None)
    if cap:
        ax.axhline(cap, color="#555555", ls="--", lw=0.8)
        ax.text(0.01, 0.97, f"cap {cap} rounds", transform=ax.transAxes, fontsize=7, va="top")
        ax.set_ylim(0, cap * 1.15)
    return _finish(fig)


TRINITY = (("trinity_compute_race", "Compute race\n(capex realised / plan)"),
           ("trinity_bond_stability", "Bond-market\nstability"),
           ("trinity_independence", "Central-bank\nindependence"))


def trinity_figure(model, fig: Figure | None = None) -> Figure:
    """The impossible trinity now: three bars in [0, 1] (compute race can exceed 1)."""
    m = model.metrics
    fig = _new_figure((4.6, 2.7), 80, fig)
    ax = fig.add_subplot(111)
    ax.set_title("Impossible trinity (1 = fully kept)", fontsize=9)
    names = [label for _, label in TRINITY]
    vals = [float(m.get(k, float("nan"))) for k, _ in TRINITY]
    colours = ["#1a9641" if v >= 0.9 else "#fdae61" if v >= 0.5 else "#d7191c" for v in vals]
    ypos = np.arange(len(vals))[::-1]
    ax.barh(ypos, [min(v, 1.5) for v in vals], color=colours, height=0.6)
    for y, v in zip(ypos, vals):
        ax.text(min(v, 1.5) + 0.02, y, f"{v:.2f}", va="center", fontsize=8)
    ax.set_yticks(ypos, names, fontsize=7)
    ax.set_xlim(0, 1.35)
    ax.axvline(1.0, color="#555555", ls="--", lw=0.8)
    ax.tick_params(labelsize=7)
    fig.subplots_adjust(left=0.3, right=0.96, top=0.89, bottom=0.12)
    return fig


CHARTS: dict[str, Callable[[Any], Figure]] = {
    "pool": pool_figure, "rates": rates_figure, "prices": prices_figure,
    "defaults": defaults_figure, "rounds": rounds_figure, "trinity": trinity_figure,
}


def render_png(fig: Figure, colors: int = 256) -> bytes:
    """PNG bytes of a figure, quantised to a ``colors`` palette: the network's many translucent
    edges make a full-colour PNG ~4x bigger, and every frame goes down the websocket."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    buf = io.BytesIO()
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        fig.savefig(buf, format="png")
        return buf.getvalue()
    image = Image.fromarray(np.ascontiguousarray(rgba[..., :3]))
    if colors:
        image = image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE)
    image.save(buf, format="png")
    return buf.getvalue()


def render_all(model, figures: dict[str, Figure] | None = None) -> dict[str, bytes]:
    """PNG bytes of the network (key ``network``) and of every chart in :data:`CHARTS`.
    ``figures``: a dict of figures to redraw into (filled on first use), e.g. one per session."""
    figures = {} if figures is None else figures
    out = {}
    for name, fn in (("network", network_figure), *CHARTS.items()):
        figures[name] = fn(model, fig=figures.get(name))
        out[name] = render_png(figures[name])
    return out


# ====================================================================== the session
class VizSession:
    """What the page drives: pending control values, the model built from the applied ones, and
    step / reset. Thread-safe (the Play loop steps from a worker thread)."""

    def __init__(self, config: "str | Path | None" = None):
        path = None if config is None else resolve_config_arg(str(config))
        self.choices = scenario_choices(path)
        self.lock = threading.RLock()
        self.pending = default_params(scenario_name_for(path, self.choices), self.choices)
        self.applied = dict(self.pending)
        self.model = make_model(choices=self.choices, **self.applied)
        self.generation = 0          # bumped by every reset: the page re-renders on (generation, step)
        self._figures: dict[str, Figure] = {}
        self.frame_shown = threading.Event()     # set each time the page has rendered a frame

    # controls
    def set_param(self, key: str, value: Any) -> None:
        if key not in ("scenario", "seed") and key not in DOTTED:
            raise KeyError(key)
        self.pending = {**self.pending, key: value}

    def set_scenario(self, name: str) -> None:
        """Picking a scenario loads its seed and headline values into the controls (apply with Reset)."""
        self.pending = default_params(name, self.choices)

    @property
    def dirty(self) -> bool:
        return self.pending != self.applied

    @property
    def finished(self) -> bool:
        return int(self.model.steps) >= int(self.model.horizon)

    def step(self, n: int = 1) -> int:
        with self.lock:
            for _ in range(n):
                self.model.step()
            log.debug("stepped to week %d", self.model.steps)
            return int(self.model.steps)

    def reset(self) -> None:
        """A new model from the pending control values."""
        params = dict(self.pending)
        model = make_model(choices=self.choices, **params)
        with self.lock:
            self.model, self.applied = model, params
            self.generation += 1

    def render(self) -> dict[str, bytes]:
        with self.lock:
            started = time.perf_counter()
            out = render_all(self.model, self._figures)
            log.debug("rendered week %d in %.2fs", self.model.steps, time.perf_counter() - started)
            return out


# ====================================================================== the page
CSS = """
.dp-readouts { flex-wrap: wrap; }
.dp-readout { background: #f3f5f8; border-radius: 6px; padding: 2px 10px; font-size: 14px; }
.dp-step-counter { font-weight: 700; font-size: 16px; }
.dp-title { font-size: 20px; font-weight: 600; color: #1a3d6d; }
.dp-app { padding: 4px 8px; }
.dp-cascade-body { max-height: 440px; overflow-y: auto; }
.dp-cascade-table { border-collapse: collapse; font-size: 12px; width: 100%; }
.dp-cascade-table th, .dp-cascade-table td { border-bottom: 1px solid #ddd; padding: 2px 5px; text-align: left;
  white-space: nowrap; }
.dp-cascade-table td:last-child { white-space: normal; }
.dp-cascade-table td:nth-child(4) { text-align: right; }
.dp-chart img, img.dp-chart { max-width: 100%; height: auto; }
.dp-network img, img.dp-network { max-width: 100%; height: auto; }
"""

if solara is not None:

    def _initial_config() -> str | None:
        return os.environ.get(CONFIG_ENV) or None

    @solara.component
    def Controls(session: VizSession, pending: dict, applied: dict, set_pending: Callable[[dict], None]) -> None:
        """Scenario picker, headline sliders, backstop switch, seed (apply with Reset). ``applied``
        (the values of the model on show) is a prop so that a Reset re-renders this component."""

        def on_scenario(name):
            session.set_scenario(name)
            set_pending(dict(session.pending))

        def setter(key):
            def on_value(value):
                session.set_param(key, value)
                set_pending(dict(session.pending))
            return on_value

        solara.Select(label="Scenario", values=list(session.choices), value=pending["scenario"],
                      on_value=on_scenario, classes=["dp-scenario"])
        for h in HEADLINE:
            lo, hi = h.bounds(pending[h.key])
            label = f"{h.label}: {h.format(pending[h.key])}"
            with solara.Div(classes=["dp-slider", f"dp-slider-{h.key}"]):
                if h.is_int:
                    solara.SliderInt(label, value=int(pending[h.key]), min=int(lo), max=int(hi), step=int(h.step),
                                     on_value=setter(h.key), thumb_label=False)
                else:
                    solara.SliderFloat(label, value=float(pending[h.key]), min=float(lo), max=float(hi),
                                       step=h.step, on_value=setter(h.key), thumb_label=False)
        for key in SWITCHES:
            solara.Switch(label="Central-bank backstop", value=bool(pending[key]), on_value=setter(key),
                          classes=["dp-switch-backstop"])
        solara.InputInt("Seed", value=int(pending["seed"]), on_value=setter("seed"), continuous_update=False,
                        classes=["dp-seed"])
        if pending != applied:
            solara.Info("Changed: press Reset to apply.", dense=True, classes=["dp-pending"])

    @solara.component
    def Figures(session: VizSession, model, generation: int, step: int) -> None:
        """The network, the latest cascade and the charts for ``model`` at ``step``."""
        images = solara.use_memo(session.render, [generation, step])
        cascade = solara.use_memo(lambda: cascade_html(model), [generation, step])
        texts = readouts(model)
        session.frame_shown.set()
        with solara.Row(classes=["dp-readouts"], gap="8px"):
            for key, text in texts.items():
                solara.Text(text, classes=["dp-readout", f"dp-readout-{key}"])
        with solara.Columns([3, 2]):
            with solara.Card("Network of claims", margin=0):
                solara.Image(images["network"], classes=["dp-figure", "dp-network"])
            with solara.Card("Latest cascade: forced sales", margin=0, classes=["dp-cascade"]):
                solara.HTML(tag="div", unsafe_innerHTML=cascade, classes=["dp-cascade-body"])
        with solara.GridFixed(columns=3):
            for name in CHARTS:
                solara.Image(images[name], classes=["dp-figure", "dp-chart", f"dp-chart-{name}"])

    @solara.component
    def Dashboard(config: "str | Path | None" = None) -> None:
        """The whole app for the model of ``config`` (default: $DRYPOWDER_VIZ_CONFIG or the baseline).

        The controls sit in a plain left column, not in ``solara.Sidebar``: the sidebar is a
        portal that lags one render behind (the step counter would show the previous week)."""
        session = solara.use_memo(lambda: VizSession(config if config is not None else _initial_config()), [])
        pending, set_pending = solara.use_state(dict(session.pending))
        # (model, generation, step) in one state: a reset or a step re-renders exactly once
        view, set_view = solara.use_state((session.model, session.generation, int(session.model.steps)))
        model, generation, tick = view
        playing = solara.use_reactive(False)
        per_frame = solara.use_reactive(1)
        error = solara.use_reactive(None)

        def do_step():
            try:
                left = int(session.model.horizon) - int(session.model.steps)
                step = session.step(max(min(int(per_frame.value), left), 1))
                set_view((session.model, session.generation, step))
            except Exception as exc:  # noqa: BLE001 - shown on the page
                error.set(f"step failed: {exc}")
                playing.set(False)

        def play_loop(cancel: threading.Event):
            log.debug("play loop starts (playing=%s)", playing.value)
            while playing.value and not cancel.is_set():
                if session.finished:
                    playing.set(False)
                    break
                session.frame_shown.clear()
                do_step()
                # the new state re-renders on the kernel's worker thread, which also handles the
                # clicks: wait for that frame, then leave the worker idle for a moment, or the
                # next frame queues up behind this one and Pause is never heard
                session.frame_shown.wait(FRAME_TIMEOUT_S)
                cancel.wait(PLAY_GAP_S)
            log.debug("play loop ends (playing=%s, cancelled=%s)", playing.value, cancel.is_set())

        solara.use_thread(play_loop, dependencies=[playing.value], intrusive_cancel=False)

        def toggle_play():
            log.debug("play/pause clicked while %s", "playing" if playing.value else "paused")
            playing.set(not playing.value)

        def do_reset():
            playing.set(False)
            try:
                session.reset()
            except Exception as exc:  # noqa: BLE001
                error.set(f"reset failed: {exc}")
                return
            error.set(None)
            set_view((session.model, session.generation, int(session.model.steps)))

        def panels():
            with solara.Card("Run", margin=0, classes=["dp-run"]):
                solara.Text(f"Week {tick} / {int(model.horizon)}", classes=["dp-step-counter"])
                with solara.Row(gap="6px"):
                    solara.Button("Step", on_click=do_step, color="primary",
                                  disabled=playing.value or session.finished, classes=["dp-step"])
                    solara.Button("Pause" if playing.value else "Play", color="primary",
                                  on_click=toggle_play,
                                  disabled=session.finished and not playing.value, classes=["dp-play"])
                    solara.Button("Reset", on_click=do_reset, color="secondary", classes=["dp-reset"])
                solara.SliderInt(f"Weeks per Step / Play frame: {per_frame.value}", value=per_frame, min=1, max=13,
                                 thumb_label=False)
                if error.value:
                    solara.Error(error.value)
                solara.Text(f"Scenario: {session.applied['scenario']}, seed {session.applied['seed']}",
                            classes=["dp-applied"])
            with solara.Card("Scenario and parameters", margin=0, classes=["dp-controls"]):
                Controls(session, pending, session.applied, set_pending)

        solara.Style(CSS)
        solara.Title("drypowder - live")
        with solara.Column(classes=["dp-app"], gap="8px"):
            solara.Text("drypowder: the AI-capex liquidity cycle, live", classes=["dp-title"])
            with solara.Columns([1, 3], gutters_dense=True):
                with solara.Column(gap="8px"):
                    panels()
                with solara.Column(gap="8px"):
                    Figures(session, model, generation, tick)

    @solara.component
    def Page() -> None:
        """The page ``solara run sim.viz`` serves."""
        Dashboard()

    page = Page


# ====================================================================== the server
def solara_executable() -> Path:
    """The ``solara`` script next to the running interpreter (the venv's)."""
    exe = Path(sys.executable).parent / ("solara.exe" if os.name == "nt" else "solara")
    return exe


def server_command(port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> list[str]:
    return [str(solara_executable()), "run", APP_MODULE, "--host", host, "--port", str(int(port)),
            "--production", "--no-open"]


def server_env(config_path: "str | Path | None" = None) -> dict[str, str]:
    env = dict(os.environ)
    env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] = "False"
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if config_path is not None:
        env[CONFIG_ENV] = str(Path(config_path).resolve())
    else:
        env.pop(CONFIG_ENV, None)
    return env


def serve(config_path: "str | Path | None" = None, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST) -> int:
    """Serve the live page at http://host:port (``solara run sim.viz``) and block until it stops.

    ``config_path``: a YAML path or a scenario name (default: the baseline); it is validated
    first. Returns the exit code (0 after Ctrl-C), 2 for a bad config or a missing viz extra."""
    if solara is None:
        print("drypowder viz: solara is not installed; install the viz extra: pip install 'drypowder[viz]'",
              file=sys.stderr)
        return 2
    path: Path | None = None
    if config_path is not None:
        try:
            path = resolve_config_arg(str(config_path))
            load_config(path)
        except Exception as exc:  # noqa: BLE001 - a clear message instead of a traceback
            print(f"drypowder viz: {exc}", file=sys.stderr)
            return 2
    exe = solara_executable()
    if not exe.exists():
        print(f"drypowder viz: {exe} not found; install the viz extra: pip install 'drypowder[viz]'", file=sys.stderr)
        return 2
    cmd = server_command(port, host)
    print(f"drypowder viz: serving {path or BASELINE_PATH} at http://{host}:{port} (Ctrl-C to stop)", flush=True)
    proc = subprocess.Popen(cmd, env=server_env(path))
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.viz", description="Serve the live drypowder page.")
    parser.add_argument("config", nargs="?", default=None, help="YAML config or scenario name (default: baseline)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"interface (default {DEFAULT_HOST})")
    args = parser.parse_args(argv)
    return serve(args.config, args.port, args.host)


# ``solara run sim/viz.py`` executes this file as __main__ too: only serve when run directly
if __name__ == "__main__" and Path(sys.argv[0]).resolve() == Path(__file__).resolve():
    sys.exit(main())
