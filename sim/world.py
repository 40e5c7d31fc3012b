"""What the model takes as given each week (MODEL.md §5): AI revenue, GPU generations, the policy rate.

AI revenue R follows R_{t+dt} = R_t exp((g - s^2/2) dt + s sqrt(dt) z), its drift cut when the grid
cannot power the capex (power limits). A new GPU generation ships at the configured steps (and at a
random hazard): used-GPU values and rental rates drop. The policy rate follows the central bank's path.
"""

from __future__ import annotations

import math

from sim import draws
from sim.engine import fixed


class World:
    def __init__(self, model):
        self.model = model
        cfg = model.cfg
        self.ai_revenue0 = cfg.ai.revenue_bn_per_yr
        self.ai_revenue = cfg.ai.revenue_bn_per_yr     # annual run-rate, $bn/yr
        self.rental_index = 1.0                       # GPU rental rates relative to t=0
        self.generations = 0                          # GPU generations shipped so far
        self.generation_now = 0.0                     # this week's value drop (0: none)
        self.policy_rate = model.central_bank.policy_rate(0.0)

    def advance(self) -> None:
        m = self.model
        c = m.cfg
        z = draws.standard_normal(m.rng)
        g, s = c.ai.revenue_growth, c.ai.revenue_vol
        g -= c.power.revenue_elasticity * m.hyperscalers.power_limited_share * max(g, 0.0)
        self.ai_revenue *= fixed.exp((g - 0.5 * s * s) * m.dt + s * math.sqrt(m.dt) * float(z))
        self.generation_now = 0.0
        hazard = c.gpu.generation_hazard_per_yr * m.dt
        if m.steps in c.gpu.generation_steps or (hazard > 0 and m.rng.random() < hazard):
            self.generations += 1
            self.generation_now = c.gpu.generation_value_drop
            self.rental_index *= max(0.0, 1.0 - c.gpu.rental_pass_through * c.gpu.generation_value_drop)
        self.policy_rate = m.central_bank.policy_rate(m.t_years)
