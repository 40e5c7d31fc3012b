"""Hedge funds: leveraged holders of liquid assets, on prime-broker margin, facing redemptions.

Margin calls follow :func:`sim.constraints.margin_call_sales`. Redemption requests each quarter
are a base rate plus a sensitivity times the quarter's loss (MODEL.md §6.3); a fund pays a
redemption R while keeping its leverage, selling R * L of assets and repaying (L - 1) * R of debt.
"""

from __future__ import annotations

from agents.base import Holder


class HedgeFund(Holder):
    kind = "hedge_fund"

    def __init__(self, model, name: str, leverage: float):
        super().__init__(model, name)
        self.target_leverage = leverage
        self.redemption_queue: list[tuple[int, int, float]] = []   # (due step, investor row or -1, value $bn)
