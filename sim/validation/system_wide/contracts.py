"""Contracts of the peer economy: deposits, other liabilities, loans and repos (SPEC.md §7).

Every liability is a row of :class:`Contracts` with a lender and a borrower (``OUTSIDE`` = the
external node, which never defaults and pays at once). Funding pulls become *obligations*
(:class:`Obligation`) when funding contagion (F) is on: the lender's demand reaches the borrower at
the next step's mailbox pass and must be paid one step later, or the borrower defaults.

Crediting (:class:`Crediting`): when a borrower repays a loan, the current peer library (``HEAD``)
credits the lender at once; the paper-era one (``V08``) posts the cash, which the lender receives at
the next mailbox pass. With F off the lender is always credited at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.validation.system_wide.economy import Economy

OUTSIDE = -1
EPS = 8e-9           # the peer library's tolerance (resilience.parameters.eps)
TIMESTEPS_TO_PAY = 2
HORIZON = 3 * TIMESTEPS_TO_PAY   # cash-flow horizon of the liquidity management (6 steps)


class Kind(IntEnum):
    DEPOSIT = 0
    OTHER = 1      # other liabilities: repayable, never pulled, no lender
    LOAN = 2       # interbank loans and loans from the external node
    REPO = 3


class Crediting(StrEnum):
    """When a repaid lender receives the cash (SPEC.md: the only HEAD / v0.8 difference)."""

    HEAD = "head"    # at once
    V08 = "v08"      # at the next mailbox pass


class ContractsBuilder:
    """Collects contracts at initialisation; :meth:`freeze` makes the arrays."""

    def __init__(self):
        self.rows: list[list] = []

    def add(self, kind: Kind, lender: int, borrower: int, principal: float, tranche: int = -1) -> int:
        self.rows.append([int(kind), int(lender), int(borrower), float(principal), int(tranche)])
        return len(self.rows) - 1

    def freeze(self, n_agents: int) -> Contracts:
        return Contracts(np.array(self.rows, dtype=object).reshape(-1, 5), n_agents)


class Contracts:
    """All contracts as arrays; ``of_borrower[a]`` / ``of_lender[a]`` are each agent's contract ids in
    the order of the peer's ledger (by contract type as first booked, then by creation)."""

    SPARE = 512   # room for the loans the external node grants when funding contagion is off

    def __init__(self, rows: np.ndarray, n_agents: int):
        n = len(rows)
        cap = n + self.SPARE
        self.n = n
        self.kind, self.lender, self.borrower, self.tranche = (np.zeros(cap, dtype=int) for _ in range(4))
        self.principal, self.pulled, self.cash_collateral = np.zeros(cap), np.zeros(cap), np.zeros(cap)
        self.prev_call, self.future_call, self.future_max = np.zeros(cap), np.zeros(cap), np.zeros(cap)
        if n:
            self.kind[:n] = rows[:, 0].astype(int)
            self.lender[:n] = rows[:, 1].astype(int)
            self.borrower[:n] = rows[:, 2].astype(int)
            self.principal[:n] = rows[:, 3].astype(float)
            self.tranche[:n] = rows[:, 4].astype(int)   # repo collateral class (-1: none)
        self.of_borrower = [np.flatnonzero(self.borrower[:n] == a) for a in range(n_agents)]
        self.of_lender = [np.flatnonzero(self.lender[:n] == a) for a in range(n_agents)]

    def _grow(self) -> None:
        for name in ("kind", "lender", "borrower", "tranche", "principal", "pulled", "cash_collateral",
                     "prev_call", "future_call", "future_max"):
            old = getattr(self, name)
            setattr(self, name, np.concatenate([old, np.zeros_like(old[:self.SPARE])]))

    def add_external_loan(self, borrower: int, principal: float) -> int:
        """A new loan from the external node, booked after the borrower's other loans."""
        if self.n == len(self.kind):
            self._grow()
        k = self.n
        self.n += 1
        self.kind[k], self.lender[k], self.borrower[k], self.tranche[k] = Kind.LOAN, OUTSIDE, borrower, -1
        self.principal[k] = principal
        ids = self.of_borrower[borrower]
        later = np.flatnonzero(self.kind[ids] == Kind.REPO)
        at = int(later[0]) if len(later) else len(ids)
        self.of_borrower[borrower] = np.insert(ids, at, k)
        return k

    def repos_of(self, a: int) -> np.ndarray:
        ids = self.of_borrower[a]
        return ids[self.kind[ids] == Kind.REPO]

    def max_action(self, ids: np.ndarray) -> np.ndarray:
        """What a pull or a repayment can still move: max(0, principal - already pulled)."""
        return np.maximum(0.0, self.principal[ids] - self.pulled[ids])


def alive_or_outside(alive: np.ndarray, parties: np.ndarray) -> np.ndarray:
    return (parties == OUTSIDE) | alive[np.maximum(parties, 0)]


def eligible(eco: Economy, ids: np.ndarray) -> np.ndarray:
    """The peer's ``is_eligible``: a loan acts while principal > 0, principal > pulled and both
    parties live; an other liability while principal > 0."""
    c = eco.contracts
    loan_ok = ((c.principal[ids] > 0) & (c.principal[ids] > c.pulled[ids])
               & alive_or_outside(eco.alive, c.lender[ids]) & alive_or_outside(eco.alive, c.borrower[ids]))
    return np.where(c.kind[ids] == Kind.OTHER, c.principal[ids] > 0, loan_ok)


