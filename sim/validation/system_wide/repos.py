"""Repos: collateral, haircuts and margin calls (SPEC.md §1.2, §7.2).

A hedge fund's repo from its bank is secured, tranche by tranche, on its corporate bonds, then
equities, other tradables, government bonds, and finally cash; a tranche's collateral is the fund's
encumbered units of that asset class (each class backs one tranche at most). With collateral
contagion (C) on, each act the fund meets last step's margin call (or defaults), then tops up or
takes back collateral to cover the principal at haircut values, and stores the new call for the next
step (a one-step lag). When the fund defaults the collateral passes to the bank, which sells it at
once; cash collateral stays with the fund.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.validation.system_wide.actions import Reason, put_for_sale
from sim.validation.system_wide.ledger import EPS, OUTSIDE
from sim.validation.system_wide.institutions import Book
from sim.validation.system_wide.sums import ledger_sum
from sim.validation.system_wide.universe import CLASS_SLICES, AssetClass

if TYPE_CHECKING:
    from sim.validation.system_wide.state import Economy

#: The order in which a hedge fund pledges asset classes (SPEC.md §1.2).
PLEDGE_ORDER = (AssetClass.CORP_BONDS, AssetClass.EQUITIES, AssetClass.OTHER_TRADABLES, AssetClass.GOV_BONDS)
CASH_TRANCHE = 2   # cash tops up the third tranche (other tradables), as in the peer


def linked_tranches(book: Book, hf: int, haircuts: np.ndarray, principal: float) -> list[tuple[int, float, float]]:
    """Secure ``principal`` on hedge fund ``hf``'s assets at t = 0 (prices 1).

    Returns (asset class, principal, cash collateral) per tranche; encumbers the units and cash.
    """
    out: list[list] = []
    remainder = principal
    for cls in PLEDGE_ORDER:
        s = CLASS_SLICES[cls]
        held = book.held[hf, s]
        ue = book.units[hf, s] - book.encumbered[hf, s]
        room = ledger_sum((ue * 1.0 * (1 - haircuts[s]))[held])
        pledge = min(room, remainder)
        pledged = 0.0
        if room > 0:
            units = np.where(held, ue * (min(pledge, room) / room), 0.0)
            book.encumbered[hf, s] += units
            pledged = ledger_sum((units * 1.0 * (1 - haircuts[s]))[held])
        cash = 0.0
        if pledge - pledged > 0:
            cash = min(pledge - pledged, book.ue_cash(hf))
            book.encumbered_cash[hf] += cash
        short = pledge < remainder
        out.append([int(cls), pledge if short else remainder, cash])
        remainder -= pledge
        if not short:
            return [tuple(t) for t in out]
    cash = min(remainder, book.ue_cash(hf))
    book.encumbered_cash[hf] += cash
    out[CASH_TRANCHE][1] += cash
    out[CASH_TRANCHE][2] += cash
    if cash < remainder:
        raise ValueError(f"hedge fund row {hf} cannot collateralise its repo at the start")
    return [tuple(t) for t in out]


# ---------------------------------------------------------------------------------------------
# Collateral values of one repo contract k
# ---------------------------------------------------------------------------------------------
def _cols(eco: Economy, k: int):
    return CLASS_SLICES[eco.contracts.tranche[k]]


def max_ue_haircutted(eco: Economy, k: int) -> float:
    """Haircut value of the borrower's unencumbered units of the repo's collateral class."""
    if eco.contracts.tranche[k] < 0:
        return 0.0
    hf, b, m = eco.contracts.borrower[k], eco.book, eco.market
    cols = b.class_cols[hf][eco.contracts.tranche[k]]
    return ledger_sum((b.units[hf, cols] - b.encumbered[hf, cols]) * m.prices[cols] * (1 - m.haircuts[cols]))


def haircutted_collateral(eco: Economy, k: int) -> float:
    """Haircut value of the collateral pledged to repo ``k``, cash included."""
    cash = eco.contracts.cash_collateral[k]
    if eco.contracts.tranche[k] < 0:
        return float(cash)
    hf, m, b = eco.contracts.borrower[k], eco.market, eco.book
    cols = b.class_cols[hf][eco.contracts.tranche[k]]
    return ledger_sum(m.prices[cols] * b.encumbered[hf, cols] * (1.0 - m.haircuts[cols])) + float(cash)


def pledge(eco: Economy, k: int, total: float) -> None:
    """Pledge ``total`` of haircut value: units pro rata to what is unencumbered, the rest in cash."""
    c, b, m = eco.contracts, eco.book, eco.market
    hf = c.borrower[k]
    room = max_ue_haircutted(eco, k)
    pledged = 0.0
    if room > 0:
        s = _cols(eco, k)
        factor = min(total, room) / room
        units = np.where(b.held[hf, s], (b.units[hf, s] - b.encumbered[hf, s]) * factor, 0.0)
        b.encumbered[hf, s] += units
        pledged = ledger_sum((units * m.prices[s] * (1 - m.haircuts[s]))[b.held[hf, s]])
    remainder = total - pledged
    if remainder > 0:
        cash = min(remainder, eco.ue_cash(hf))
        b.encumbered_cash[hf] += cash
        c.cash_collateral[k] += cash


def unpledge(eco: Economy, k: int, excess: float) -> None:
    """Return ``excess`` of haircut value: cash collateral first, then units pro rata."""
    c, b = eco.contracts, eco.book
    hf = c.borrower[k]
    cash = min(excess, c.cash_collateral[k])
    c.cash_collateral[k] -= cash
    b.encumbered_cash[hf] -= cash
    remainder = excess - cash
    if remainder <= EPS:
        return
    initial = haircutted_collateral(eco, k)
    if initial > 0 and c.tranche[k] >= 0:
        s = _cols(eco, k)
        pledged = b.encumbered[hf, s]
        b.encumbered[hf, s] = pledged - np.minimum(pledged, pledged * (remainder / initial))


def margin_call(eco: Economy, k: int) -> bool:
    """The borrower's margin call on repo ``k`` (equation 39 of the peer); True if it fails."""
    c = eco.contracts
    hf = c.borrower[k]
    ceiling = max_ue_haircutted(eco, k) + eco.ue_cash(hf)
    if c.prev_call[k] > 0:
        if c.prev_call[k] > ceiling:
            c.prev_call[k] = ceiling
            pledge(eco, k, ceiling)
            return True
        pledge(eco, k, c.prev_call[k])
    call = c.principal[k] - haircutted_collateral(eco, k)
    if call < 0:
        unpledge(eco, k, -call)
    call = c.principal[k] - haircutted_collateral(eco, k)
    c.future_call[k] = call
    c.future_max[k] = max_ue_haircutted(eco, k) + eco.ue_cash(hf)
    c.prev_call[k] = call
    return False


def shortfall_next_call(eco: Economy, k: int) -> float:
    """Value to sell now so that next step's call can be met (0 if it can)."""
    c = eco.contracts
    if c.future_call[k] > 0 and c.future_call[k] > c.future_max[k]:
        return float(c.future_call[k] - c.future_max[k])
    return 0.0


def liquidate_repo(eco: Economy, k: int) -> None:
    """A defaulted borrower's repo: the collateral units pass to the lender, who orders them all sold."""
    c, b = eco.contracts, eco.book
    lender, hf = c.lender[k], c.borrower[k]
    if c.tranche[k] >= 0 and lender != OUTSIDE:
        s = _cols(eco, k)
        units = b.encumbered[hf, s].copy()
        b.units[hf, s] -= units
        b.encumbered[hf, s] -= units
        cols = np.arange(s.start, s.stop)
        b.seize(lender, cols, units)
        for col, u in zip(cols, units):
            if u > 0:
                put_for_sale(eco, lender, int(col), float(u), True, Reason.DEFAULT)
    c.principal[k] = 0.0
