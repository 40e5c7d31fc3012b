"""Initialising a run exactly in the peer's order (SPEC.md §1-5).

Balance sheets of banks (and hedge funds and funds when on), the interbank network and the loans
from outside, the repos (linked and collateralised when funding contagion is on), calibration of the
risk weights and the LCR, buffers and extra capital, then the EBA 2018 adverse shock.
"""

from __future__ import annotations

import random

import numpy as np

from sim.validation.system_wide import constraints
from sim.validation.system_wide.config import PeerConfig
from sim.validation.system_wide.data import BankData
from sim.validation.system_wide.institutions import (
    FUND_SHARES, FUNDS, Book, BankSheet, Layout, Positions, build_book, hf_scale)
from sim.validation.system_wide.ledger import OUTSIDE, ContractsBuilder, Kind
from sim.validation.system_wide.market import PeerMarket
from sim.validation.system_wide.repos import linked_tranches
from sim.validation.system_wide.state import BankRules, Economy, FundState


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
    layout = Layout(data.n, cfg.hedge_funds, cfg.funds)
    book = build_book(layout, data.names, sheet, pos)
    market = PeerMarket.create(pos.depth, cfg.price_impact, cfg.haircut_contagion, cfg.impact_law)
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
