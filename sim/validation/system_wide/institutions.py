"""Balance sheets of the peer economy: banks, hedge funds, asset managers, passive holders (SPEC.md §1).

The book is array-shaped: one row per active institution in the peer's agent-list order (48 banks,
then the 48 hedge funds if on, then the 5 funds if on), one column per tradable security. Loans,
deposits, other liabilities and repos are rows of :class:`.contracts.Contracts`; this module builds
the positions and the market depth and leaves the liabilities to :func:`build_liabilities`.

Positions exist where the portfolio weight is positive (the peer creates a contract only for a
positive amount). Collateral a bank seizes from a defaulted hedge fund is kept apart
(``seized_*``): it counts in the bank's assets but, as in the peer, not in its risk-weighted assets
or its liquid assets, because the peer counts only the securities a bank held at the start.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from sim.validation.system_wide.data import BankData
from sim.validation.system_wide.networks import N_FUNDS
from sim.validation.system_wide.sums import ledger_sum
from sim.validation.system_wide.universe import CLASS_SLICES, LEDGER_ORDER, N_SECURITIES, SEIZED_ORDER

class Group(IntEnum):
    """Agent types of the peer economy (participant groups of the cascade)."""

    BANK = 0
    HEDGE_FUND = 1
    FUND = 2


# ECB Q4 2017 hedge-fund aggregates (SPEC.md §1.2), EUR million.
HF_AGGREGATE_ASSETS = 490300
HF_CASH, HF_EQUITIES, HF_DEBT, HF_GOV_OF_DEBT = 82700, 93300, 120700, 13900
HF_OTHER_TRADABLES = 134700 + 58900
HF_LEVERAGE_TARGET = 1 / 2.3

#: The five representative funds (SPEC.md §1.3): TA, cash, equities, debt securities, of which gov,
#: other tradables, other liabilities.
FUNDS = (
    ("Rep. Bond Fund", 3518300, 175800, 32400, 2861000, 526800, 219800 + 229300, 233900 + 48000),
    ("Rep. Equity Fund", 3422200, 100300, 2850800, 53200, 9300, 276000 + 141100, 136400 + 25100),
    ("Rep. Mixed Fund", 3109300, 180100, 551500, 1173700, 264600, 1016400 + 185900, 165100 + 42200),
    ("Rep. Real Estate Fund", 722800, 101100, 112800, 11700, 1000, 68500 + 77100, 41100 + 106300),
    ("Rep. Other Fund", 1070500, 177500, 184800, 286900, 38100, 323400 + 88200, 66700 + 129900),
)
FUND_SHARES = 100

#: Passive non-bank holders (SPEC.md §1.4): vehicle corporations + insurers and pension funds +
#: lending corporations, per class.
PASSIVE_TOTALS = (
    0.5 * 225100 + 1935600 + 0.5 * 32050,
    0.5 * 225100 + (3931700 - 1935600) + 0.5 * 32050,
    0 + 984000 + 31374,
    (1222100 + 103400 + 72900) + (2614000 + 116400) + 0,
)


@dataclass(frozen=True)
class Layout:
    """Rows of each group in the book, in the peer's agent-list order."""

    n_banks: int
    hedge_funds: bool
    funds: bool

    @property
    def hf_rows(self) -> range:
        return range(self.n_banks, self.n_banks + (self.n_banks if self.hedge_funds else 0))

    @property
    def fund_rows(self) -> range:
        start = self.hf_rows.stop
        return range(start, start + (N_FUNDS if self.funds else 0))

    @property
    def n(self) -> int:
        return self.fund_rows.stop

    def group_of(self) -> np.ndarray:
        g = np.full(self.n, Group.BANK, dtype=int)
        g[self.hf_rows.start:self.hf_rows.stop] = Group.HEDGE_FUND
        g[self.fund_rows.start:self.fund_rows.stop] = Group.FUND
        return g


