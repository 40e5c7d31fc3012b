"""Building the economy at t=0 (MODEL.md §3): the agents, their rows of the book, and the claims
between them. Sizes within a type are heterogeneous draws from the model's generator; the order of
draws is part of the model (same seed, same economy).
"""

from __future__ import annotations

import numpy as np

from agents.ai_lab import AILab, AILabs
from agents.central_bank import CentralBank
from agents.hedge_fund import HedgeFund, HedgeFunds
from agents.hyperscaler import Hyperscaler, Hyperscalers
from agents.neocloud import Neocloud, Neoclouds
from agents.private_credit import PrivateCreditFund, PrivateCreditFunds
from agents.retail import RetailPopulation
from agents.sovereign import SovereignFund, Sovereigns
from sim import draws
from sim.balance_sheets import Book
from sim.config_sections import weight_vector
from sim.domain import Asset

def build_economy(model) -> None:
    """Create every agent and group of ``model`` and lay out its book (sets ``model.holders``,
    ``model.book``, ``model.alive`` and one group attribute per agent type)."""
    c = model.cfg
    hyperscalers = [Hyperscaler(model, f) for f in c.hyperscalers.firms]
    neoclouds = [Neocloud(model, f"Neocloud {i + 1}") for i in range(c.neoclouds.count)]
    pc_funds = [PrivateCreditFund(model, f"Credit fund {i + 1}") for i in range(c.private_credit.count)]
    sovereigns = [SovereignFund(model, f"Sovereign {i + 1}") for i in range(c.sovereigns.count)]
    hedge_funds = [HedgeFund(model, f"Hedge fund {i + 1}", c.hedge_funds.leverage) for i in range(c.hedge_funds.count)]
    labs = [AILab(model, lab) for lab in c.ai_labs.labs]
    model.retail = RetailPopulation(model, c.retail, model.rng)
    model.central_bank = CentralBank(model, c.central_bank)
    model.holders = [*hyperscalers, *neoclouds, *pc_funds, *sovereigns, *hedge_funds, *labs, model.retail]
    for row, agent in enumerate(model.holders):
        agent.row = row
    model.alive = np.ones(len(model.holders), dtype=bool)
    b = model.book = Book(len(model.holders), len(Asset))
    _hyperscaler_books(b, hyperscalers, c.hyperscalers.operating_assets_per_ocf)
    fleet, advance, nav, gross = _neocloud_and_credit_books(model, b, neoclouds, pc_funds)
    hf_equity, hf_leverage = _hedge_fund_books(model, b, hedge_funds)
    commitments = _sovereign_books(model, b, sovereigns, labs, nav, hf_equity)
    for lab in labs:
        b.cash[lab.row] = lab.params.cash_bn
    model.hyperscalers = Hyperscalers(model, hyperscalers)
    nc = c.neoclouds
    model.neoclouds = Neoclouds(model, neoclouds, advance, np.minimum(advance + nc.covenant_headroom, nc.covenant_ltv_max))
    model.pc_funds = PrivateCreditFunds(model, pc_funds)
    model.sovereigns = Sovereigns(model, sovereigns, commitments)
    model.hedge_funds = HedgeFunds(model, hedge_funds, hf_leverage)
    providers, shares = _compute_contracts(model, fleet)
    model.labs = AILabs(model, labs, providers, shares)
    # retail: the population agent keeps its own arrays; its row mirrors the totals
    model.retail.sync_book_row()
    b.initial_cash_total = model.total_cash()


def _sizes(model, n: int, total: float) -> np.ndarray:
    """Heterogeneous sizes that sum to ``total``: a function of the seed (lognormal,
    sigma ``simulation.size_dispersion``)."""
    if n == 0:
        return np.zeros(0)
    w = draws.lognormal(model.rng, 0.0, model.cfg.simulation.size_dispersion, n)
    return total * w / w.sum()