# ---------------------------------------------------------------------------------------------
# Obligations and the mailbox
# ---------------------------------------------------------------------------------------------
class Obligation:
    """A pulled amount the borrower must pay: opened at t+1, paid at t+2, expected by the lender at t+3."""

    __slots__ = ("contract", "amount", "debtor", "creditor", "t_open", "t_pay", "t_receive", "fulfilled")

    def __init__(self, contract: int, amount: float, debtor: int, creditor: int, now: int):
        self.contract, self.amount = contract, float(amount)
        self.debtor, self.creditor = debtor, creditor
        self.t_open, self.t_pay = now + 1, now + TIMESTEPS_TO_PAY
        self.t_receive = self.t_pay + 1
        self.fulfilled = False


@dataclass
class Mailboxes:
    """Per agent: obligations delivered but not yet opened, the open ones to pay, the ones it is owed."""

    unopened: list[list[Obligation]]
    inbox: list[list[Obligation]]
    outbox: list[list[Obligation]]
    postbox: list  # (recipient, Obligation | cash amount), delivered at the next mailbox pass

    @classmethod
    def empty(cls, n: int) -> Mailboxes:
        return cls([[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)], [])


def mailbox_pass(eco: Economy) -> None:
    """Deliver the postbox, then every live agent files what arrived and forgets what is settled
    (and obligations owed to it by the dead)."""
    box, alive, cash = eco.mail, eco.alive, eco.book.cash
    for recipient, message in box.postbox:
        if isinstance(message, Obligation):
            box.unopened[recipient].append(message)
        else:
            cash[recipient] += message
    box.postbox.clear()
    now = eco.t
    for a in eco.order:
        if not alive[a]:
            continue
        box.inbox[a] = [o for o in box.inbox[a] if not o.fulfilled]
        box.outbox[a] = [o for o in box.outbox[a] if not o.fulfilled and alive[o.debtor]]
        box.inbox[a] += [o for o in box.unopened[a] if o.t_open == now]
        box.unopened[a] = [o for o in box.unopened[a] if o.t_open != now]


def commitments(eco: Economy, a: int) -> list[float]:
    """Cash ``a`` must pay in 1..6 steps (index 0 = next step)."""
    out = [0.0] * HORIZON
    for o in eco.mail.inbox[a]:
        if not o.fulfilled:
            out[o.t_pay - eco.t - 1] += o.amount
    return out


def inflows(eco: Economy, a: int) -> list[float]:
    """Cash ``a`` expects in 1..6 steps from the obligations it is owed."""
    out = [0.0] * HORIZON
    for o in eco.mail.outbox[a]:
        if not o.fulfilled:
            k = o.t_receive - eco.t - 1
            if k > -1:
                out[k] += o.amount
    return out


def matured(eco: Economy, a: int) -> list[Obligation]:
    return [o for o in eco.mail.inbox[a] if o.t_pay == eco.t and not o.fulfilled]


# ---------------------------------------------------------------------------------------------
# Repayments, pulls and liquidation
# ---------------------------------------------------------------------------------------------
def _reduce_principal(c, k: int, amount: float) -> None:
    if c.kind[k] == Kind.OTHER:
        c.principal[k] = c.principal[k] - amount
    else:
        c.principal[k] = abs(c.principal[k] - amount)


def _credit(eco: Economy, lender: int, amount: float) -> None:
    if eco.cfg.crediting == Crediting.HEAD:
        eco.book.cash[lender] += amount
    else:
        eco.mail.postbox.append((lender, amount))


def pay_loan(eco: Economy, k: int, amount: float) -> None:
    """The peer's ``pay_loan``: the borrower pays ``amount`` (at most the principal) to the lender."""
    c, cash = eco.contracts, eco.book.cash
    amount = min(amount, c.principal[k])
    borrower, lender = c.borrower[k], c.lender[k]
    if borrower != OUTSIDE:
        cash[borrower] -= amount
        if lender != OUTSIDE and c.kind[k] != Kind.OTHER:
            _credit(eco, lender, amount)
    elif lender != OUTSIDE:
        cash[lender] += amount
    _reduce_principal(c, k, amount)


def repay(eco: Economy, k: int, amount: float) -> None:
    """A repayment to delever (``PayLoan``): with F off the lender is credited at once."""
    c = eco.contracts
    if eco.cfg.funding_contagion:
        pay_loan(eco, k, amount)
        return
    if c.lender[k] != OUTSIDE:
        eco.book.cash[c.lender[k]] += amount
    eco.book.cash[c.borrower[k]] -= amount
    _reduce_principal(c, k, amount)


def pull(eco: Economy, k: int, amount: float) -> None:
    """A lender recalls ``amount`` of contract ``k`` (``PullFunding``)."""
    c = eco.contracts
    borrower = c.borrower[k]
    if borrower == OUTSIDE:
        pay_loan(eco, k, amount)
    elif not eco.cfg.funding_contagion:
        eco.book.cash[c.lender[k]] += amount
        c.add_external_loan(borrower, amount)  # the outside refinances the borrower
        _reduce_principal(c, k, amount)
    else:
        c.pulled[k] += amount
        o = Obligation(k, amount, borrower, c.lender[k], eco.t)
        eco.mail.postbox.append((borrower, o))
        eco.mail.outbox[c.lender[k]].append(o)


def fulfil(eco: Economy, o: Obligation) -> None:
    pay_loan(eco, o.contract, o.amount)
    c = eco.contracts
    c.pulled[o.contract] = max(0.0, c.pulled[o.contract] - o.amount)
    o.fulfilled = True


def liquidate_loan(eco: Economy, k: int) -> None:
    """A defaulted borrower's loan or other liability: the lender recovers principal x (1 - LGD)."""
    c = eco.contracts
    if c.kind[k] == Kind.LOAN:
        if c.lender[k] == OUTSIDE:
            return
        eco.book.cash[c.lender[k]] += c.principal[k] * (1.0 - eco.cfg.lgd)
    c.pulled[k] = 0.0
    c.principal[k] = 0.0