class Book:
    """Positions of every institution (EUR million; prices start at 1, so units = value at t = 0).

    ``holdings`` stacks two blocks of rows: 0..N-1 the securities each institution held at the start,
    N..2N-1 the collateral it seized; ``units`` and ``seized_units`` are views of them (as are
    ``for_sale`` and ``seized_for_sale`` of ``reserved``, the units put up for sale, not yet settled).
    """

    def __init__(self, names: list[str], group: np.ndarray, cash: np.ndarray, units: np.ndarray,
                 other_assets: np.ndarray, external: np.ndarray):
        n, k = units.shape
        self.names, self.group, self.cash = names, group, cash
        self.encumbered_cash = np.zeros(n)
        self.holdings = np.zeros((2 * n, k))
        self.holdings[:n] = units
        self.reserved = np.zeros((2 * n, k))
        self.units, self.seized_units = self.holdings[:n], self.holdings[n:]
        self.for_sale, self.seized_for_sale = self.reserved[:n], self.reserved[n:]
        self.held = units > 0                       # a position (contract) exists
        self.seized_held = np.zeros((n, k), dtype=bool)
        # columns of each institution's positions, in the peer's ledger order and by asset class
        # (values outside them are zero, and adding zero changes no sum)
        self.ledger_cols = [LEDGER_ORDER[self.held[a, LEDGER_ORDER]] for a in range(n)]
        self.class_cols = [[s.start + np.flatnonzero(self.held[a, s]) for s in CLASS_SLICES] for a in range(n)]
        self.seized_cols = [np.zeros(0, dtype=int) for _ in range(n)]
        self.encumbered = np.zeros((n, k))          # units pledged as repo collateral
        self.other_assets, self.external = other_assets, external
        self.payee = np.concatenate([np.arange(n), np.arange(n)])   # whose cash each holding row pays

    def ue_cash(self, a: int) -> float:
        """Unencumbered cash of institution ``a``."""
        return float(self.cash[a] - self.encumbered_cash[a])

    def seize(self, a: int, cols: np.ndarray, units: np.ndarray) -> None:
        """Institution ``a`` takes ``units`` of securities ``cols`` as collateral of a defaulted borrower."""
        self.seized_units[a, cols] += units
        self.seized_held[a, cols] |= units > 0
        self.seized_cols[a] = SEIZED_ORDER[self.seized_held[a, SEIZED_ORDER]]

    def row(self, a: int, seized: bool) -> int:
        """Holding row of institution ``a``'s own (or seized) positions."""
        return a + len(self.cash) if seized else a


@dataclass(frozen=True)
class BankSheet:
    """Derived bank quantities of SPEC.md §1.1 (arrays over banks)."""

    assets: np.ndarray           # A = T1C / lambda
    liabilities: np.ndarray      # L = A - T1C
    sixth: np.ndarray            # A / 6: cash, tradables, interbank, reverse repo, other, external
    quarter: np.ndarray          # L / 4: deposits, interbank borrowing, repo borrowing, other
    class_values: np.ndarray     # (48, 4) gov, corp, equities, other tradables
    at1e: np.ndarray
    delta_e: np.ndarray


def bank_sheet(data: BankData) -> BankSheet:
    """A, L and the class values of each bank, with the peer's rescaling of large bond holdings."""
    n = data.n
    assets, liabilities, sixth, quarter = (np.zeros(n) for _ in range(4))
    classes = np.zeros((n, 4))
    for i in range(n):
        a = data.t1c[i] / data.leverage[i]
        sixth[i], quarter[i] = a / 6, (a - data.t1c[i]) / 4
        assets[i], liabilities[i] = a, a - data.t1c[i]
        gov, corp, tradable = data.gov_bonds[i], data.corp_bonds[i], a / 6
        bonds = gov + corp
        nonbonds = tradable - bonds
        if nonbonds <= 0:
            nonbonds = tradable / 2
            gov *= (tradable / 2) / bonds
            corp *= (tradable / 2) / bonds
        classes[i] = (gov, corp, nonbonds / 2, nonbonds / 2)
    at1e = data.t1c - data.cet1e
    delta_e = data.t1c - (data.cet1e + at1e + data.t2c)
    return BankSheet(assets, liabilities, sixth, quarter, classes, at1e, delta_e)


def hf_scale(rrepo: np.ndarray) -> float:
    """Q of SPEC.md §1.2: the share of a bank's reverse repo lent to its hedge fund."""
    return HF_AGGREGATE_ASSETS / ledger_sum(np.asarray(rrepo, dtype=float)) * (1 - HF_LEVERAGE_TARGET)