def _hyperscaler_books(b: Book, hyperscalers: list[Hyperscaler], operating_assets_per_ocf: float) -> None:
    for h in hyperscalers:
        f = h.firm
        b.cash[h.row] = f.cash_bn - f.ust_bn              # cash_bn is cash and short-term investments
        b.units[h.row, Asset.UST] = f.ust_bn
        b.external_debt[h.row] = f.debt_bn
        b.other_assets[h.row] = operating_assets_per_ocf * f.ocf_bn     # PP&E and other operating assets at book


def _neocloud_and_credit_books(model, b: Book, neoclouds: list, pc_funds: list):
    """GPU fleets financed by private-credit loans: each neocloud borrows from 1-3 funds chosen by
    size. Returns (fleets, advance rates, fund NAVs, fund gross assets)."""
    c, rng = model.cfg, model.rng
    nc, pc = c.neoclouds, c.private_credit
    nc_rows = np.array([a.row for a in neoclouds], dtype=int)
    pc_rows = np.array([a.row for a in pc_funds], dtype=int)
    fleet = _sizes(model, nc.count, nc.gpu_value_bn)
    b.units[nc_rows, Asset.USED_GPU] = fleet
    b.cash[nc_rows] = _sizes(model, nc.count, nc.cash_bn) if nc.count else 0.0
    nav = _sizes(model, pc.count, pc.nav_bn)
    gross = nav * (1.0 + pc.fund_leverage)
    b.lender_rows = pc_rows
    b.borrower_rows = nc_rows
    b.gpu_loans = np.zeros((pc.count, nc.count))
    advance = np.clip(nc.advance_rate + rng.uniform(-1, 1, nc.count) * nc.advance_rate_spread, 0.0, nc.advance_rate_max)
    if pc.count and nc.count:
        for j in range(nc.count):   # each neocloud borrows from 1 to lenders_max funds, chosen by size
            k = int(rng.integers(1, min(nc.lenders_max, pc.count) + 1))
            lenders = rng.choice(pc.count, size=k, replace=False, p=gross / gross.sum())
            split = draws.dirichlet(rng, np.ones(k), 1)[0]
            b.gpu_loans[lenders, j] = advance[j] * fleet[j] * split
    liquid_weights = np.array(weight_vector(pc.liquid_weights))
    liquid_weights /= liquid_weights.sum()
    for i, fund in enumerate(pc_funds):
        r = fund.row
        liquid = pc.liquid_share * gross[i]
        b.cash[r] = pc.liquid_cash_share * liquid
        b.units[r] += (1.0 - pc.liquid_cash_share) * liquid * liquid_weights
        fund.software_principal_bn = pc.software_loan_share * gross[i]
        gpu = b.gpu_loans[i].sum()
        fund.other_loans_bn = max(gross[i] - liquid - fund.software_principal_bn - gpu, 0.0)
        b.other_assets[r] = fund.software_principal_bn + fund.other_loans_bn
        b.external_debt[r] = pc.fund_leverage * nav[i]
        b.fund_units_outstanding[r] = nav[i]
    return fleet, advance, nav, gross


def _hedge_fund_books(model, b: Book, hedge_funds: list) -> tuple[np.ndarray, np.ndarray]:
    """Strategies differ: leverage spread around the mean (lognormal with mean one, sigma
    ``leverage_dispersion``; at least 1) and portfolio weights drawn around the average book
    (Dirichlet, ``weight_concentration``). Returns (equity, leverage) per fund."""
    hf, rng = model.cfg.hedge_funds, model.rng
    s = hf.leverage_dispersion
    weights0 = np.array(weight_vector(hf.portfolio_weights))
    hf_equity = _sizes(model, hf.count, hf.equity_bn)
    hf_leverage = np.maximum(1.0, hf.leverage * draws.lognormal(rng, -0.5 * s * s, s, hf.count))
    hf_weights = draws.dirichlet(rng, hf.weight_concentration * weights0 + 1e-3, hf.count) * (weights0 > 0)
    for i, fund in enumerate(hedge_funds):
        r = fund.row
        fund.target_leverage = float(hf_leverage[i])
        w = hf_weights[i] / hf_weights[i].sum()
        b.units[r] = hf_equity[i] * hf_leverage[i] * w
        b.external_debt[r] = hf_equity[i] * (hf_leverage[i] - 1.0)
        b.fund_units_outstanding[r] = hf_equity[i]
    return hf_equity, hf_leverage


