"""Sovereign funds and deep pockets: meet AI-lab capital calls from cash, then sell by conviction.

When a call exceeds cash the fund sells its lowest-conviction holdings first (crypto, software,
redemptions from hedge funds and private-credit funds, ...; ``sovereigns.conviction_order``), as
the articles describe PIF- and SoftBank-like holders doing once their cash is spent.
"""

from __future__ import annotations

from agents.base import Holder


class SovereignFund(Holder):
    kind = "sovereign"

    def __init__(self, model, name: str):
        super().__init__(model, name)
        self.unmet_calls_bn = 0.0     # capital calls still to pay
        self.calls_paid_bn = 0.0
