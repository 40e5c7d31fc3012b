"""Regulation: risk-weighted capital, leverage and LCR of banks, hedge-fund leverage (SPEC.md §4, §5, §8).

Bank capital: CET1E(t) = E(t) - AT1E - T2C - DeltaE; leverage (CET1E + AT1E) / (A - DeltaA);
CET1 ratio CET1E / RWA. A bank defaults when its CET1 ratio falls below 4.5 % or its leverage below
3 % (less 8e-9); it acts when a ratio is below its buffer and aims at buffer + 1 %. Risk weights are
calibrated so the model's RWA matches the EBA data (with the peer's quirk when the weight on other
assets reaches 1); the EBA 2018 adverse scenario is then applied as a write-down of the external
asset and a leverage-exposure adjustment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.validation.system_wide import config as C
from sim.validation.system_wide.ledger import EPS, Kind
from sim.validation.system_wide.data import BankData
from sim.validation.system_wide.sums import ledger_sum
from sim.validation.system_wide.universe import AssetClass

from sim.validation.system_wide.state import HedgeFundRules

if TYPE_CHECKING:
    from sim.validation.system_wide.state import Economy

#: Base risk weights (SPEC.md §4.2), in the peer's key order.
BASE_WEIGHTS = {"corpbonds": 1.00, "govbonds": 0.00, "equities": 0.75, "othertradables": 1.00,
                "loan": 0.4, "repo": 0.1, "external": 0.35, "other": 0.01}
#: Tradable classes in the order the peer adds them up in RWA.
RWA_CLASS_ORDER = (("equities", AssetClass.EQUITIES), ("corpbonds", AssetClass.CORP_BONDS),
                   ("govbonds", AssetClass.GOV_BONDS), ("othertradables", AssetClass.OTHER_TRADABLES))


# ---------------------------------------------------------------------------------------------
# Bank ratios
# ---------------------------------------------------------------------------------------------
def cet1e(eco: Economy, i: int, equity: float | None = None) -> float:
    r = eco.banks
    e = eco.equity(i) if equity is None else equity
    return e - (r.at1e[i] + r.t2c[i]) - r.delta_e[i]


def leverage(eco: Economy, i: int) -> float:
    a = eco.asset_value(i)
    capital = cet1e(eco, i, a - eco.liability_value(i))
    return (capital + eco.banks.at1e[i]) / (a - eco.banks.delta_a[i])


def _class_value_net_of_sales(eco: Economy, i: int, cls: AssetClass) -> float:
    b, cols = eco.book, eco.book.class_cols[i][cls]
    return ledger_sum((b.units[i, cols] - b.for_sale[i, cols]) * eco.market.prices[cols])


def _lent_net_of_pulls(eco: Economy, i: int, kind: Kind) -> float:
    c = eco.contracts
    ids = c.of_lender[i]
    ids = ids[c.kind[ids] == kind]
    return ledger_sum(c.principal[ids] - c.pulled[ids])


def rwa(eco: Economy, i: int, weights: dict[str, float] | None = None) -> float:
    """Risk-weighted assets: securities held since the start net of orders, other, external, loans
    and reverse repos net of pulled funding (SPEC.md §4.2)."""
    w = weights if weights is not None else {k: v[i] for k, v in eco.banks.weights.items()}
    total = 0.0
    for name, cls in RWA_CLASS_ORDER:
        total += w[name] * _class_value_net_of_sales(eco, i, cls)
    total += w["other"] * eco.book.other_assets[i]
    total += w["external"] * eco.book.external[i]
    total += w["loan"] * _lent_net_of_pulls(eco, i, Kind.LOAN)
    total += w["repo"] * _lent_net_of_pulls(eco, i, Kind.REPO)
    return total


def rwa_ratio(eco: Economy, i: int, equity: float | None = None) -> float:
    return cet1e(eco, i, equity) / rwa(eco, i)


def is_insolvent(eco: Economy, i: int) -> bool:
    """Default test of every bank act (both the CET1 and the leverage test are on)."""
    e = eco.equity(i)
    return rwa_ratio(eco, i, e) < C.RWCR_MIN - EPS or leverage(eco, i) < C.LEVERAGE_MIN - EPS


def gov_bond_value(eco: Economy, i: int) -> float:
    """Market value of the government bonds held since the start (orders included)."""
    b, cols = eco.book, eco.book.class_cols[i][AssetClass.GOV_BONDS]
    return ledger_sum(b.units[i, cols] * eco.market.prices[cols])


def hqla(eco: Economy, i: int, cash_raised: float = 0.0) -> float:
    return eco.ue_cash(i) + gov_bond_value(eco, i) + cash_raised


def cash_buffer(eco: Economy, i: int) -> float:
    return max(C.LCR_BUFFER * eco.banks.lcr_den[i] - gov_bond_value(eco, i), 0.0)


def bank_amount_to_delever(eco: Economy, i: int) -> float:
    """D* = max(0, CET1E / lambda - CET1E / lambda_target) when lambda is below its buffer."""
    lev = leverage(eco, i)
    if not lev < eco.banks.lev_buffer[i] - EPS:
        return 0.0
    capital = cet1e(eco, i)
    return max(0.0, capital / lev - capital / eco.banks.lev_target[i])


# ---------------------------------------------------------------------------------------------
# Hedge-fund leverage (SPEC.md §8.2)
# ---------------------------------------------------------------------------------------------
def hf_leverage(eco: Economy, h: int) -> float:
    a = eco.asset_value(h)
    return 0.0 if a == 0 else (a - eco.liability_value(h)) / a


def effective_min_leverage(eco: Economy, h: int) -> float:
    """The leverage at which the fund's repos would just absorb its haircut-weighted assets."""
    b, m = eco.book, eco.market
    cash = float(b.cash[h])
    cols = b.ledger_cols[h]
    values = b.units[h, cols] * m.prices[cols]
    collateral = cash + ledger_sum(values)
    if collateral == 0:
        return 0.0
    repo = ledger_sum(eco.contracts.principal[eco.contracts.repos_of(h)])
    denominator = cash / collateral + ledger_sum((1 - m.haircuts[cols]) * values) / collateral
    eligible_minimum = repo / denominator if denominator > 0 else 0.0
    a_minimum = eligible_minimum + b.other_assets[h] + b.external[h]
    return (a_minimum - repo) / a_minimum if a_minimum > 0 else 0.0


