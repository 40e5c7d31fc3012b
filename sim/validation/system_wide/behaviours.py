"""Behaviour of banks and hedge funds in one step (SPEC.md §8.1, §8.2).

Both run the peer's liquidity management ("St Patrick's Day algorithm"): meet the next two steps'
obligations by selling, then later ones by recalling funding and selling, then delever towards the
leverage target. A bank then restores its CET1 ratio (recalling loans and reverse repos and selling
securities in order of risk weight) and its LCR; a hedge fund first meets its margin calls and last
tops its cash up to its initial share of assets.

Each function acts for one institution (a row of the book); the group classes in :mod:`.groups`
call them in the step's shuffled order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.validation.system_wide import constraints as K
from sim.validation.system_wide.actions import (
    Reason, pay_off_liabilities, perform_pulls, pull_ids, raise_liquidity, sell, take_snapshot)
from sim.validation.system_wide.config import FUND_REDEMPTION_MULTIPLIER, HF_CASH_BUFFER, LCR_BUFFER, LCR_TARGET
from sim.validation.system_wide.contracts import commitments, fulfil, inflows, liquidate_loan, matured
from sim.validation.system_wide.ledger import EPS, Kind
from sim.validation.system_wide.universe import CLASS_SLICES, N_SECURITIES, AssetClass
from sim.validation.system_wide.repos import liquidate_repo, margin_call, shortfall_next_call
from sim.validation.system_wide.sums import peer_sum

if TYPE_CHECKING:
    from sim.validation.system_wide.state import Economy

EARLY_STEPS = 2  # obligations due within TIMESTEPS_TO_PAY steps are met by selling only


class Default(Exception):
    """Raised inside an act when the institution defaults (the peer's DefaultException)."""


def pay_matured_or_default(eco: Economy, a: int) -> None:
    """Pay every obligation due now if unencumbered cash covers them all, else default (liquidity)."""
    due = matured(eco, a)
    total = peer_sum(o.amount for o in due)
    if total > 0:
        if eco.ue_cash(a) >= total - EPS:
            for o in due:
                fulfil(eco, o)
        else:
            raise Default


def _expected(eco: Economy, a: int, balance: float, k: int, flows_in, flows_out, rescue) -> float:
    balance += flows_in[k]
    balance -= flows_out[k]
    if balance < 0:
        balance += rescue(eco, a, -balance, Reason.OBLIGATIONS)
    return balance


def liquidity_management(eco: Economy, a: int, bank: bool, hf_row: int = -1) -> float | None:
    """Steps 1-4 of SPEC.md §8.1 (shared by hedge funds); returns the bank's CET1E (None for a fund)."""
    balance = eco.ue_cash(a)
    flows_in, flows_out = inflows(eco, a), commitments(eco, a)
    lowest = balance
    for k in range(EARLY_STEPS):
        balance = _expected(eco, a, balance, k, flows_in, flows_out, sell)
        lowest = min(lowest, balance)
    capital = None
    if not bank:
        for repo in eco.contracts.repos_of(a):
            short = shortfall_next_call(eco, repo)
            if short:
                sell(eco, a, short, Reason.MARGIN_CALL)
    else:
        capital = K.cet1e(eco, a)
        if capital < 0:
            return capital
    for k in range(EARLY_STEPS, len(flows_out)):
        balance = _expected(eco, a, balance, k, flows_in, flows_out, raise_liquidity)
        lowest = min(lowest, balance)
    if bank:
        to_delever = K.bank_amount_to_delever(eco, a)
        buffer = K.cash_buffer(eco, a)
    else:
        to_delever = K.hf_amount_to_delever(eco, a, hf_row)
        buffer = eco.asset_value(a) * HF_CASH_BUFFER
    delever = min(lowest, eco.ue_cash(a) - buffer, to_delever)
    if delever > 0:
        delever = pay_off_liabilities(eco, a, delever)
        to_delever -= delever
    balance -= delever
    if balance < to_delever:
        balance += raise_liquidity(eco, a, to_delever - balance, Reason.LEVERAGE)
    return capital


# ---------------------------------------------------------------------------------------------
# Banks
# ---------------------------------------------------------------------------------------------
def _class_mask(eco: Economy, a: int, cls: AssetClass) -> tuple[np.ndarray, np.ndarray]:
    snap = eco.snapshots[a]
    in_class = np.zeros(N_SECURITIES, dtype=bool)
    in_class[CLASS_SLICES[cls]] = True
    return snap.sell_own & in_class, snap.sell_seized & in_class


def restore_rwcr(eco: Economy, i: int, capital: float) -> float:
    """Step 5: reduce RWA to CET1E / target, recalling interbank loans, then reverse repos, then
    selling corporate bonds, other tradables, equities; returns the value raised."""
    w = {k: v[i] for k, v in eco.banks.weights.items()}
    target = eco.banks.rwcr_target[i]
    risk = K.rwa(eco, i)
    loans, repos = pull_ids(eco, i)
    steps = [(w["loan"], lambda x: perform_pulls(eco, loans, x)),
             (w["repo"], lambda x: perform_pulls(eco, repos, x))]
    for name, cls in (("corpbonds", AssetClass.CORP_BONDS), ("othertradables", AssetClass.OTHER_TRADABLES),
                      ("equities", AssetClass.EQUITIES)):
        own, seized = _class_mask(eco, i, cls)
        steps.append((w[name], lambda x, own=own, seized=seized: sell(eco, i, x, Reason.RISK_WEIGHTED, own, seized)))
    raised = 0.0
    for weight, act in steps:
        if weight == 0:
            continue
        x = (risk - capital / target) / weight
        if x <= 0:
            return raised
        done = act(x)
        risk -= done * weight
        raised += done
        if abs(done - x) < EPS:
            return raised
    return raised


def bank_act(eco: Economy, i: int) -> None:
    """One bank's act (SPEC.md §8.1); raises :class:`Default`."""
    if K.is_insolvent(eco, i):
        raise Default
    capital = liquidity_management(eco, i, bank=True)
    if capital < 0:
        return
    raised = 0.0
    if K.rwa_ratio(eco, i) < eco.banks.rwcr_buffer[i]:
        raised = restore_rwcr(eco, i, capital)
    den = eco.banks.lcr_den[i]
    liquid = K.hqla(eco, i, raised)
    if liquid / den < LCR_BUFFER:
        raise_liquidity(eco, i, max(LCR_TARGET * den, 0.0) - liquid, Reason.LIQUIDITY_COVERAGE)


def bank_default(eco: Economy, i: int) -> None:
    """A defaulted bank sells everything it can, recalls what it can and its liabilities are
    liquidated: lenders recover principal x (1 - LGD); deposits are untouched (SPEC.md §7.1)."""
    sell(eco, i)
    fresh = take_snapshot(eco, i)   # recall everything still eligible (a dead lender has nothing)
    perform_pulls(eco, fresh.pull, None)
    c = eco.contracts
    owed = c.of_borrower[i]
    for kind in (Kind.LOAN, Kind.REPO, Kind.OTHER):
        for k in owed[c.kind[owed] == kind]:
            if kind == Kind.REPO:
                liquidate_repo(eco, int(k))
            else:
                liquidate_loan(eco, int(k))


# ---------------------------------------------------------------------------------------------
# Hedge funds
# ---------------------------------------------------------------------------------------------
def hedge_fund_act(eco: Economy, h: int, row: int) -> None:
    """One hedge fund's act (SPEC.md §8.2); raises :class:`Default`."""
    if eco.cfg.margin_calls:
        for repo in eco.contracts.repos_of(h):
            if margin_call(eco, int(repo)):
                raise Default
    liquidity_management(eco, h, bank=False, hf_row=row)
    assets = eco.asset_value(h)
    if assets == 0:
        return
    ue = eco.ue_cash(h)
    initial = eco.hedge_funds.uec_fraction[row]
    if ue / assets < 0.9 * initial:
        sell(eco, h, initial * assets - ue, Reason.CASH_TARGET)


def hedge_fund_default(eco: Economy, h: int) -> None:
    """A defaulted hedge fund sells what is unencumbered; its repos pass their collateral to the banks."""
    sell(eco, h)
    for repo in eco.contracts.repos_of(h):
        liquidate_repo(eco, int(repo))


# ---------------------------------------------------------------------------------------------
# Asset managers (no investors are modelled: redemptions are cash outflows)
# ---------------------------------------------------------------------------------------------
def fund_act(eco: Economy, f: int, row: int) -> None:
    """One fund's act (SPEC.md §8.3): pay last step's redemptions, then sell to meet the redemptions
    its NAV loss triggers (2.5 shares per unit of relative loss), then top up its cash share."""
    st = eco.funds
    nav = eco.equity(f) / st.shares[row] if st.shares[row] > 0 else 0.0
    if nav < 0:
        raise Default
    payout = st.redeem_previous[row] * st.nav_previous[row]
    if eco.ue_cash(f) < payout:
        raise Default
    eco.book.cash[f] -= payout
    st.shares[row] -= st.redeem_previous[row]
    loss = (st.nav_initial[row] - nav) / st.nav_initial[row]
    if loss > st.loss_previous[row]:
        extra = float(np.clip(FUND_REDEMPTION_MULTIPLIER * st.shares_initial[row] * (loss - st.loss_previous[row]),
                              0, st.shares[row]))
        sell(eco, f, extra * nav, Reason.REDEMPTION)
        st.redeem_previous[row] = extra
    else:
        st.redeem_previous[row] = 0.0
    st.loss_previous[row] = loss
    st.nav_previous[row] = nav
    assets, cash = eco.asset_value(f), float(eco.book.cash[f])
    if cash / assets < 0.9 * st.cash_fraction[row]:
        sell(eco, f, assets * st.cash_fraction[row] - cash, Reason.CASH_TARGET)


def fund_default(eco: Economy, f: int) -> None:
    sell(eco, f)
