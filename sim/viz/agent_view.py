"""One agent as the page's inspector shows it: its balance sheet now, its headroom against each
constraint that can force it to sell, and what it sold in which week's cascade and round."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

from sim.config import ASSETS
from sim.viz.headroom import USED_CAP, constraint_headroom
from sim.viz.network_view import CONSTRAINT_LABELS, KIND_LABELS, forced_events

MIN_SHOWN_BN = 0.005


def _row_value(fn_name: str, book, row: int) -> float:
    fn = getattr(book, fn_name, None)
    return float(np.asarray(fn())[row]) if callable(fn) else 0.0


def balance_sheet(model, agent) -> dict[str, list[tuple[str, float]]]:
    """Assets and liabilities of ``agent`` now, $bn, largest first (items under $5m left out)."""
    b, p, row = model.book, model.prices, agent.row
    cash = float(np.sum(model.retail.cash)) if agent.kind == "retail" else float(b.cash[row])
    assets = [("cash", cash)]
    assets += [(a.replace("_", " "), float(b.units[row, k] * p[k])) for k, a in enumerate(ASSETS)]
    fund_nav = model.fund_nav()
    per_unit = b.nav_per_unit(np.maximum(fund_nav, 0.0)) if hasattr(b, "nav_per_unit") else None
    if per_unit is not None and b.fund_units.size:
        for f in getattr(model, "funds", ()):
            value = float(b.fund_units[row, f.row] * per_unit[f.row])
            assets.append((f"shares of {f.name}", value))
    assets += [("GPU loans receivable", _row_value("loans_receivable", b, row)),
               ("other assets (book)", float(b.other_assets[row]))]
    liabilities = [("debt (bonds, margin, facilities)", float(b.external_debt[row])),
                   ("GPU loans payable", _row_value("loans_payable", b, row))]

    def keep(items):
        return sorted(((k, v) for k, v in items if abs(v) >= MIN_SHOWN_BN), key=lambda kv: -abs(kv[1]))
    return {"assets": keep(assets), "liabilities": keep(liabilities)}


def sales_of(model, agent_id: Any, events: pd.DataFrame | None = None, limit: int = 12) -> dict[str, Any]:
    """What ``agent_id`` sold under constraint: one row per (week, round, constraint), latest first."""
    ev = model.events_frame() if events is None else events
    ev = forced_events(ev[ev["agent_id"] == agent_id])
    if ev.empty:
        return {"rows": [], "more": 0, "total_bn": 0.0, "weeks": 0}
    g = ev.groupby(["step", "round", "constraint"], sort=True)
    rows = []
    for (step, rnd, constraint), part in g:
        by_asset = part.groupby("asset")["value_bn"].sum().sort_values(ascending=False)
        what = ", ".join(a.replace("_", " ") for a, v in by_asset.items() if a and v >= MIN_SHOWN_BN) or "-"
        rows.append({"week": int(step), "round": int(rnd), "constraint": CONSTRAINT_LABELS.get(constraint, constraint),
                     "value_bn": float(part["value_bn"].sum()), "what": what})
    rows.sort(key=lambda r: (-r["week"], r["round"]))
    return {"rows": rows[:limit], "more": max(len(rows) - limit, 0), "total_bn": float(ev["value_bn"].sum()),
            "weeks": int(ev["step"].nunique())}


def agent_details(model, agent_id: Any) -> dict[str, Any] | None:
    """Everything the inspector shows for ``agent_id`` (None if no such holder)."""
    agent = next((a for a in model.holders if a.unique_id == agent_id), None)
    if agent is None:
        return None
    sheet = balance_sheet(model, agent)
    total_a = sum(v for _, v in sheet["assets"])
    total_l = sum(v for _, v in sheet["liabilities"])
    return {"id": agent_id, "name": agent.name, "kind": KIND_LABELS.get(agent.kind, agent.kind), "row": agent.row,
            "defaulted": bool(agent.defaulted), "week": int(model.steps), "sheet": sheet,
            "total_assets": total_a, "total_liabilities": total_l, "equity": total_a - total_l,
            "headroom": constraint_headroom(model)[agent_id], "sales": sales_of(model, agent_id)}


def _table(head: list[str], rows: list[list[str]], cls: str) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='dp-table {cls}'><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _bar(used: float) -> str:
    pct = min(used / USED_CAP, 1.0) * 100
    colour = "#d7191c" if used >= 1 else "#fdae61" if used >= 0.9 else "#1a9641"
    return (f"<span class='dp-headroom-bar'><span style='width:{pct:.0f}%;background:{colour}'></span>"
            f"<i style='left:{100 / USED_CAP:.0f}%'></i></span>")


def agent_html(d: dict[str, Any]) -> str:
    """The inspector's body as HTML (all text escaped)."""
    status = "<b class='dp-defaulted'>defaulted</b>" if d["defaulted"] else "operating"
    head = (f"<div class='dp-agent-head'><b>{html.escape(str(d['name']))}</b> · {html.escape(d['kind'])} · "
            f"{status} · balance sheet at week {d['week']}: assets ${d['total_assets']:,.1f}bn, liabilities "
            f"${d['total_liabilities']:,.1f}bn, equity ${d['equity']:,.1f}bn</div>")
    sheet = d["sheet"]
    n = max(len(sheet["assets"]), len(sheet["liabilities"]))
    rows = []
    for i in range(n):
        a = sheet["assets"][i] if i < len(sheet["assets"]) else ("", None)
        li = sheet["liabilities"][i] if i < len(sheet["liabilities"]) else ("", None)
        rows.append([a[0], "" if a[1] is None else f"{a[1]:,.2f}", li[0], "" if li[1] is None else f"{li[1]:,.2f}"])
    bs = _table(["Assets", "$bn", "Liabilities", "$bn"], rows, "dp-agent-sheet")
    room = "".join(
        f"<div class='dp-headroom dp-headroom-{h.limit.value}'><span class='dp-headroom-name'>{h.limit.value}</span>"
        f"{_bar(h.used)}<span>{100 * h.used:.0f}% of the limit used · {html.escape(h.text)}</span></div>"
        for h in d["headroom"])
    s = d["sales"]
    if s["rows"]:
        sales = (f"<div>Forced sales: ${s['total_bn']:,.2f}bn in {s['weeks']} week(s)"
                 + (f" (latest {len(s['rows'])} shown)" if s["more"] else "") + "</div>"
                 + _table(["Week", "Round", "Constraint", "$bn", "What"],
                          [[r["week"], r["round"], r["constraint"], f"{r['value_bn']:,.2f}", r["what"]]
                           for r in s["rows"]], "dp-agent-sales"))
    else:
        sales = "<div>No forced sales so far.</div>"
    return head + "<div class='dp-agent-cols'><div>" + bs + "</div><div>" + room + sales + "</div></div>"