def hf_amount_to_delever(eco: Economy, h: int, row: int) -> float:
    lev = hf_leverage(eco, h)
    eml = effective_min_leverage(eco, h)
    initial = eco.hedge_funds.leverage_initial[row]
    if not lev < (initial - eml) / 3 + eml:
        return 0.0
    e = eco.equity(h)
    return e / lev - e / ((initial - eml) * 2 / 3 + eml)


# ---------------------------------------------------------------------------------------------
# Initialisation: calibration, buffers, shock
# ---------------------------------------------------------------------------------------------
def calibrate(eco: Economy, data: BankData) -> None:
    """Risk weights per bank (SPEC.md §4.2) and the fixed LCR denominator (SPEC.md §1.1)."""
    n = data.n
    weights = {k: np.zeros(n) for k in BASE_WEIGHTS}
    for i in range(n):
        w = dict(BASE_WEIGHTS)
        rwa_data = cet1e(eco, i) / data.cet1_ratio[i]
        rwa_base = rwa(eco, i, w)
        rw_other = rwa_data - rwa_base
        rescale = True
        if rw_other >= 0:
            other = eco.book.other_assets[i]
            if other > 0 and rw_other / other < 1:
                w["other"] = rw_other / other
                rescale = False
            else:
                w["other"] = 1
        if rescale:
            mul = rwa_data / rwa_base
            w = {k: (v if k == "other" else mul * v) for k, v in w.items()}
        for k, v in w.items():
            weights[k][i] = v
    eco.banks.weights = weights
    sixth = data.t1c / data.leverage / 6
    eco.banks.lcr_den = (sixth + data.gov_bonds) / (C.INITIAL_LCR_PCT / 100)


