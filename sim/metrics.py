"""What the model reports each week (``model.parquet``), every quarter per agent (``agents.parquet``),
and the impossible-trinity readout (MODEL.md §7, §8).

The weekly metrics are one dict per step (``model.metrics``), collected by Mesa's own
:class:`mesa.DataCollector` (one model reporter per metric), so ``model.datacollector`` and
``mesa.batch_run`` work as in any Mesa model.
"""

from __future__ import annotations

import mesa

from sim.domain import ASSETS

PRICE_KEYS = tuple(f"price_{a}" for a in ASSETS)


def _reporter(key: str):
    """Model reporter returning ``model.metrics[key]``."""
    def report(m, key=key):
        return m.metrics[key]
    return report


def make_datacollector(metric_keys) -> mesa.DataCollector:
    return mesa.DataCollector(model_reporters={key: _reporter(key) for key in metric_keys})


def clip01(x) -> float:
    """float(np.clip(x, 0, 1)) for a scalar, without the array machinery."""
    return float(min(max(x, 0.0), 1.0))


def trinity(model) -> dict[str, float]:
    """Impossible-trinity readout (MODEL.md §7), each in [0, 1]."""
    hs = model.hyperscalers
    planned, realized = hs.total_capex_planned_bn, hs.total_capex_realized_bn
    race = realized / planned if planned > 0 else 1.0
    rise = max(model.peak_ust10y - model.pool.y0, 0.0)
    stability = clip01(1.0 - rise / (model.cfg.central_bank.stability_reference_rise_pp / 100))
    bought = model.central_bank.purchases_bn
    independence = clip01(1.0 - bought / max(hs.total_issuance_bn, 1e-9)
                          / model.cfg.central_bank.independence_reference_share) if bought > 0 else 1.0
    return {"trinity_compute_race": clip01(race), "trinity_bond_stability": stability,
            "trinity_independence": independence}


def week_metrics(model) -> dict:
    """The model-level figures of the week just ended (one row of ``model.parquet``)."""
    coc = model.pool.coc
    hs = model.hyperscalers
    funding = model.funding
    m = {"step": int(model.steps), "t_years": model.t_years}
    m.update(zip(PRICE_KEYS, model.prices.tolist()))
    m.update({
        "ust10y_pct": coc.ust10y * 100,
        "ig_spread_bp": coc.ig_spread * 1e4,
        "term_premium_bp": coc.term_premium * 1e4,
        "policy_rate_pct": coc.policy_rate * 100,
        "dry_powder_bn": model.pool.level_bn,
        "depletion": model.pool.x,
        "funding_demand_bn": funding.demand_bn,
        "funding_absorbed_bn": funding.absorbed_bn,
        "funding_shortfall_bn": funding.shortfall_bn,
        "capex_planned_bn": hs.capex_planned_bn,
        "capex_realized_bn": hs.capex_realized_bn,
        "capex_nash_multiplier": hs.multiplier_means[0],
        "capex_coop_multiplier": hs.multiplier_means[1],
        "ai_revenue_bn": model.world.ai_revenue,
        "rental_index": model.world.rental_index,
        "fire_sales_bn": model.event_log.fire_sales_step_bn,
        "cascade_rounds": model.cascade.last_rounds,
        "defaults_total": model.defaults.total(),
        "retail_closeouts": model.defaults.by_kind["retail"],
        "neocloud_defaults": model.defaults.by_kind["neocloud"],
        "credit_losses_bn": model.defaults.credit_losses_bn,
        "cb_balance_sheet_change_bn": model.central_bank.purchases_bn,
        "pc_gates_binding": model.pc_funds.gates_binding(),
        "neocloud_max_ltv": model.neoclouds.max_ltv(),
    })
    m.update(trinity(model))
    return m


def agent_rows(model) -> list[dict]:
    """Every holder's balance sheet now (rows of ``agents.parquet``)."""
    assets = model.total_assets()
    liabilities = model.book.total_liabilities()
    step = int(model.steps)
    out = []
    rows = zip(model.holders, model.book.cash.tolist(), assets.tolist(), liabilities.tolist(),
               (assets - liabilities).tolist())
    for a, cash, assets_bn, liabilities_bn, equity_bn in rows:
        if a is model.retail:       # retail cash lives in the population's arrays, not in the book
            cash = float(model.retail.cash.sum())
            assets_bn += cash
            equity_bn += cash
        out.append({"step": step, "agent_id": a.unique_id, "kind": a.kind, "name": a.name, "cash_bn": cash,
                    "assets_bn": assets_bn, "liabilities_bn": liabilities_bn, "equity_bn": equity_bn,
                    "defaulted": a.defaulted})
    return out
