"""The network of claims as the page draws it: a fixed layout sent once per model, a small state
per week (node sizes, colours, outlines, edge widths) and, for the cascade replay, what moved in
each round of one week's cascade: who sold under which constraint, along which claims the loss
travelled, and how prices moved.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ASSETS
from sim.viz.headroom import USED_CAP

ASPECT = 0.66                       # the network's drawing box, height / width (positions are in [0, 1])
KIND_COLORS = {
    "hyperscaler": "#4C78A8", "neocloud": "#F58518", "private_credit": "#54A24B", "sovereign": "#B279A2",
    "hedge_fund": "#9D755D", "ai_lab": "#FF9DA6", "retail": "#EECA3B", "market": "#BAB0AC",
}
KIND_LABELS = {
    "hyperscaler": "Hyperscalers", "neocloud": "Neoclouds", "private_credit": "Private credit",
    "sovereign": "Sovereign funds", "hedge_fund": "Hedge funds", "ai_lab": "AI labs", "retail": "Retail",
    "market": "Asset markets",
}
# cluster centres in [-1.5, 1.7] x [-1.25, 1.35]: money flows sovereigns -> funds -> neoclouds / labs ->
# providers; markets in the middle
ANCHORS = {
    "sovereign": (-1.15, 0.0), "hedge_fund": (-0.7, 0.8), "private_credit": (-0.7, -0.8),
    "retail": (0.05, 1.0), "hyperscaler": (0.75, 0.8), "ai_lab": (1.2, 0.0), "neocloud": (0.7, -0.8),
}
EDGE_STYLES = {  # kind: colour, dash, opacity, min and max width (px)
    "holding": {"color": "#9a9a9a", "dash": "", "alpha": 0.22, "w0": 0.3, "w1": 1.8},
    "fund_share": {"color": "#3b6ea5", "dash": "", "alpha": 0.28, "w0": 0.35, "w1": 2.0},
    "commitment": {"color": "#7b3294", "dash": "2 2", "alpha": 0.8, "w0": 0.7, "w1": 3.0},
    "loan": {"color": "#b2182b", "dash": "", "alpha": 0.75, "w0": 0.6, "w1": 3.2},
    "compute_contract": {"color": "#1b7837", "dash": "", "alpha": 0.6, "w0": 0.5, "w1": 2.4},
}
OTHER_EDGE = {"color": "#777777", "dash": "", "alpha": 0.4, "w0": 0.3, "w1": 1.5}
EDGE_LABELS = {"holding": "holding (market)", "fund_share": "fund shares", "commitment": "commitment",
               "loan": "GPU loan", "compute_contract": "compute contract"}
CONSTRAINT_COLORS = {"margin_call": "#d7191c", "covenant_breach": "#7b3294", "redemption": "#2c7bb6",
                     "commitment": "#1a9641", "default": "#111111"}
CONSTRAINT_LABELS = {"margin_call": "margin call", "covenant_breach": "covenant (LTV)", "redemption": "redemptions",
                     "commitment": "capital call", "default": "default"}
FORCED_CONSTRAINTS = tuple(CONSTRAINT_COLORS)
STRESS_NEAR = 0.9       # outlined orange from here, red at 1 (the limit binds)
GOLDEN_ANGLE = math.pi * (3.0 - math.sqrt(5.0))
X_RANGE, Y_RANGE = (-1.5, 1.7), (-1.2, 1.3)


def _to_box(x: float, y: float) -> tuple[float, float]:
    return (round((x - X_RANGE[0]) / (X_RANGE[1] - X_RANGE[0]), 4),
            round((Y_RANGE[1] - y) / (Y_RANGE[1] - Y_RANGE[0]), 4))


def node_positions(model) -> dict[Any, tuple[float, float]]:
    """Fixed positions (in the unit drawing box, y down) of every holder and market: each agent type a sunflower
    cluster around its anchor, biggest balance sheet in the middle; markets on a ring in the centre."""
    assets = np.asarray(model.history.at(0).assets) if hasattr(model, "history") else model.total_assets()
    by_kind: dict[str, list] = {}
    for a in model.holders:
        by_kind.setdefault(a.kind, []).append(a)
    pos: dict[Any, tuple[float, float]] = {}
    for n, (kind, agents) in enumerate(by_kind.items()):
        cx, cy = ANCHORS.get(kind, (1.3 * math.cos(2.5 + n), 1.3 * math.sin(2.5 + n)))
        agents = sorted(agents, key=lambda a: (-assets[a.row], a.unique_id))
        c = 0.062 if len(agents) > 8 else 0.09
        for i, a in enumerate(agents):
            r = c * math.sqrt(i + 0.5) if len(agents) > 1 else 0.0
            pos[a.unique_id] = _to_box(cx + r * math.cos(i * GOLDEN_ANGLE), cy + r * math.sin(i * GOLDEN_ANGLE))
    for k, asset in enumerate(ASSETS):
        t = math.pi / 2 - 2 * math.pi * k / len(ASSETS)
        pos[f"asset:{asset}"] = _to_box(0.38 * math.cos(t), 0.36 * math.sin(t))
    return pos


def network_layout(model) -> dict[str, Any]:
    """What the page's network draws once per model (and again when a new claim appears): nodes,
    markets, cluster titles, edges as (from, to, kind) in :class:`EdgeIndex` order, styles, legend."""
    pos = node_positions(model)
    node_index = {a.unique_id: i for i, a in enumerate(model.holders)}
    n = len(model.holders)
    market_index = {f"asset:{a}": n + k for k, a in enumerate(ASSETS)}
    index = {**node_index, **market_index}
    nodes = [{"id": int(a.unique_id), "x": pos[a.unique_id][0], "y": pos[a.unique_id][1], "kind": a.kind,
              "name": f"{a.name} ({KIND_LABELS.get(a.kind, a.kind)})",
              "label": str(a.name)[:12] if a.kind in ("hyperscaler", "ai_lab") else ""} for a in model.holders]
    markets = [{"asset": a, "x": pos[f"asset:{a}"][0], "y": pos[f"asset:{a}"][1], "label": a.replace("_", " ")}
               for a in ASSETS]
    edges = [[index.get(u, -1), index.get(v, -1), kind] for u, v, kind in model.history.edges.keys]
    return {"aspect": ASPECT, "nodes": nodes, "markets": markets, "edges": edges, "kinds": _cluster_titles(model, pos),
            "edge_styles": {**{k: dict(s) for k, s in EDGE_STYLES.items()}, "other": OTHER_EDGE},
            "legend": legend(model)}


def _cluster_titles(model, pos) -> list[dict[str, Any]]:
    out = []
    kinds: dict[str, list] = {}
    for a in model.holders:
        kinds.setdefault(a.kind, []).append(a)
    for kind, agents in kinds.items():
        ys = [pos[a.unique_id][1] for a in agents]
        xs = [pos[a.unique_id][0] for a in agents]
        label = KIND_LABELS.get(kind, kind) + (f" ({len(agents)})" if len(agents) > 1 else "")
        out.append({"kind": kind, "label": label, "x": round(sum(xs) / len(xs), 4), "y": round(min(ys), 4)})
    return out


def legend(model) -> list[dict[str, Any]]:
    kinds = {a.kind for a in model.holders}
    items = [{"shape": "dot", "color": c, "label": KIND_LABELS[k]} for k, c in KIND_COLORS.items()
             if k in kinds]
    items.append({"shape": "square", "color": KIND_COLORS["market"], "label": KIND_LABELS["market"]})
    items += [{"shape": "line", "color": s["color"], "dash": s["dash"], "label": EDGE_LABELS[k]}
              for k, s in EDGE_STYLES.items()]
    items += [{"shape": "dot", "color": "#fff", "stroke": "#fdae61", "sw": 2.5, "label": "near limit (>=90%)"},
              {"shape": "dot", "color": "#fff", "stroke": "#d7191c", "sw": 2.5, "label": "at / over limit"},
              {"shape": "dot", "color": "#d9d9d9", "label": "defaulted (x)"}]
    return items


def _stress_colour(s: float) -> str:
    if s >= 1.0:
        return "#d7191c"
    if s >= STRESS_NEAR:
        return "#fdae61"
    return "#4d4d4d"


def edge_reference(model) -> np.ndarray:
    """Per edge of the index, the width reference: the largest value of its kind at week 0 (so
    widths compare across weeks); kinds absent at week 0 use their largest value at any week run."""
    keys = model.history.edges.keys
    ref: dict[str, float] = {}
    for week in (model.history.weeks[:1] or []):
        for i, v in zip(week.edge_ids.tolist(), week.edge_values.tolist()):
            kind = keys[i][2]
            ref[kind] = max(ref.get(kind, 0.0), v)
    for kind in {k[2] for k in keys} - set(ref):
        ref[kind] = max((v for w in model.history.weeks for i, v in zip(w.edge_ids.tolist(), w.edge_values.tolist())
                         if keys[i][2] == kind), default=1.0)
    return np.array([ref.get(k[2], 1.0) or 1.0 for k in keys])


def network_state(model, week: int, edge_ref: np.ndarray) -> dict[str, Any]:
    """What changes from week to week: radius, fill, outline per holder; width per edge."""
    st = model.history.at(week)
    keys = model.history.edges.keys
    non_retail = [st.assets[a.row] for a in model.holders if a.kind != "retail"]
    aref = max(max(non_retail, default=1.0), 1e-9)
    r, fill, stroke, sw = [], [], [], []
    for a in model.holders:
        size = math.sqrt(max(st.assets[a.row], 0.0) / aref)
        r.append(round(min(3.0 + 15.0 * size, 20.0), 1))
        dead = bool(st.defaulted[a.row])
        fill.append("#d9d9d9" if dead else KIND_COLORS.get(a.kind, "#777777"))
        s = USED_CAP if dead else float(st.stress[a.row])
        stroke.append(_stress_colour(s))
        sw.append(2.6 if s >= STRESS_NEAR else 0.6)
    values = st.edge_array(len(keys))
    widths = []
    for i, (key, v) in enumerate(zip(keys, values.tolist())):
        style = EDGE_STYLES.get(key[2], OTHER_EDGE)
        widths.append(0.0 if v <= 0 else round(style["w0"] + (style["w1"] - style["w0"])
                                               * math.sqrt(min(v / edge_ref[i], 4.0)), 2))
    n_dead = int(st.defaulted.sum())
    title = f"Network of claims, week {min(int(week), len(model.history.weeks) - 1)}" + \
        (f" · {n_dead} defaulted" if n_dead else "")
    return {"r": r, "fill": fill, "stroke": stroke, "sw": sw, "dead": [bool(x) for x in st.defaulted],
            "edge_w": widths, "title": title}


# ---------------------------------------------------------------------- the cascade, round by round
def forced_events(events: pd.DataFrame) -> pd.DataFrame:
    """The forced sales and defaults among ``events`` (the model's ``forced`` column when it has
    one, else the forced constraints)."""
    if events.empty:
        return events
    if "forced" in events.columns:
        mask = events["forced"].astype(bool) | (events["constraint"] == "default")
    else:
        mask = events["constraint"].isin(FORCED_CONSTRAINTS)
    return events[mask]


def _claims_carrying(model, agent_id: Any, constraint: str, assets_sold: list[str]) -> list[tuple[Any, Any, str]]:
    """The claims along which a forced sale's loss travelled: the claim that forced it (loan for a
    covenant, fund shares for redemptions, commitments for a capital call, every claim on a
    defaulted agent) and the holdings through which it sold into markets."""
    keys = [(agent_id, f"asset:{a}", "holding") for a in assets_sold if a]
    known = model.history.edges.keys
    if constraint == "covenant_breach":
        keys += [k for k in known if k[1] == agent_id and k[2] == "loan"]
    elif constraint == "redemption":
        keys += [k for k in known if k[1] == agent_id and k[2] == "fund_share"]
    elif constraint == "commitment":
        keys += [k for k in known if k[0] == agent_id and k[2] == "commitment"]
    elif constraint == "default":
        keys += [k for k in known if k[1] == agent_id and k[2] != "holding"]
    return keys


def cascade_rounds(model, week: int, events: pd.DataFrame | None = None) -> dict[str, Any]:
    """Week ``week``'s cascade for the replay: per round the sellers (node index, constraint colour),
    the lit edges (edge index), the price move per asset, dollars sold and a line of text."""
    ev = model.events_frame() if events is None else events
    ev = forced_events(ev[ev["step"] == int(week)])
    index = {a.unique_id: i for i, a in enumerate(model.holders)}
    names = {a.unique_id: a.name for a in model.holders}
    rounds = []
    for r, g in ev.groupby("round", sort=True):
        sellers, edges, who = [], set(), []
        for agent_id, ga in g.groupby("agent_id", sort=False):
            if agent_id not in index:
                continue
            by_c = ga.groupby("constraint")["value_bn"].sum()
            constraint = "default" if "default" in by_c.index else str(by_c.idxmax())
            sellers.append([index[agent_id], CONSTRAINT_COLORS.get(constraint, "#111111"), constraint])
            sold = [a for a in ga["asset"].unique().tolist() if a and a != "cash"]
            for key in _claims_carrying(model, agent_id, constraint, sold):
                i = model.history.edges.ids.get(key)
                if i is not None:
                    edges.add(i)
            who.append((float(ga["value_bn"].sum()), names.get(agent_id, str(agent_id)), constraint))
        market = g[g["asset"].isin(ASSETS)]
        moves = {str(a): float(v) for a, v in market.groupby("asset")["price_return"].first().items()
                 if abs(v) >= 5e-4}
        total = float(g["value_bn"].sum())
        rounds.append({"round": int(r), "sellers": sellers, "edges": sorted(edges), "moves": moves,
                       "value_bn": total, "text": _round_text(int(r), total, who, moves)})
    return {"week": int(week), "rounds": rounds, "interval_ms": 900}


def _round_text(r: int, total: float, who: list[tuple[float, str, str]], moves: dict[str, float]) -> str:
    who = sorted(who, reverse=True)
    sellers = ", ".join(f"{name} ({CONSTRAINT_LABELS.get(c, c)}, ${v:,.2f}bn)" if c != "default"
                        else f"{name} defaults" for v, name, c in who[:4])
    more = f" and {len(who) - 4} more" if len(who) > 4 else ""
    prices = ", ".join(f"{a.replace('_', ' ')} {100 * m:+.1f}%" for a, m in
                       sorted(moves.items(), key=lambda kv: kv[1])[:4])
    return f"Round {r}: ${total:,.2f}bn forced: {sellers}{more}" + (f". Prices: {prices}" if prices else "")