def hedge_fund_rules(eco: Economy) -> HedgeFundRules:
    rows = list(eco.layout.hf_rows)
    lev, uec = np.zeros(len(rows)), np.zeros(len(rows))
    for j, h in enumerate(rows):
        a = eco.asset_value(h)
        if a != 0:
            lev[j] = hf_leverage(eco, h)
            uec[j] = eco.ue_cash(h) / a
    return HedgeFundRules(leverage_initial=lev, uec_fraction=uec)


def combined_buffer(data: BankData) -> tuple[np.ndarray, np.ndarray]:
    """rho_CB = 2.5 % + max(G-SIB, O-SII, SRB) + CCyB and the leverage add-on BF (SPEC.md §4.1)."""
    rho_cb = C.CAPITAL_CONSERVATION + np.maximum(np.maximum(data.gsib_surcharge, data.osii_surcharge),
                                                 data.systemic_risk_buffer) + data.ccyb
    bf = np.where(data.is_gsib, data.gsib_surcharge, C.NON_GSIB_LEVERAGE_SURCHARGE) / 2
    return rho_cb, bf


def change_liability(eco: Economy, i: int, delta: float) -> None:
    """Add ``delta`` to bank i's liabilities, drawing down other liabilities, then deposits, then repos."""
    c = eco.contracts
    ids = c.of_borrower[i]
    other, deposit = ids[c.kind[ids] == Kind.OTHER][0], ids[c.kind[ids] == Kind.DEPOSIT][0]
    new_other = c.principal[other] + delta
    if new_other >= 0:
        c.principal[other] = new_other
        return
    c.principal[other] = 0.0
    new_deposit = c.principal[deposit] + new_other
    if new_deposit >= 0:
        c.principal[deposit] = new_deposit
        return
    c.principal[deposit] = 0.0
    repo = c.repos_of(i)
    old = ledger_sum(c.principal[repo])
    if old + new_deposit < 0:
        raise ValueError(f"bank {i}: cannot lower its liabilities by {-delta}")
    c.principal[repo] = c.principal[repo] * (old + new_deposit) / old


def set_buffers(eco: Economy, data: BankData) -> None:
    """Buffers and targets per bank; with y > 1 the bank also gets the extra capital (SPEC.md §4.1)."""
    cfg, r = eco.cfg, eco.banks
    rho_cb, bf = combined_buffer(data)
    r.lev_buffer = C.LEVERAGE_MIN + C.USABILITY * cfg.lev_y * bf
    r.lev_target = r.lev_buffer + C.LEVERAGE_EXCESS_TARGET
    r.rwcr_buffer = C.RWCR_MIN + C.USABILITY * cfg.rwa_y * rho_cb
    r.rwcr_target = r.rwcr_buffer + C.RWCR_EXCESS_TARGET
    for i in range(data.n):
        if cfg.rwa_y > 1:
            change_liability(eco, i, -(cfg.rwa_y * rho_cb[i] - rho_cb[i]) * rwa(eco, i))
        if cfg.lev_y > 1:
            offset = cfg.lev_y * bf[i] - bf[i]
            change_liability(eco, i, -offset * (eco.asset_value(i) - r.delta_a[i]))


def apply_eba_shock(eco: Economy, data: BankData) -> None:
    """EBA 2018 adverse scenario (SPEC.md §5): write the external asset down to move the CET1 ratio
    by the adverse change, then set leverage to its adverse level through DeltaA."""
    r = eco.banks
    for i in range(data.n):
        shock = min(0.0, data.adverse_cet1_ratio[i] - data.cet1_ratio[i])
        shock_lev = min(0.0, data.adverse_leverage[i] - data.leverage[i])
        lev_adverse = leverage(eco, i) + shock_lev
        risk = rwa(eco, i)
        rho = rwa_ratio(eco, i)
        delta_ext = shock * risk / (1 - (rho + shock) * r.weights["external"][i])
        external = eco.book.external[i]
        eco.book.external[i] = external - min(external, -delta_ext)
        if external < -delta_ext:
            offset = rho + shock - rwa_ratio(eco, i)
            change_liability(eco, i, -offset * rwa(eco, i))
        lev_after = leverage(eco, i)
        r.delta_a[i] += (eco.asset_value(i) - r.delta_a[i]) * (1 - lev_after / lev_adverse)
