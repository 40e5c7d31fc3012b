"""Do the peer's channels interact the same way under the engine's own price-impact laws?

The reproduction fixes the peer's conventions; this study changes one of them, the impact law, to the
engine's linear or exponential law (the one drypowder's weekly markets use), and measures the FF11c
joint-versus-parts statistics at one price impact. Runs here are independent (seed i, one run a
point), not chained as in the peer's FF11, so they estimate the same quantities with fresh agent
orders.
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

from sim.validation.system_wide import experiments as X
from sim.validation.system_wide.config import Crediting, PriceImpact
from sim.validation.system_wide.statistics import joint_vs_parts, point_stats
from sim.validation.system_wide.system_wide import inet_system_wide


def channel_outcomes(table: str, price_impact: float, law: PriceImpact, seeds: Iterable[int],
                     crediting: Crediting = Crediting.HEAD) -> dict[str, tuple[float, float, float]]:
    """(aeoc, stde, EBA outcome) as fractions for every channel mode of an FF11 variant."""
    lev_y, rwa_y = X.FF11_VARIANTS[table]
    seeds = list(seeds)
    out = {}
    for mode in X.CHANNEL_MODES:
        cfg = X.ff11_config(mode, price_impact, lev_y, rwa_y, crediting).with_(impact_law=law)
        runs = [inet_system_wide(cfg, seed=s) for s in seeds]
        st = point_stats([r.bank_defaults for r in runs], [r.hf_defaults for r in runs],
                         [r.fund_defaults for r in runs], [r.bank_asset_loss for r in runs])
        out[mode] = (st.aeoc_pct / 100, st.stde_pct / 100, st.eba_eose_pct / 100)
    return out


def channel_interactions(table: str = "FF11_2", price_impact: float = 0.05,
                         laws: Iterable[PriceImpact] = tuple(PriceImpact), seeds: Iterable[int] = range(10),
                         crediting: Crediting = Crediting.HEAD) -> pd.DataFrame:
    """Joint minus parts (and joint over parts) of every combination of channels, per impact law."""
    rows = []
    seeds = list(seeds)
    for law in laws:
        outcome = channel_outcomes(table, price_impact, PriceImpact(law), seeds, crediting)
        for combination in X.JOINT_MODES:
            j = joint_vs_parts(outcome[combination], [outcome[m] for m in combination.split("&")])
            rows.append({"table": table, "price_impact": price_impact, "impact_law": str(law),
                         "combination": combination, "runs_per_point": len(seeds),
                         "joint_aeoc": outcome[combination][0], "joint_minus_eba": j.joint_minus_eba,
                         "sum_parts_minus_eba": j.sum_parts_minus_eba, "minus_raw": j.minus_raw,
                         "minus_err": j.minus_err, "over_raw": j.over_raw})
    return pd.DataFrame(rows)
