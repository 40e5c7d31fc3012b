"""What institutions do with their contracts: repay, recall funding, pay obligations, liquidate (SPEC.md §7).

Funding recalled when funding contagion (F) is on becomes an obligation: the lender's demand reaches
the borrower at the next step's mailbox pass and must be paid one step later, or the borrower
defaults. With F off the external node meets every recall at once and refinances the borrower.

Crediting (:class:`.config.Crediting`): when a borrower repays a loan, the current peer library
(``HEAD``) credits the lender at once; the paper-era one (``V08``) posts the cash, which the lender
receives at the next mailbox pass. With F off the lender is always credited at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.validation.system_wide.config import Crediting
from sim.validation.system_wide.ledger import HORIZON, OUTSIDE, Kind, Obligation

if TYPE_CHECKING:
    from sim.validation.system_wide.state import Economy


def alive_or_outside(alive: np.ndarray, parties: np.ndarray) -> np.ndarray:
    return (parties == OUTSIDE) | alive[np.maximum(parties, 0)]


def eligible(eco: Economy, ids: np.ndarray) -> np.ndarray:
    """The peer's ``is_eligible``: a loan acts while principal > 0, principal > pulled and both
    parties live; an other liability while principal > 0."""
    c = eco.contracts
    loan_ok = ((c.principal[ids] > 0) & (c.principal[ids] > c.pulled[ids])
               & alive_or_outside(eco.alive, c.lender[ids]) & alive_or_outside(eco.alive, c.borrower[ids]))
    return np.where(c.kind[ids] == Kind.OTHER, c.principal[ids] > 0, loan_ok)


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
