"""The peer's step on the cascade engine: clear, settle, act, default (SPEC.md §9).

One step is one round of :class:`sim.engine.CascadeLoop` (``run_rounds``): the market clears the
orders of the previous step and they settle; then, as the round's rules act, every bank and hedge
fund pays the obligations due now or defaults, mail is delivered, every live agent acts in the
step's shuffled order (a default marks it dead at once, for everyone acting after it) and every agent
marked this step runs its default routine, in the same order. The next step's shuffle (the order
persists) and first mail delivery come before its clearing.

The participant groups (:class:`BankGroup`, :class:`HedgeFundGroup`, :class:`FundGroup`) hold the
rules of their rows; :class:`PeerRules` only decides who moves when.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.engine import RoundRecord

from sim.validation.system_wide import behaviours as B
from sim.validation.system_wide.actions import take_snapshot
from sim.validation.system_wide.contracts import mailbox_pass
from sim.validation.system_wide.institutions import Group
from sim.validation.system_wide.market import OrderedCascadeLoop

if TYPE_CHECKING:
    from sim.validation.system_wide.state import Economy


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


@dataclass(frozen=True)
class StepRecord:
    """What one step did: the engine's round record and the defaults per group."""

    t: int
    round: RoundRecord
    defaults: dict[Group, int]


class PeerRules:
    """The engine's ``Rules`` for the peer economy: one round per step."""

    def __init__(self, eco: Economy):
        lay = eco.layout
        groups = [BankGroup(range(0, lay.n_banks))]
        if lay.hedge_funds:
            groups.append(HedgeFundGroup(lay.hf_rows))
        if lay.funds:
            groups.append(FundGroup(lay.fund_rows))
        self.eco = eco
        self.owner = [None] * lay.n
        for g in groups:
            for a in g.rows:
                self.owner[a] = g
        self.groups = groups
        self.records: list[StepRecord] = []
        self._round: RoundRecord | None = None

    def begin_step(self) -> None:
        """Before a step's clearing: next step, shuffle the agents (in place), deliver the mail."""
        eco = self.eco
        eco.t += 1
        eco.stream.shuffle(eco.order)
        mailbox_pass(eco)

    def settle(self, record: RoundRecord) -> None:
        self._round = record

    def _default(self, a: int, counts: dict) -> None:
        eco = self.eco
        eco.marked[a] = True
        eco.alive[a] = False
        counts[self.owner[a].group] += 1

    def act(self, sheet, round_no: int) -> None:
        """The step after its clearing; orders go on ``sheet`` for the next step's clearing."""
        eco, owner = self.eco, self.owner
        eco.sheet = sheet
        counts = {g.group: 0 for g in self.groups}
        for a in eco.order:
            if eco.alive[a]:
                try:
                    owner[a].pay_obligations(eco, a)
                except B.Default:
                    self._default(a, counts)
        mailbox_pass(eco)
        for a in eco.order:
            if eco.alive[a]:
                take_snapshot(eco, a)
                try:
                    owner[a].act(eco, a)
                except B.Default:
                    self._default(a, counts)
        for a in eco.order:
            if eco.marked[a]:
                eco.marked[a] = False
                owner[a].default(eco, a)
        self.records.append(StepRecord(eco.t, self._round, counts))
        if round_no < eco.cfg.steps:
            self.begin_step()

    def idle(self, round_no: int) -> None:   # only for run_until_quiet, which the peer does not use
        return None

    def busy(self) -> bool:
        return False


def run_steps(eco: Economy) -> list[StepRecord]:
    """Run the economy's steps on the engine's loop; returns one record per step."""
    rules = PeerRules(eco)
    loop = OrderedCascadeLoop(eco.book.holdings, eco.market, rules, accounts=eco.book.cash,
                              payee=eco.book.payee, reserved=eco.book.reserved)
    rules.begin_step()
    loop.run_rounds(eco.cfg.steps)
    return rules.records
