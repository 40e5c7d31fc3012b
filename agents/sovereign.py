"""Sovereign funds and deep pockets: meet AI-lab capital calls from cash, then sell by conviction.

A sovereign fund has committed money to AI labs (``commitments``, sovereigns x labs, undrawn $bn).
When a lab calls part of it, the call becomes the fund's obligation, paid from cash after each
cascade round (:meth:`Sovereigns.pay_calls`). When cash falls short the fund sells its
lowest-conviction holdings first (crypto, software, redemptions from hedge funds and private-credit
funds, ...; ``sovereigns.conviction_order``) in round 0 of the cascade
(:meth:`Sovereigns.commitment_orders`), as the articles describe PIF- and SoftBank-like holders doing
once their cash is spent (MODEL.md §6.4).
"""

from __future__ import annotations

import numpy as np

from agents.base import AgentGroup, Holder
from sim.domain import ASSETS, AgentKind, Constraint
from sim.engine import MATERIAL_BN

A = {name: k for k, name in enumerate(ASSETS)}


class SovereignFund(Holder):
    kind = AgentKind.SOVEREIGN

    def __init__(self, model, name: str):
        super().__init__(model, name)
        self.unmet_calls_bn = 0.0     # capital calls still to pay


class Sovereigns(AgentGroup[SovereignFund]):
    kind = AgentKind.SOVEREIGN

    def __init__(self, model, members, commitments: np.ndarray):
        super().__init__(model, members)
        self.commitments = commitments                  # [sovereign, lab] undrawn $bn
        self.calls: list[list] = []                     # [payer row, lab row, $bn outstanding]
        self.requested_from_funds = np.zeros(len(members))   # redemptions asked of funds to meet calls

    def add_call(self, payer_row: int, lab_row: int, amount: float) -> None:
        """A capital call: the sovereign owes the lab ``amount``."""
        if amount > 0:
            self.calls.append([payer_row, lab_row, amount])

    def cancel_calls_to(self, lab_row: int) -> None:
        """A defaulted lab calls nothing more."""
        self.calls = [c for c in self.calls if c[1] != lab_row]

    def redeemed(self, row: int, value: float) -> None:
        """A fund paid this sovereign ``value`` of the redemptions it asked for."""
        i = row - self.rows.start
        self.requested_from_funds[i] = max(self.requested_from_funds[i] - value, 0.0)

    def commitment_orders(self, sheet) -> None:
        """Round 0: what cash and pending redemptions do not cover is raised by conviction order:
        market assets are sold this round, fund shares redeemed (paid after the fund's lag)."""
        m = self.model
        if not self.calls:
            return               # nothing owed: no sovereign needs to sell
        b, p = m.book, m.prices
        owed = np.zeros(len(m.holders))
        for payer, _lab, amount in self.calls:
            owed[payer] += amount
        nav_unit = None      # NAV per fund unit, computed when first needed (queuing does not move it)
        for i, sov in enumerate(self.members):
            r = sov.row
            need = owed[r] - max(b.cash[r], 0.0) - self.requested_from_funds[i]
            if need <= 1e-9:
                continue
            units = np.zeros(m.K)
            for item in m.cfg.sovereigns.conviction_order:
                if need <= 1e-9:
                    break
                if item in A:
                    k = A[item]
                    take = min(need, b.units[r, k] * p[k])
                    units[k] += take / p[k] if p[k] > 0 else 0.0
                    need -= take
                    continue
                # redeem from funds: queued at the fund, paid after its lag
                funds = m.hedge_funds if item == "hedge_fund_shares" else m.pc_funds
                if nav_unit is None:
                    nav_unit = b.nav_per_unit(m.fund_nav())
                for f in funds:
                    if need <= 1e-9 or f.defaulted:
                        continue
                    value = b.fund_units[r, f.row] * nav_unit[f.row] - funds.queued_by(f, r)
                    take = min(need, max(value, 0.0))
                    if take > 0:
                        funds.queue(f, m.steps + funds.params.redemption_lag_steps, r, take)
                        self.requested_from_funds[i] += take
                        need -= take
            sheet.put(r, units, Constraint.COMMITMENT)

    def pay_calls(self) -> None:
        """Capital calls are paid from cash as far as it goes (after every cascade round)."""
        cash = self.model.book.cash
        for call in self.calls:
            payer, lab, amount = call
            have = float(cash[payer])
            pay = min(amount, have if have > 0.0 else 0.0)
            if pay > 0:
                cash[payer] = have - pay           # Book.transfer(payer, lab, pay), one payment at a time
                cash[lab] += pay
                call[2] -= pay
        self.calls = [c for c in self.calls if c[2] > MATERIAL_BN]
        owed: dict[int, float] = {}
        for c in self.calls:
            owed[c[0]] = owed.get(c[0], 0.0) + c[2]
        for i, sov in enumerate(self.members):
            sov.unmet_calls_bn = owed.get(sov.row, 0.0)
            if sov.unmet_calls_bn <= 1e-9:
                self.requested_from_funds[i] = 0.0
