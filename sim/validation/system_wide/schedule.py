"""The peer's step, in the cascade's shape "clear, settle, act, default" (SPEC.md §9).

Each step: the agents are shuffled (the order persists); queued mail is delivered; the market clears
last step's orders; every bank and hedge fund pays the obligations due now or defaults; mail again;
every live agent acts in the shuffled order (a default marks the agent dead at once); then every
agent marked this step runs its default routine, in the same order.

The participant groups (:class:`BankGroup`, :class:`HedgeFundGroup`, :class:`FundGroup`) hold the
rules of their rows; the loop only decides who moves when.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.validation.system_wide import behaviours as B
from sim.validation.system_wide.actions import take_snapshot
from sim.validation.system_wide.contracts import mailbox_pass
from sim.validation.system_wide.institutions import Group

if TYPE_CHECKING:
    from sim.validation.system_wide.economy import Economy


class BankGroup:
    group = Group.BANK

    def __init__(self, rows: range):
        self.rows = rows

    def pay_obligations(self, eco: Economy, a: int) -> None:
        B.pay_matured_or_default(eco, a)

    def act(self, eco: Economy, a: int) -> None:
        B.bank_act(eco, a)

    def default(self, eco: Economy, a: int) -> None:
        B.bank_default(eco, a)


class HedgeFundGroup(BankGroup):
    group = Group.HEDGE_FUND

    def act(self, eco: Economy, a: int) -> None:
        B.hedge_fund_act(eco, a, a - self.rows.start)

    def default(self, eco: Economy, a: int) -> None:
        B.hedge_fund_default(eco, a)


class FundGroup(BankGroup):
    group = Group.FUND

    def pay_obligations(self, eco: Economy, a: int) -> None:
        return None  # funds owe no recallable funding

    def act(self, eco: Economy, a: int) -> None:
        B.fund_act(eco, a, a - self.rows.start)

    def default(self, eco: Economy, a: int) -> None:
        B.fund_default(eco, a)


@dataclass
class StepRecord:
    """What one step did: defaults per group, prices after the clearing, value ordered."""

    t: int
    defaults: dict[Group, int]
    prices: np.ndarray
    ordered_value: float


@dataclass
class Schedule:
    groups: list
    records: list[StepRecord] = field(default_factory=list)

    @classmethod
    def for_economy(cls, eco: Economy) -> Schedule:
        lay = eco.layout
        groups = [BankGroup(range(0, lay.n_banks))]
        if lay.hedge_funds:
            groups.append(HedgeFundGroup(lay.hf_rows))
        if lay.funds:
            groups.append(FundGroup(lay.fund_rows))
        return cls(groups)

    def _group_of(self, eco: Economy) -> list:
        owner = [None] * eco.layout.n
        for g in self.groups:
            for a in g.rows:
                owner[a] = g
        return owner

    def _mark_default(self, eco: Economy, a: int, counts: dict, owner) -> None:
        eco.marked[a] = True
        eco.alive[a] = False
        counts[owner[a].group] += 1

    def step(self, eco: Economy) -> StepRecord:
        owner = self._group_of(eco)
        counts = {g.group: 0 for g in self.groups}
        eco.t += 1
        eco.stream.shuffle(eco.order)
        mailbox_pass(eco)
        clearing = eco.market.clear(eco.book)
        for a in eco.order:
            if eco.alive[a]:
                try:
                    owner[a].pay_obligations(eco, a)
                except B.Default:
                    self._mark_default(eco, a, counts, owner)
        mailbox_pass(eco)
        for a in eco.order:
            if eco.alive[a]:
                take_snapshot(eco, a)
                try:
                    owner[a].act(eco, a)
                except B.Default:
                    self._mark_default(eco, a, counts, owner)
        for a in eco.order:
            if eco.marked[a]:
                eco.marked[a] = False
                owner[a].default(eco, a)
        ordered = float((eco.market.ordered * eco.market.prices).sum())
        record = StepRecord(eco.t, counts, clearing.new_prices.copy(), ordered)
        self.records.append(record)
        return record

    def run(self, eco: Economy) -> list[StepRecord]:
        for _ in range(eco.cfg.steps):
            self.step(eco)
        return self.records