def hf_class_values(rrepo_i: float, q: float) -> tuple[float, np.ndarray]:
    """Cash and (gov, corp, equities, other tradables) of hedge fund i, in the peer's arithmetic."""
    total = rrepo_i * q / (1 - HF_LEVERAGE_TARGET)
    gov_fraction = HF_GOV_OF_DEBT / HF_DEBT
    debt_weight = HF_DEBT / HF_AGGREGATE_ASSETS
    classes = np.array([gov_fraction * debt_weight * total, (1 - gov_fraction) * debt_weight * total,
                        HF_EQUITIES / HF_AGGREGATE_ASSETS * total, HF_OTHER_TRADABLES / HF_AGGREGATE_ASSETS * total])
    return HF_CASH / HF_AGGREGATE_ASSETS * total, classes


def spread(class_values: np.ndarray, weights: list[np.ndarray], row: int) -> np.ndarray:
    """Units of each of the 93 securities: class value x the holder's portfolio weights."""
    return np.concatenate([class_values[c] * weights[c][row] for c in range(4)])


@dataclass(frozen=True)
class Positions:
    """Positions of every holder row of the portfolio network, and the market depth (SPEC.md §1.5)."""

    bank_units: np.ndarray      # (48, K)
    hf_units: np.ndarray        # (48, K)
    hf_cash: np.ndarray         # (48,)
    fund_units: np.ndarray      # (5, K)
    depth: np.ndarray           # (K,) total quantity of each security, identical in every configuration


def positions(sheet: BankSheet, weights: list[np.ndarray], q: float) -> Positions:
    """Spread every holder's class values over securities and add up the market depth in the peer's
    order (passive holders, banks, hedge funds, funds), hedge funds and funds counted even when off."""
    n = len(sheet.assets)
    depth = np.zeros(N_SECURITIES)
    passive = [(w[-1] + w[-2] + w[-3] + w[-4] + w[-5]) / 5 for w in weights]
    depth += np.concatenate([PASSIVE_TOTALS[c] * passive[c] for c in range(4)])
    bank_units = np.array([spread(sheet.class_values[i], weights, i) for i in range(n)])
    for i in range(n):
        depth += bank_units[i]
    hf_units, hf_cash = np.zeros((n, N_SECURITIES)), np.zeros(n)
    for i in range(n):
        hf_cash[i], classes = hf_class_values(sheet.sixth[i], q)
        hf_units[i] = spread(classes, weights, n + i)
        depth += hf_units[i]
    fund_units = np.zeros((N_FUNDS, N_SECURITIES))
    for j, (_, _, _, eq, debt, gov, ot, _) in enumerate(FUNDS):
        fund_units[j] = spread(np.array([gov, debt - gov, eq, ot]), weights, 2 * n + j)
        depth += fund_units[j]
    return Positions(bank_units, hf_units, hf_cash, fund_units, depth)


def fund_other_assets(j: int) -> float:
    _, total, cash, eq, debt, _, ot, _ = FUNDS[j]
    return total - (cash + eq + debt + ot)


def build_book(layout: Layout, names: tuple[str, ...], sheet: BankSheet, pos: Positions) -> Book:
    """The asset side of every active institution (liabilities are contracts)."""
    n, k = layout.n, N_SECURITIES
    units = np.zeros((n, k))
    cash, other, external = np.zeros(n), np.zeros(n), np.zeros(n)
    nb = layout.n_banks
    units[:nb] = pos.bank_units
    cash[:nb], other[:nb], external[:nb] = sheet.sixth, sheet.sixth, sheet.sixth
    row_names = list(names)
    if layout.hedge_funds:
        units[layout.hf_rows.start:layout.hf_rows.stop] = pos.hf_units
        cash[layout.hf_rows.start:layout.hf_rows.stop] = pos.hf_cash
        row_names += list(names)  # hedge fund i carries bank i's name
    if layout.funds:
        for j, row in enumerate(layout.fund_rows):
            units[row] = pos.fund_units[j]
            cash[row] = FUNDS[j][2]
            other[row] = max(fund_other_assets(j), 0.0)
            row_names.append(FUNDS[j][0])
    units = np.where(units > 0, units, 0.0)
    return Book(row_names, layout.group_of(), cash, units, other, external)
