"""The contract ledger of the peer economy: loans, deposits, other liabilities, repos, obligations.

Every liability is a row of :class:`Contracts` with a lender and a borrower (``OUTSIDE`` = the
external node, which never defaults and pays at once); funding recalled under funding contagion
becomes an :class:`Obligation` the borrower must pay two steps later. What institutions do with these
rows (repay, recall, liquidate) is :mod:`.contracts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

OUTSIDE = -1
EPS = 8e-9           # the peer library's tolerance (resilience.parameters.eps)
TIMESTEPS_TO_PAY = 2
HORIZON = 3 * TIMESTEPS_TO_PAY   # cash-flow horizon of the liquidity management (6 steps)


class Kind(IntEnum):
    DEPOSIT = 0
    OTHER = 1      # other liabilities: repayable, never pulled, no lender
    LOAN = 2       # interbank loans and loans from the external node
    REPO = 3


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
