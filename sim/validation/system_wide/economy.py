"""The state of one run of the peer economy and its valuations (SPEC.md §1, §7).

:class:`Economy` holds the book (positions), the contracts, the market, the mailboxes, who is alive
and the agents' order for this step; each group's own parameters sit in :class:`BankRules`,
:class:`HedgeFundRules` and :class:`FundState`. :func:`build_economy` initialises a run exactly in the
peer's order: balance sheets, interbank network, repos, calibration, buffers, then the EBA shock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from sim.validation.system_wide.config import PeerConfig
from sim.validation.system_wide.contracts import Contracts, ContractsBuilder, Kind, Mailboxes, OUTSIDE
from sim.validation.system_wide.data import BankData
from sim.validation.system_wide.institutions import (
    FUND_SHARES, FUNDS, Book, BankSheet, Layout, Positions, build_book, hf_scale)
from sim.validation.system_wide.market import PeerMarket
from sim.validation.system_wide.sums import ledger_sum
from sim.validation.system_wide.universe import LEDGER_ORDER, SEIZED_ORDER


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
        values = np.concatenate((b.units[a, LEDGER_ORDER] * p[LEDGER_ORDER],
                                 b.seized_units[a, SEIZED_ORDER] * p[SEIZED_ORDER],
                                 (b.other_assets[a], b.external[a]),
                                 self.contracts.principal[self.contracts.of_lender[a]]))
        return ledger_sum(values) + float(b.cash[a])

    def liability_value(self, a: int) -> float:
        return ledger_sum(self.contracts.principal[self.contracts.of_borrower[a]])

    def equity(self, a: int) -> float:
        return self.asset_value(a) - self.liability_value(a)

    def ue_cash(self, a: int) -> float:
        return float(self.book.cash[a] - self.book.encumbered_cash[a])


# ---------------------------------------------------------------------------------------------
# Building a run
# ---------------------------------------------------------------------------------------------
def _bank_liabilities(builder: ContractsBuilder, sheet: BankSheet, interbank: np.ndarray,
                      remainder: np.ndarray) -> None:
    n = len(sheet.assets)
    for i in range(n):
        builder.add(Kind.OTHER, OUTSIDE, i, sheet.quarter[i])
        builder.add(Kind.DEPOSIT, OUTSIDE, i, sheet.quarter[i])
    for i in range(n):
        for j in range(n):
            if i != j and interbank[i, j] != 0:
                builder.add(Kind.LOAN, i, j, interbank[i, j])
    for i in range(n):
        if remainder[i] < 0:
            raise ValueError(f"bank {i}: negative interbank borrowing left to the outside ({remainder[i]})")
        if remainder[i] > 0:
            builder.add(Kind.LOAN, OUTSIDE, i, remainder[i])


def _repos(builder: ContractsBuilder, cfg: PeerConfig, layout: Layout, book: Book, sheet: BankSheet,
           q: float, haircuts: np.ndarray) -> dict[int, float]:
    """Repos in the peer's order; returns cash collateral pledged per contract id (SPEC.md §1.2, §3.3)."""
    from sim.validation.system_wide.repos import linked_tranches
    cash_collateral: dict[int, float] = {}

    def init_repo(lender: int, borrower: int, principal: float) -> None:
        if principal <= 0:
            return
        if cfg.funding_contagion and lender != OUTSIDE and borrower != OUTSIDE:
            for tranche, amount, cash in linked_tranches(book, borrower, haircuts, principal):
                k = builder.add(Kind.REPO, lender, borrower, amount, tranche)
                if cash:
                    cash_collateral[k] = cash
            return
        if lender != OUTSIDE:
            builder.add(Kind.REPO, lender, OUTSIDE, principal)
        if borrower != OUTSIDE:
            builder.add(Kind.REPO, OUTSIDE, borrower, principal)

    for i in range(layout.n_banks):
        rrepo = sheet.sixth[i]
        if layout.hedge_funds:
            init_repo(i, layout.hf_rows[i], rrepo * q)
            init_repo(i, OUTSIDE, (1 - q) * rrepo)
        else:
            init_repo(i, OUTSIDE, rrepo)
        init_repo(OUTSIDE, i, sheet.quarter[i])
    return cash_collateral


def build_economy(cfg: PeerConfig, data: BankData, sheet: BankSheet, pos: Positions,
                  interbank: np.ndarray, remainder: np.ndarray, stream: random.Random) -> Economy:
    """One run's economy after calibration, buffers and the EBA shock (SPEC.md §1-5)."""
    from sim.validation.system_wide import constraints
    layout = Layout(data.n, cfg.hedge_funds, cfg.funds)
    book = build_book(layout, data.names, sheet, pos)
    market = PeerMarket.create(pos.depth, cfg.price_impact, cfg.haircut_contagion)
    builder = ContractsBuilder()
    _bank_liabilities(builder, sheet, interbank, remainder)
    for j, row in enumerate(layout.fund_rows):
        builder.add(Kind.OTHER, OUTSIDE, row, FUNDS[j][7])
    q = hf_scale(sheet.sixth)
    cash_collateral = _repos(builder, cfg, layout, book, sheet, q, market.haircuts)
    contracts = builder.freeze(layout.n)
    for k, cash in cash_collateral.items():
        contracts.cash_collateral[k] = cash
    banks = BankRules(at1e=sheet.at1e.copy(), t2c=data.t2c.copy(), delta_e=sheet.delta_e.copy(),
                      delta_a=np.zeros(data.n), weights={}, lcr_den=np.zeros(data.n))
    eco = Economy(cfg, layout, book, contracts, market, banks, None, None, stream)
    constraints.calibrate(eco, data)
    eco.hedge_funds = constraints.hedge_fund_rules(eco) if layout.hedge_funds else None
    eco.funds = _fund_state(eco) if layout.funds else None
    constraints.set_buffers(eco, data)
    constraints.apply_eba_shock(eco, data)
    return eco


def _fund_state(eco: Economy) -> FundState:
    rows = list(eco.layout.fund_rows)
    nav = np.array([eco.equity(r) / FUND_SHARES for r in rows])
    shares = np.full(len(rows), float(FUND_SHARES))
    cash_fraction = np.array([eco.book.cash[r] / eco.asset_value(r) for r in rows])
    return FundState(shares=shares, shares_initial=shares.copy(), nav_initial=nav, nav_previous=nav.copy(),
                     loss_previous=np.zeros(len(rows)), redeem_previous=np.zeros(len(rows)),
                     cash_fraction=cash_fraction)
