"""AI labs: consume the capex. Revenue is a share of AI revenue; compute is bought under contracts
from neoclouds and hyperscalers. The burn (compute + other costs - revenue) is funded from cash,
then by capital calls on sovereign commitments, then by venture rounds from the dry-powder pool.
A lab that cannot pay its compute bill defaults and its contracts stop (MODEL.md §5)."""

from __future__ import annotations

from agents.base import Holder
from sim.config import AILab as AILabParams


class AILab(Holder):
    kind = "ai_lab"

    def __init__(self, model, params: AILabParams):
        super().__init__(model, params.name)
        self.params = params

    def revenue_rate(self, ai_revenue_bn: float) -> float:
        return self.params.revenue_share * ai_revenue_bn

    def compute_rate(self, t_years: float) -> float:
        return self.params.compute_bn_per_yr * (1.0 + self.params.compute_growth) ** t_years
