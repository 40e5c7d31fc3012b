"""AI labs: consume the capex (MODEL.md §5).

Revenue is a share of AI revenue; compute is bought under contracts from neoclouds and hyperscalers
(:meth:`AILabs.earn_and_pay_compute`). The burn (compute + other costs - revenue) is funded from cash,
then by capital calls on sovereign commitments, then by venture rounds from the dry-powder pool
(:meth:`AILabs.raise_funding`). A lab that cannot pay its compute bill defaults: its contracts stop
and its undrawn commitments lapse (:meth:`AILabs.on_default`).
"""

from __future__ import annotations

import numpy as np

from agents.base import AgentGroup, Holder
from sim.arrays import fast_sum
from sim.config import AILab as AILabParams
from sim.domain import AgentKind
from sim.engine import fixed


class AILab(Holder):
    kind = AgentKind.AI_LAB

    def __init__(self, model, params: AILabParams):
        super().__init__(model, params.name)
        self.params = params

    def revenue_rate(self, ai_revenue_bn: float) -> float:
        return self.params.revenue_share * ai_revenue_bn

    def compute_rate(self, t_years: float) -> float:
        return self.params.compute_bn_per_yr * fixed.power(1.0 + self.params.compute_growth, t_years)


class AILabs(AgentGroup[AILab]):
    kind = AgentKind.AI_LAB

    def __init__(self, model, members, providers: list, contract_shares: np.ndarray):
        super().__init__(model, members)
        self.providers = providers                   # hyperscalers and neoclouds selling compute
        self.contract_shares = contract_shares       # [lab, provider]: share of the lab's compute bill
        self.provider_rows = np.array([p.row for p in providers], dtype=int)

    def earn_and_pay_compute(self) -> None:
        """Revenue in, the compute bill to the providers by contract share, other costs out; a lab
        that cannot pay its bill in full defaults ("payment")."""
        m = self.model
        c, b, dt, t = m.cfg, m.book, m.dt, m.t_years
        for li, lab in enumerate(self.members):
            if lab.defaulted:
                continue
            row = lab.row
            b.external(row, lab.revenue_rate(m.world.ai_revenue) * dt, "ai_revenue")
            bill = lab.compute_rate(t) * dt
            paid = min(bill, max(b.cash[row], 0.0))
            b.transfer_to_each(row, self.provider_rows, paid * self.contract_shares[li])    # distinct providers
            b.pay_from_cash(row, c.ai_labs.other_cost_share * bill, "lab_operating_costs")
            if paid < bill - 1e-9:
                m.defaults.declare(lab, "payment")

    def raise_funding(self, requests) -> None:
        """Keep a quarter of the burn as cash: call sovereign commitments (pro rata to what each has
        undrawn, at most four weeks of burn a week), then ask the pool for a venture round."""
        m = self.model
        c, b, dt, t = m.cfg, m.book, m.dt, m.t_years
        commitments = m.sovereigns.commitments
        for li, lab in enumerate(self.members):
            if lab.defaulted:
                continue
            burn = lab.compute_rate(t) * (1 + c.ai_labs.other_cost_share) - lab.revenue_rate(m.world.ai_revenue)
            target = max(burn, 0.0) * c.ai_labs.cash_target_years       # cash the lab keeps
            gap = target - float(b.cash[lab.row])
            if gap <= 0:
                continue
            undrawn = commitments[:, li]
            total_undrawn = fast_sum(undrawn)
            call = min(gap, total_undrawn, max(burn, 0.0) * dt * c.ai_labs.max_call_weeks_of_burn)
            if call > 0:
                amounts = call * (undrawn / total_undrawn)     # pro rata to each sovereign's undrawn commitment
                undrawn -= amounts                              # (a view: the commitments are drawn)
                for sov, amount in zip(m.sovereigns, amounts.tolist()):
                    m.sovereigns.add_call(sov.row, lab.row, amount)
                gap -= call
            if gap > 0:
                requests.append((lab.row, min(gap, c.ai_labs.venture_funding_bn_per_yr * dt), False, "venture"))

    def on_default(self, lab: AILab) -> None:
        """Contracts stop and undrawn commitments lapse."""
        m = self.model
        li = self.index(lab)
        self.contract_shares[li] = 0.0
        m.sovereigns.commitments[:, li] = 0.0
        m.sovereigns.cancel_calls_to(lab.row)
