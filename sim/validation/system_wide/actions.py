"""What an institution can do in a step: sell, recall funding, repay (SPEC.md §8, the peer's actions).

Every action is performed *proportionally* over the eligible contracts of one kind, as in Greenwood
et al. (2015) and Cont & Schaanning (2017): contract i gets ``max_i * amount / sum(max)``, and
shares of at most 8e-9 are skipped. Which contracts are eligible is fixed when the institution
starts to act (:func:`take_snapshot`), as the peer fixes its list of available actions; the amounts
are read live.

A sale is an *order*: the units stay on the book (valued at market) until the next clearing, but
they no longer count in risk-weighted assets and cannot be sold twice.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from sim.validation.system_wide.contracts import eligible, pull, repay
from sim.validation.system_wide.ledger import EPS, Kind
from sim.validation.system_wide.state import Snapshot
from sim.validation.system_wide.sums import ledger_sum
from sim.validation.system_wide.universe import LEDGER_ORDER, SEIZED_ORDER

if TYPE_CHECKING:
    from sim.validation.system_wide.state import Economy


class Reason(StrEnum):
    """Why an institution sells: the label of its orders on the round's sheet."""

    OBLIGATIONS = "obligations"            # recalled funding falls due
    MARGIN_CALL = "margin_call"            # next step's call exceeds the collateral at hand
    LEVERAGE = "leverage"                  # delevering towards the leverage target
    RISK_WEIGHTED = "risk_weighted_capital"   # restoring the CET1 ratio
    LIQUIDITY_COVERAGE = "lcr"             # restoring the LCR
    CASH_TARGET = "cash_target"            # a fund topping up its cash share
    REDEMPTION = "redemption"              # an asset manager meeting redemptions
    DEFAULT = "default"                    # a defaulted institution selling everything

    @property
    def priority(self) -> int:
        """Rank for :meth:`sim.engine.OrderSheet.put` (the peer itself only adds orders up)."""
        return list(Reason).index(self)


def take_snapshot(eco: Economy, a: int) -> Snapshot:
    """The contracts ``a`` may act on this step (the peer's ``get_available_actions``)."""
    b, c = eco.book, eco.contracts
    sell_own = b.held[a] & ((b.units[a] - b.encumbered[a]) > b.for_sale[a])
    sell_seized = b.seized_held[a] & (b.seized_units[a] > b.seized_for_sale[a])
    lent = c.of_lender[a]
    lent = lent[eligible(eco, lent)] if len(lent) else lent
    owed = c.of_borrower[a]
    owed = owed[eligible(eco, owed)] if len(owed) else owed
    snap = Snapshot(sell_own, sell_seized, lent, owed)
    eco.snapshots[a] = snap
    return snap


def perform_proportionally(maxes: np.ndarray, amount: float | None) -> tuple[float, np.ndarray]:
    """(amount performed, per-contract amounts with shares <= 8e-9 set to zero).

    ``maxes`` lists what each eligible contract can do, in the peer's ledger order (the total is the
    peer's ``sum()`` over them).
    """
    maximum = ledger_sum(maxes)
    if amount is None:
        amount = maximum
    if maximum <= 0.0 or amount <= 0.0:
        return 0.0, np.zeros_like(maxes)
    done = min(maximum, amount)
    each = maxes * done / maximum
    return done, np.where(each > EPS, each, 0.0)


# ---------------------------------------------------------------------------------------------
# Sales
# ---------------------------------------------------------------------------------------------
def put_for_sale(eco: Economy, a: int, k: int, units: float, seized: bool, reason: Reason) -> None:
    """Order ``units`` of security ``k`` (the peer's ``put_for_sale``, with its tolerances)."""
    b, price = eco.book, eco.market.prices[k]
    if abs(units) < EPS:
        units = 0.0
    if units == 0 or price <= EPS:
        return
    held = b.seized_units[a, k] if seized else b.units[a, k]
    effective = held * price / price
    if abs(effective - units) <= 2 * EPS:
        units = effective
    (b.seized_for_sale if seized else b.for_sale)[a, k] += units
    eco.sheet.add(b.row(a, seized), k, units, reason)


