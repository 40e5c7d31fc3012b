"""The state of one run of the peer economy and its valuations (SPEC.md §1, §7).

:class:`Economy` holds the book (positions), the contracts, the market, the mailboxes, who is alive
and the agents' order for this step; each group's own parameters sit in :class:`BankRules`,
:class:`HedgeFundRules` and :class:`FundState`. :mod:`.build` initialises it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from sim.validation.system_wide.config import PeerConfig
from sim.validation.system_wide.institutions import Book, Layout
from sim.validation.system_wide.ledger import Contracts, Mailboxes
from sim.validation.system_wide.market import PeerMarket
from sim.validation.system_wide.sums import ledger_sum


@dataclass
class BankRules:
    """Per bank: capital bookkeeping, risk weights, buffers and targets (SPEC.md §1.1, §4)."""

    at1e: np.ndarray
    t2c: np.ndarray
    delta_e: np.ndarray
    delta_a: np.ndarray
    weights: dict[str, np.ndarray]    # risk weights by category, each (n_banks,)
    lcr_den: np.ndarray
    rwcr_buffer: np.ndarray = None
    rwcr_target: np.ndarray = None
    lev_buffer: np.ndarray = None
    lev_target: np.ndarray = None


@dataclass
class HedgeFundRules:
    leverage_initial: np.ndarray   # (A - L) / A at the start (after the repos)
    uec_fraction: np.ndarray       # unencumbered cash / A at the start


@dataclass
class FundState:
    """The asset managers' shares and NAV history (SPEC.md §8.3); arrays over the five funds."""

    shares: np.ndarray
    shares_initial: np.ndarray
    nav_initial: np.ndarray
    nav_previous: np.ndarray
    loss_previous: np.ndarray
    redeem_previous: np.ndarray    # shares to pay out at the next act
    cash_fraction: np.ndarray


@dataclass
class Snapshot:
    """What an agent may do this step, fixed when it starts to act (the peer's available actions)."""

    sell_own: np.ndarray       # (K,) bool
    sell_seized: np.ndarray    # (K,) bool
    pull: np.ndarray           # contract ids it may recall (loans first, then reverse repos)
    pay: np.ndarray            # contract ids it may repay


@dataclass
class Economy:
    cfg: PeerConfig
    layout: Layout
    book: Book
    contracts: Contracts
    market: PeerMarket
    banks: BankRules
    hedge_funds: HedgeFundRules | None
    funds: FundState | None
    stream: random.Random
    mail: Mailboxes = None
    t: int = 0
    alive: np.ndarray = None
    marked: np.ndarray = None
    order: list[int] = None
    snapshots: list = field(default=None)
    sheet: object = None                            # the round's order sheet (sim.engine.OrderSheet)
    defaults: dict = field(default_factory=dict)   # group -> list of defaults per step

    def __post_init__(self):
        n = self.layout.n
        self.mail = Mailboxes.empty(n)
        self.alive = np.ones(n, dtype=bool)
        self.marked = np.zeros(n, dtype=bool)
        self.order = list(range(n))
        self.snapshots = [None] * n

    # -- valuations (SPEC.md §1.1: assets at market value, loans at principal) -------------------
    def asset_value(self, a: int) -> float:
        """Cash + securities at market (seized ones too) + other + external + loans lent (principal)."""
        b, p = self.book, self.market.prices
        own, seized = b.ledger_cols[a], b.seized_cols[a]
        values = np.concatenate((b.units[a, own] * p[own], b.seized_units[a, seized] * p[seized],
                                 (b.other_assets[a], b.external[a]),
                                 self.contracts.principal[self.contracts.of_lender[a]]))
        return ledger_sum(values) + float(b.cash[a])

    def liability_value(self, a: int) -> float:
        return ledger_sum(self.contracts.principal[self.contracts.of_borrower[a]])

    def equity(self, a: int) -> float:
        return self.asset_value(a) - self.liability_value(a)

    def ue_cash(self, a: int) -> float:
        return float(self.book.cash[a] - self.book.encumbered_cash[a])