def _sovereign_books(model, b: Book, sovereigns: list, labs: list, pc_nav: np.ndarray, hf_equity: np.ndarray):
    """Liquid portfolios, stakes in hedge funds and private-credit funds, and commitments to labs
    (returned: sovereigns x labs, $bn undrawn)."""
    c = model.cfg
    sv, hf, pc = c.sovereigns, c.hedge_funds, c.private_credit
    hf_rows = np.array([a.row for a in model.holders if a.kind == "hedge_fund"], dtype=int)
    pc_rows = np.array([a.row for a in model.holders if a.kind == "private_credit"], dtype=int)
    aum = _sizes(model, sv.count, sv.aum_bn)
    weights = np.array(weight_vector(sv.portfolio_weights))
    total_hf_nav = hf_equity.sum()
    for i, fund in enumerate(sovereigns):
        r = fund.row
        share = aum[i] / aum.sum() if sv.count else 0.0
        b.cash[r] = sv.cash_share * aum[i]
        hf_stake = min(sv.hedge_fund_share * aum[i], hf.sovereign_share * total_hf_nav * share)
        if hf.count:
            b.fund_units[r, hf_rows] = hf_stake * hf_equity / total_hf_nav
        pc_stake = pc.sovereign_share * pc_nav * share
        if pc.count:
            b.fund_units[r, pc_rows] = pc_stake
        rest = aum[i] - b.cash[r] - hf_stake - pc_stake.sum()
        b.units[r] = max(rest, 0.0) * weights / weights.sum()
    sov_share = aum / aum.sum() if sv.count else np.zeros(0)
    lab_share = np.array([lab.params.commitment_share for lab in labs])
    return sv.commitments_bn * np.outer(sov_share, lab_share)


def _compute_contracts(model, fleet: np.ndarray) -> tuple[list, np.ndarray]:
    """Compute contracts: labs pay neoclouds (lab_revenue_share of neocloud rents) and the
    hyperscalers with a ``lab_contract_share``; each lab spends in the same proportions. Returns
    (providers, [lab, provider] shares of each lab's compute bill)."""
    c = model.cfg
    nc = c.neoclouds
    labs = c.ai_labs.labs
    lab_compute = sum(lab.compute_bn_per_yr for lab in labs)
    neocloud_rent = fleet * nc.rent_yield * nc.utilisation
    to_neoclouds = nc.lab_revenue_share * neocloud_rent
    hs_share = np.array([h.firm.lab_contract_share for h in model.hyperscalers])
    providers, shares = [], []
    nc_total_share = min(to_neoclouds.sum() / lab_compute, 1.0) if lab_compute > 0 else 0.0
    hs_total = hs_share.sum()
    hs_scale = (1.0 - nc_total_share) / hs_total if hs_total > 0 else 0.0
    for h, s in zip(model.hyperscalers, hs_share):
        if s > 0:
            providers.append(h)
            shares.append(s * hs_scale)
    nc_split = to_neoclouds / to_neoclouds.sum() if to_neoclouds.sum() > 0 else to_neoclouds
    for agent, s in zip(model.neoclouds, nc_split):
        providers.append(agent)
        shares.append(nc_total_share * s if hs_total > 0 else s)
    shares = np.array(shares)
    return providers, np.tile(shares / shares.sum() if shares.sum() > 0 else shares, (len(labs), 1))