def sell(eco: Economy, a: int, amount: float | None = None, reason: Reason = Reason.DEFAULT,
         mask_own=None, mask_seized=None) -> float:
    """Sell ``amount`` of value (all if None) proportionally over the eligible positions (the
    snapshot's, or the given masks'), in ledger order: own positions, then seized collateral."""
    snap = eco.snapshots[a]
    if snap is None:
        return 0.0
    b, p = eco.book, eco.market.prices
    own_cols = LEDGER_ORDER[(snap.sell_own if mask_own is None else mask_own)[LEDGER_ORDER]]
    seized_cols = SEIZED_ORDER[(snap.sell_seized if mask_seized is None else mask_seized)[SEIZED_ORDER]]
    p_own, p_seized = p[own_cols], p[seized_cols]
    maxes = np.concatenate(((b.units[a, own_cols] - b.encumbered[a, own_cols]) * p_own - b.for_sale[a, own_cols] * p_own,
                            b.seized_units[a, seized_cols] * p_seized - b.seized_for_sale[a, seized_cols] * p_seized))
    done, each = perform_proportionally(maxes, amount)
    if done == 0.0:
        return 0.0
    cols = np.concatenate((own_cols, seized_cols))
    n_own = len(own_cols)
    for i in np.flatnonzero(each):
        k = int(cols[i])
        if p[k] > 0:
            units = each[i] / p[k]
            if abs(units) > EPS:
                put_for_sale(eco, a, k, float(units), i >= n_own, reason)
    return done


# ---------------------------------------------------------------------------------------------
# Funding: recall (lender) and repay (borrower)
# ---------------------------------------------------------------------------------------------
def perform_pulls(eco: Economy, ids: np.ndarray, amount: float | None) -> float:
    """Recall ``amount`` proportionally over the given contracts (all they can give if None)."""
    if len(ids) == 0:
        return 0.0
    done, each = perform_proportionally(eco.contracts.max_action(ids), amount)
    for k, x in zip(ids, each):
        if x > 0:
            pull(eco, int(k), float(x))
    return done


def pull_ids(eco: Economy, a: int) -> tuple[np.ndarray, np.ndarray]:
    """The snapshot's recallable interbank loans and reverse repos."""
    snap = eco.snapshots[a]
    ids = snap.pull
    kinds = eco.contracts.kind[ids]
    return ids[kinds != Kind.REPO], ids[kinds == Kind.REPO]


def pull_funding(eco: Economy, a: int, amount: float) -> tuple[float, bool]:
    """Recall ``amount``: interbank loans first, then reverse repos. Returns (recalled, enough)."""
    loans, repos = pull_ids(eco, a)
    done = perform_pulls(eco, loans, amount)
    if amount <= 0 or abs(done - amount) < EPS:
        return amount, True
    rest = amount - done
    done_repo = perform_pulls(eco, repos, rest)
    return done + done_repo, rest <= 0 or abs(done_repo - rest) < EPS


def raise_liquidity(eco: Economy, a: int, amount: float, reason: Reason) -> float:
    """Pecking order: recall funding (pre-default pulls are on), then sell for the shortfall."""
    pulled, enough = pull_funding(eco, a, amount)
    if enough:
        return pulled
    return pulled + sell(eco, a, amount - pulled, reason)


def pay_off_liabilities(eco: Economy, a: int, amount: float) -> float:
    """Delever: repay ``amount`` proportionally over every eligible liability."""
    ids = eco.snapshots[a].pay
    if len(ids) == 0:
        return 0.0
    done, each = perform_proportionally(eco.contracts.max_action(ids), amount)
    for k, x in zip(ids, each):
        if x > 0:
            repay(eco, int(k), float(x))
    return done
