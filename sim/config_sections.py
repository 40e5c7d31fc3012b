"""The sections of a config: frozen, validated pydantic models, one per part of the model.

Every number the model uses lives here with its unit in the name or description; MODEL.md's
parameter table is generated from these models (``scripts/model_params.py``) with the source of
each default. :mod:`sim.config` assembles them into :class:`sim.config.Config` and loads YAML.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from sim.domain import ASSETS
from sim.messages import closest as closest_name
from sim.value_checks import StrictData


class _Strict(StrictData):
    """A config section (:class:`sim.value_checks.StrictData`)."""


def check_asset_weights(weights: dict[str, float], where: str) -> None:
    """Weights by asset name: known assets, none negative, not all zero (ValueError naming ``where``)."""
    for k, v in weights.items():
        if k not in ASSETS:
            raise ValueError(f"unknown asset {k!r} in {where}{closest_name(k, ASSETS)}; allowed: {', '.join(ASSETS)}")
        if not (v >= 0):
            raise ValueError(f"{where}.{k} must be >= 0 (got {v})")
    if weights and sum(weights.values()) <= 0:
        raise ValueError(f"{where} must not all be zero")


def weight_vector(weights: dict[str, float]) -> "list[float]":
    """The weights in the column order of ASSETS (0 for assets not named)."""
    return [float(weights.get(a, 0.0)) for a in ASSETS]


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------
class SimulationConfig(_Strict):
    steps: int = Field(156, ge=1, le=5200, description="weekly steps in a run")
    max_cascade_rounds: int = Field(5, ge=1, le=200, description="cascade rounds per step at most (a round a trading day: calls are met by the next day)")
    agent_report_every: int = Field(13, ge=1, description="agent-level data every N steps")
    size_dispersion: float = Field(0.6, ge=0, le=3, description="sizes of the institutions within a type: lognormal sigma")


class DryPowderConfig(_Strict):
    initial_bn: float = Field(1200.0, ge=0, description="idle investable cash at t=0, $bn")
    savings_inflow_bn_per_yr: float = Field(150.0, ge=0, description="new savings into the pool, $bn/yr")
    recycle_share: float = Field(0.1, ge=0, le=1, description="share of capex spending that returns as savings")
    rate_cut_release_bn_per_pct: float = Field(100.0, ge=0, description="cash released per 1pp of cumulative cuts, $bn/yr")
    ample_bn: float = Field(1000.0, gt=0, description="idle cash from which buyers pay all purchases from cash and markets are at full depth, $bn")
    buyer_cash_exponent: float = Field(1.0, gt=0, le=10, description="buyers pay min(W / ample_bn, 1)^this of their purchases from idle cash, the rest by selling other assets")
    crowding_out_weights: dict[str, float] = Field(
        default_factory=lambda: {"crypto": 0.3, "saas": 0.3, "neocloud_equity": 0.05, "hyperscaler_equity": 0.1,
                                 "ai_hardware": 0.1, "ig_bonds": 0.05, "ust": 0.1},
        description="what buyers without idle cash sell to pay: share of each asset, lowest conviction first")

    @model_validator(mode="after")
    def _check_weights(self) -> "DryPowderConfig":
        check_asset_weights(self.crowding_out_weights, "dry_powder.crowding_out_weights")
        return self


class RatesConfig(_Strict):
    ust10y_pct: float = Field(4.2, ge=-5, le=30, description="10y Treasury yield at t=0, %")
    ig_spread_bp: float = Field(80.0, ge=10, le=5000, description="IG spread at t=0, bp (at least 10: the ICE BofA IG index has never been below ~50bp; 0 is riskless credit, and the capex game scales the market's penalty on cash burn by the spread against it)")
    policy_pass_through: float = Field(0.3, ge=0, le=1.5, description="share of the policy rate's change from t=0 the 10y's expected-rate part follows")
    spread_vol_bp: float = Field(25.0, ge=0, le=1000, description="volatility of the IG spread's own news, bp per sqrt(yr)")
    spread_half_life_years: float = Field(1.0, gt=0, le=50, description="the spread's own news decays to zero with this half-life")
    spread_market_corr: float = Field(-0.6, ge=-1, le=1, description="correlation of the spread's news with the market factor")
    spread_per_credit_loss_bp: float = Field(300.0, ge=0, le=10000, description="IG expected-loss repricing per unit share of the model's credit lost in default, bp")


class MarketConfig(_Strict):
    garch_alpha: float = Field(0.12, ge=0, lt=1, description="weight of last week's squared market shock in this week's news variance")
    garch_beta: float = Field(0.85, ge=0, lt=1, description="persistence of the news variance (garch_alpha + garch_beta < 1)")
    margin_vol_elasticity: float = Field(0.5, ge=0, le=3, description="maintenance margins rise as (realised / normal volatility)^this")
    circuit_breaker: float = Field(0.3, gt=0, lt=1, description="no price falls by more than this share (or rises by more than 1/(1 - this) - 1) in one cascade round: trading halts at the limit")

    @model_validator(mode="after")
    def _stationary(self) -> "MarketConfig":
        if self.garch_alpha + self.garch_beta >= 1:
            raise ValueError(f"market.garch_alpha + market.garch_beta must be below 1 (got {self.garch_alpha + self.garch_beta}): "
                             "the news variance would not return to its mean")
        return self


class ChannelsConfig(_Strict):
    """Switches for ablation: each contagion channel can be turned off alone."""

    price_impact: bool = Field(True, description="trades move prices (off: every market infinitely deep)")
    margin_calls: bool = Field(True, description="hedge-fund and retail margin calls")
    covenants: bool = Field(True, description="neocloud loan-to-value covenants")
    redemptions: bool = Field(True, description="fund investors' redemption requests")
    commitments: bool = Field(True, description="AI labs' capital calls on sovereign commitments")
    crowding_out: bool = Field(True, description="buyers pay only phi(W) from idle cash: they sell other assets for the rest, and private raises get only phi(W) of what they ask (off: phi = 1)")


class CentralBankConfig(_Strict):
    policy_rate_pct: float = Field(3.625, ge=-2, le=25, description="policy rate at t=0 (3.50-3.75% midpoint), %")
    cuts_bp_per_yr: float = Field(50.0, ge=-1000, le=1000, description="path of cuts (negative = hikes), bp/yr (at most 10pp a year either way: the Volcker tightening of 1979-81 raised the funds rate by about 10pp a year)")
    policy_floor_pct: float = Field(2.5, description="rate below which no further cuts, %")
    reserve_purchases_bn_per_month: float = Field(40.0, ge=0, description="reserve-management bill purchases, $bn/month")
    reserve_purchases_pool_share: float = Field(0.25, ge=0, le=1, description="share of bill purchases that ends up as dry powder")
    backstop: bool = Field(False, description="buy what the pool cannot absorb and cap depletion")
    backstop_max_depletion: float = Field(0.75, gt=0, le=1, description="the backstop keeps idle cash above (1 - this) x dry_powder.ample_bn")
    independence_reference_share: float = Field(1.0, gt=0, description="CB purchases / issuance that spends all independence")
    stability_reference_rise_pp: float = Field(2.0, gt=0, description="rise of the 10y yield that spends all bond-market stability, pp")


class AIConfig(_Strict):
    revenue_bn_per_yr: float = Field(60.0, gt=0, description="AI revenue run-rate at t=0, $bn/yr")
    revenue_growth: float = Field(0.6, ge=-1, le=5, description="expected log growth of AI revenue per year")
    revenue_vol: float = Field(0.35, ge=0, le=3, description="volatility of AI revenue, per sqrt(yr)")
    hyperscaler_margin: float = Field(0.35, ge=0, le=1, description="share of AI revenue that becomes hyperscaler OCF")


class HyperscalerFirm(_Strict):
    name: str
    capex_2026_bn: float = Field(ge=0, le=5000, description="2026 capex, $bn (at most $5tn, seven times the five firms' combined 2026 plans)")
    ocf_bn: float = Field(ge=0, description="2025 operating cash flow, $bn/yr")
    cash_bn: float = Field(ge=0, description="cash and short-term investments (Treasuries and marketable securities included), $bn")
    debt_bn: float = Field(ge=0, description="debt outstanding at t=0 (bonds, leases), $bn")
    buybacks_bn: float = Field(ge=0, description="$bn/yr, halted first when FCF turns negative")
    dividends_bn: float = Field(ge=0, description="$bn/yr")
    ai_revenue_share: float = Field(ge=0, le=1, description="share of AI revenue earned")
    ust_bn: float = Field(ge=0, description="the part of cash_bn held in Treasuries and marketable securities, $bn")
    lab_contract_share: float = Field(0.0, ge=0, le=1, description="share of AI labs' compute spend paid to this firm")

    @model_validator(mode="after")
    def _securities_within_liquidity(self) -> "HyperscalerFirm":
        if self.ust_bn > self.cash_bn:
            raise ValueError(f"hyperscaler {self.name!r}: ust_bn ({self.ust_bn}) is part of cash_bn ({self.cash_bn}) "
                             "and cannot exceed it")
        return self


def _default_firms() -> tuple[HyperscalerFirm, ...]:
    return (
        HyperscalerFirm(name="Microsoft", capex_2026_bn=150, ocf_bn=136, cash_bn=95, debt_bn=89, buybacks_bn=18,
                        dividends_bn=24, ai_revenue_share=0.30, ust_bn=60, lab_contract_share=0.25),
        HyperscalerFirm(name="Alphabet", capex_2026_bn=180, ocf_bn=165, cash_bn=95, debt_bn=27, buybacks_bn=46,
                        dividends_bn=10, ai_revenue_share=0.25, ust_bn=70),
        HyperscalerFirm(name="Amazon", capex_2026_bn=200, ocf_bn=140, cash_bn=90, debt_bn=69, buybacks_bn=0,
                        dividends_bn=0, ai_revenue_share=0.20, ust_bn=50, lab_contract_share=0.10),
        HyperscalerFirm(name="Meta", capex_2026_bn=125, ocf_bn=116, cash_bn=82, debt_bn=59, buybacks_bn=30,
                        dividends_bn=5, ai_revenue_share=0.15, ust_bn=50),
        HyperscalerFirm(name="Oracle", capex_2026_bn=50, ocf_bn=22, cash_bn=20, debt_bn=108, buybacks_bn=0,
                        dividends_bn=5, ai_revenue_share=0.05, ust_bn=5, lab_contract_share=0.35),
    )


class HyperscalerConfig(_Strict):
    capex_growth: float = Field(0.25, ge=-0.9, le=3, description="planned capex growth per year after 2026")
    firms: tuple[HyperscalerFirm, ...] = Field(default_factory=_default_firms, min_length=1, max_length=100,
                                               description="players of the capex game (at most 100: each round of best responses costs firms^2 x options)")
    ocf_growth: float = Field(0.08, ge=-1, le=1, description="growth of non-AI operating cash flow per year")
    cash_floor_share: float = Field(0.7, ge=0, le=1, description="cash kept as a floor, share of initial cash (cash_bn less ust_bn)")
    decision_every_steps: int = Field(13, ge=1, description="capex is re-decided once a quarter")
    capex_adjustments: tuple[float, ...] = Field((-0.3, -0.15, 0.0, 0.15), min_length=1, max_length=50,
                                                 description="strategy set: change of capex rate per decision (at most 50 options)")
    race_prize_multiple: float = Field(0.75, ge=0, description="AI market prize M as a multiple of the industry's planned capex, scaled by AI revenue against its expected path")
    market_expansion: float = Field(0.5, ge=0, le=1, description="the AI market grows as (industry capex / plan)^this: capacity creates demand, with diminishing returns")
    fcf_penalty: float = Field(0.3, ge=0, description="market penalty per $ of negative FCF")
    gpu_life_years: float = Field(3.0, gt=0, description="economic life of GPUs: depreciation cost per $ of capex")
    bond_coupon_spread_bp: float = Field(0.0, description="issuer spread over the IG index, bp")
    initial_coupon_pct: float = Field(4.0, ge=0, le=30, description="coupon of the debt outstanding at t=0, %")
    operating_assets_per_ocf: float = Field(4.0, ge=0, description="PP&E and other operating assets at book, multiple of OCF")
    buyback_resume_cash_share: float = Field(0.25, ge=0, description="buybacks resume once cash above floor and needs exceeds this share of initial cash")


class NeocloudConfig(_Strict):
    count: int = Field(12, ge=0, le=20000, description="neoclouds modelled (the fleet is split among them)")
    gpu_value_bn: float = Field(90.0, ge=0, le=10000, description="GPU fleet of all neoclouds at t=0, $bn (at most $10tn, twenty years of AI data-centre capex at 2026 rates)")
    cash_bn: float = Field(10.0, ge=0, description="cash of all neoclouds at t=0, $bn")
    advance_rate: float = Field(0.65, ge=0, lt=1, description="mean loan / fleet value at origination (private credit 55-65%)")
    advance_rate_spread: float = Field(0.12, ge=0, lt=0.5, description="advance rates drawn uniformly within +/- this of the mean (banks 50%, specialists 80%)")
    covenant_headroom: float = Field(0.2, gt=0, le=1, description="covenant LTV = advance rate at origination + this (at most 0.98)")
    cure_weeks: int = Field(4, ge=1, le=52, description="a breach is cured over this many weeks (waiver period)")
    haircut_slope: float = Field(0.25, ge=0, le=1, description="haircut widening per unit fall of the used-GPU price")
    rent_yield: float = Field(0.45, ge=0, description="rental revenue per $ of fleet value at t=0, per yr")
    utilisation: float = Field(0.85, ge=0, le=1, description="share of the fleet rented out")
    opex_share: float = Field(0.35, ge=0, le=1, description="operating cost as share of rental revenue")
    loan_rate_pct: float = Field(11.0, ge=0, le=50, description="coupon on GPU-backed loans, %")
    amortisation_years: float = Field(3.5, gt=0, description="GPU loans amortise straight-line over this life")
    growth_capex_share: float = Field(0.3, ge=0, le=3, description="new GPUs bought per yr, share of fleet, loan-funded at the advance rate")
    lab_revenue_share: float = Field(0.5, ge=0, le=1, description="share of neocloud revenue under AI-lab compute contracts")
    advance_rate_max: float = Field(0.95, gt=0, lt=1, description="highest advance rate a draw may give")
    covenant_ltv_max: float = Field(0.98, gt=0, le=1, description="highest covenant LTV")
    lenders_max: int = Field(3, ge=1, le=100, description="each neocloud borrows from 1 to this many funds, chosen by size")
    cash_reserve_per_yr: float = Field(0.1, ge=0, le=5, description="a quarter of this share of fleet value per yr is kept as cash before buying GPUs")
    default_equity_loss: float = Field(0.8, ge=0, le=1, description="the listed neocloud index loses this times a defaulter's share of sector fleet")


class GPUConfig(_Strict):
    generation_value_drop: float = Field(0.2, ge=0, lt=1, description="used-GPU value and rental rate drop on a new generation")
    generation_steps: tuple[int, ...] = Field((40,), description="steps at which a generation ships (Rubin ~ late 2026)")
    generation_hazard_per_yr: float = Field(0.0, ge=0, le=52, description="extra random generations per yr")
    rental_pass_through: float = Field(1.0, ge=0, le=2, description="rental-rate drop as a multiple of the value drop")
    depreciation_per_yr: float = Field(0.15, ge=0, lt=5, description="economic depreciation of used GPUs, log per yr")


class PrivateCreditConfig(_Strict):
    count: int = Field(20, ge=0, le=20000, description="private-credit funds modelled (NAV split among them)")
    nav_bn: float = Field(600.0, gt=0, description="NAV of the modelled funds at t=0, $bn (positive: a fund without capital cannot lend; count: 0 models no private credit)")
    fund_leverage: float = Field(0.4, ge=0, le=10, description="fund-level borrowing / NAV")
    software_loan_share: float = Field(0.25, ge=0, le=1, description="share of gross assets in software loans")
    liquid_share: float = Field(0.12, ge=0, le=1, description="share of gross assets in liquid bonds and cash")
    software_pd_slope: float = Field(0.6, ge=0, description="loss rate on software loans per unit fall of saas price")
    software_lgd: float = Field(0.6, ge=0, le=1, description="loss given default on software loans")
    loan_yield_pct: float = Field(10.0, ge=0, le=50, description="yield on the software loan book, %")
    redemption_base_per_qtr: float = Field(0.02, ge=0, le=1, description="redemption requests with no losses, share of NAV per quarter")
    redemption_sensitivity: float = Field(2.5, ge=0, description="extra requests per unit of NAV loss over the last quarter")
    gate_per_qtr: float = Field(0.05, ge=0, le=1, description="redemptions paid at most, share of NAV per quarter")
    redemption_lag_steps: int = Field(4, ge=0, le=52, description="weeks between request and payment")
    sovereign_share: float = Field(0.15, ge=0, le=1, description="share of fund shares held by sovereign funds")
    fundraising_bn_per_yr: float = Field(200.0, ge=0, description="new commitments sought from the pool in calm markets, $bn/yr")
    fundraising_return_sensitivity: float = Field(2.0, ge=0, le=50, description="appetite for new commitments rises by this per unit of annualised return above the loan yield")
    liquid_cash_share: float = Field(0.2, ge=0, le=1, description="share of the liquid sleeve held as cash (the rest in liquid_weights)")
    liquid_weights: dict[str, float] = Field(default_factory=lambda: {"ust": 0.4, "ig_bonds": 0.6},
                                             description="securities of the liquid sleeve, by asset")
    facility_spread_bp: float = Field(200.0, ge=0, description="fund facility rate over the 10y yield plus IG spread, bp")

    @model_validator(mode="after")
    def _check_weights(self) -> "PrivateCreditConfig":
        check_asset_weights(self.liquid_weights, "private_credit.liquid_weights")
        return self


class SovereignConfig(_Strict):
    count: int = Field(6, ge=0, le=2000, description="sovereign funds modelled (AUM split among them)")
    aum_bn: float = Field(1500.0, gt=0, description="liquid AUM of the modelled funds at t=0, $bn (positive: count: 0 models no sovereign funds)")
    cash_share: float = Field(0.05, ge=0, le=1, description="share of AUM held as cash at t=0")
    commitments_bn: float = Field(150.0, ge=0, description="undrawn commitments to AI labs at t=0, $bn")
    hedge_fund_share: float = Field(0.05, ge=0, le=1, description="share of AUM in hedge-fund shares")
    conviction_order: tuple[str, ...] = Field(
        ("crypto", "saas", "hedge_fund_shares", "private_credit_shares", "neocloud_equity", "hyperscaler_equity",
         "ai_hardware", "ig_bonds", "ust"),
        description="what is sold first when cash runs out")
    portfolio_weights: dict[str, float] = Field(
        default_factory=lambda: {"ust": 0.27, "ig_bonds": 0.15, "hyperscaler_equity": 0.25, "ai_hardware": 0.06,
                                 "saas": 0.08, "crypto": 0.03, "neocloud_equity": 0.01},
        description="liquid portfolio at t=0 (normalised), by asset")

    @model_validator(mode="after")
    def _check_weights(self) -> "SovereignConfig":
        check_asset_weights(self.portfolio_weights, "sovereigns.portfolio_weights")
        return self


class HedgeFundConfig(_Strict):
    count: int = Field(20, ge=0, le=20000, description="hedge funds modelled (capital split among them)")
    equity_bn: float = Field(500.0, ge=0, le=50000, description="capital of the modelled funds, $bn (at most $50tn, ten times the whole hedge-fund industry)")
    leverage: float = Field(2.9, ge=1, le=100, description="gross assets / equity (prime-broker gross leverage)")
    vol_window_weeks: int = Field(13, ge=2, le=104, description="window of realised volatility for margins, weeks")
    redemption_base_per_qtr: float = Field(0.0, ge=0, le=1, description="requests with no losses, net of subscriptions, share of NAV per quarter")
    redemption_sensitivity: float = Field(0.5, ge=0, description="extra requests per unit of NAV loss over the last quarter")
    redemption_lag_steps: int = Field(4, ge=0, le=52, description="weeks between request and payment")
    sovereign_share: float = Field(0.2, ge=0, le=1, description="share of HF capital from sovereign funds")
    financing_spread_bp: float = Field(50.0, ge=0, description="prime-broker rate over the policy rate, bp")
    leverage_dispersion: float = Field(0.2, ge=0, le=2, description="funds' leverage around the mean: lognormal sigma (at least 1x)")
    initial_margin_headroom: float = Field(0.3, ge=0, le=5, description="at t=0 each fund's equity is at least (1 + this) x its maintenance requirement")
    leverage_vol_elasticity: float = Field(0.5, ge=0, le=3, description="leverage targets scale with (normal / realised volatility of the book)^this, within 0.5-1.25x")
    releverage_band: float = Field(0.1, ge=0, lt=1, description="a fund re-levers once its leverage is this far below target")
    releverage_speed: float = Field(0.25, ge=0, le=1, description="share of the gap to target leverage bought back a week")
    weight_concentration: float = Field(30.0, gt=0, description="Dirichlet concentration of funds' weights around portfolio_weights")
    portfolio_weights: dict[str, float] = Field(
        default_factory=lambda: {"ust": 0.10, "ig_bonds": 0.15, "hyperscaler_equity": 0.30, "ai_hardware": 0.20,
                                 "saas": 0.15, "crypto": 0.10},
        description="average gross book at t=0, by asset")

    @model_validator(mode="after")
    def _check_weights(self) -> "HedgeFundConfig":
        check_asset_weights(self.portfolio_weights, "hedge_funds.portfolio_weights")
        return self


class RetailConfig(_Strict):
    holders: int = Field(10_000, ge=0, le=10_000_000, description="retail accounts modelled (wealth split among them)")
    wealth_bn: float = Field(3000.0, ge=0, le=100000, description="equity of the modelled retail accounts, $bn (at most $100tn, about all US household financial assets)")
    cash_share: float = Field(0.1, ge=0, le=1, description="share of each account held as cash at t=0")
    margin_share: float = Field(0.15, ge=0, le=1, description="share of holders trading on margin")
    margin_leverage: float = Field(1.8, ge=1, le=50, description="assets / equity of margin accounts")
    momentum_sensitivity: float = Field(0.5, ge=0, description="share of cash put to work per unit of 13-week return")
    panic_drawdown: float = Field(0.30, ge=0, le=1, description="drawdown from peak that triggers panic selling")
    panic_drawdown_spread: float = Field(0.1, ge=0, le=1, description="holders' panic thresholds are drawn uniformly within +/- this of panic_drawdown")
    panic_sale_share: float = Field(0.1, ge=0, le=1, description="share of holdings sold when a holder panics")
    inflow_bn_per_yr: float = Field(300.0, ge=0, le=10000, description="retail savings into brokerage cash, $bn/yr (2025 retail inflows ~$308bn; at most $10tn/yr)")
    momentum_signal_cap: float = Field(0.5, ge=0, le=2, description="13-week log return above which FOMO buying no longer intensifies")
    releverage_band: float = Field(0.1, ge=0, lt=1, description="a margin account re-levers once its leverage is this far below margin_leverage")
    releverage_speed: float = Field(0.05, ge=0, le=1, description="share of the gap to margin_leverage a margin account borrows and buys a week")
    wealth_dispersion: float = Field(1.0, ge=0, le=3, description="holders' wealth: lognormal sigma")
    weight_concentration: float = Field(20.0, gt=0, description="Dirichlet concentration of holders' weights around portfolio_weights")
    portfolio_weights: dict[str, float] = Field(
        default_factory=lambda: {"ust": 0.06, "hyperscaler_equity": 0.45, "ai_hardware": 0.27, "saas": 0.13,
                                 "crypto": 0.08, "neocloud_equity": 0.01},
        description="average portfolio at t=0, by asset (momentum names dominate)")

    @model_validator(mode="after")
    def _check_weights(self) -> "RetailConfig":
        check_asset_weights(self.portfolio_weights, "retail.portfolio_weights")
        return self


class AILab(_Strict):
    name: str
    revenue_share: float = Field(ge=0, le=1, description="share of AI revenue")
    compute_bn_per_yr: float = Field(ge=0, description="compute spending at t=0, $bn/yr")
    compute_growth: float = Field(0.5, ge=-1, le=5, description="growth of compute spend per yr")
    cash_bn: float = Field(ge=0)
    commitment_share: float = Field(ge=0, le=1, description="share of sovereign commitments earmarked for this lab")


def _default_labs() -> tuple[AILab, ...]:
    return (
        AILab(name="OpenAI-like", revenue_share=0.4, compute_bn_per_yr=40, cash_bn=25, commitment_share=0.6),
        AILab(name="Anthropic-like", revenue_share=0.35, compute_bn_per_yr=30, cash_bn=20, commitment_share=0.25),
        AILab(name="xAI-like", revenue_share=0.05, compute_bn_per_yr=18, cash_bn=10, commitment_share=0.15),
    )


class AILabConfig(_Strict):
    labs: tuple[AILab, ...] = Field(default_factory=_default_labs, max_length=100, description="at most 100 labs")
    other_cost_share: float = Field(0.3, ge=0, description="non-compute costs as share of compute, per yr")
    venture_funding_bn_per_yr: float = Field(60.0, ge=0, description="equity rounds sought from the pool when burning cash, $bn/yr at most")
    cash_target_years: float = Field(0.25, ge=0, le=5, description="labs keep this many years of burn as cash, calling commitments below it")
    max_call_weeks_of_burn: float = Field(4.0, ge=0, le=52, description="a week's capital calls are at most this many weeks of burn")


class AssetParams(_Strict):
    duration: float = Field(ge=0, le=200, description="valuation duration D: P/P0 = 1/(1 + D dr), years")
    margin: float = Field(gt=0, le=1, description="maintenance margin (equity share) at normal volatility")
    spread_beta: float = Field(ge=0, le=10, description="loading of the asset's discount rate on the IG spread")
    drift: float = Field(ge=-2, le=2, description="expected (arithmetic) return per yr before the channels")
    vol: float = Field(ge=0, le=5, description="volatility per sqrt(yr)")
    depth_bn: float = Field(gt=0, description="$bn of net selling that lowers log price by 1 (with a full pool)")
    cash_depth_share: float = Field(0.4, ge=0, lt=1, description="share of the market's depth that is idle cash: lost in proportion as the pool falls below ample")
    permanent_impact: float = Field(ge=0, le=1, description="share of a clearing's price impact that stays; the rest decays")
    impact_half_life_weeks: float = Field(gt=0, le=520, description="half-life of the transient part of price impact, weeks")
    market_loading: float = Field(0.0, ge=-1, le=1, description="loading of the weekly news on the market factor")
    ai_loading: float = Field(0.0, ge=-1, le=1, description="loading of the weekly news on the AI factor")
    rates_loading: float = Field(0.0, ge=-1, le=1, description="loading of the weekly news on the rates factor (price up = yields down)")
    generation_beta: float = Field(0.0, ge=-5, le=5, description="log-price move per unit generation_value_drop")
    capex_beta: float = Field(0.0, ge=-5, le=5, description="log-price move per unit log change of sector capex")

    @model_validator(mode="after")
    def _loadings(self) -> "AssetParams":
        total = self.market_loading ** 2 + self.ai_loading ** 2 + self.rates_loading ** 2
        if total > 1 + 1e-12:
            raise ValueError(f"the squared factor loadings add up to {total:.3f}; at most 1 (the rest is the asset's own news)")
        return self


def _default_assets() -> dict[str, AssetParams]:
    A = AssetParams
    return {
        "ust": A(duration=8.0, margin=0.03, spread_beta=0.0, drift=0.0, vol=0.07, depth_bn=20000, permanent_impact=0.3,
                 impact_half_life_weeks=26, rates_loading=1.0, cash_depth_share=0.7),
        "ig_bonds": A(duration=7.0, margin=0.10, spread_beta=1.0, drift=0.0, vol=0.065, depth_bn=7000,
                      permanent_impact=0.2, impact_half_life_weeks=26, cash_depth_share=0.8),
        "hyperscaler_equity": A(duration=20.0, margin=0.25, spread_beta=0.5, drift=0.10, vol=0.18, depth_bn=3000,
                                permanent_impact=0.3, impact_half_life_weeks=13, capex_beta=-0.05,
                                market_loading=0.75, ai_loading=0.30, rates_loading=0.15),
        "ai_hardware": A(duration=8.0, margin=0.30, spread_beta=1.0, drift=0.15, vol=0.45, depth_bn=1400,
                         permanent_impact=0.3, impact_half_life_weeks=13, capex_beta=0.3, generation_beta=0.05,
                         market_loading=0.65, ai_loading=0.50, rates_loading=0.10),
        "saas": A(duration=25.0, margin=0.30, spread_beta=1.0, drift=0.05, vol=0.32, depth_bn=600, permanent_impact=0.3,
                  impact_half_life_weeks=13, market_loading=0.65, ai_loading=-0.10, rates_loading=0.20),
        "crypto": A(duration=25.0, margin=0.50, spread_beta=1.0, drift=0.2, vol=0.55, depth_bn=500, permanent_impact=0.3,
                    impact_half_life_weeks=13, market_loading=0.40, rates_loading=0.10, cash_depth_share=0.4),
        "neocloud_equity": A(duration=15.0, margin=0.50, spread_beta=2.0, drift=0.1, vol=0.90, depth_bn=40,
                             permanent_impact=0.3, impact_half_life_weeks=13, generation_beta=-1.2,
                             market_loading=0.45, ai_loading=0.55, rates_loading=0.10),
        "used_gpu": A(duration=2.0, margin=0.50, spread_beta=1.0, drift=0.0, vol=0.10, depth_bn=150, permanent_impact=0.8,
                      impact_half_life_weeks=26, generation_beta=-1.0, ai_loading=0.30, cash_depth_share=0.2),
    }


class PowerConfig(_Strict):
    enabled: bool = Field(False, description="grid interconnection caps how fast capex becomes working capacity")
    deployable_growth: float = Field(0.15, ge=-0.9, le=3, description="growth of deployable capex per yr (grid queues of 3-5 yrs)")
    revenue_elasticity: float = Field(1.0, ge=0, le=5, description="AI revenue growth lost per unit share of capex that cannot be powered")


class CrisisConfig(_Strict):
    """A crisis is a system outcome (MODEL.md §8): any of these."""

    ig_spread_bp: float = Field(250.0, gt=0, description="the IG spread exceeds this, bp")
    defaulted_assets_share: float = Field(0.2, gt=0, le=1, description="institutions holding more than this share of the financial sector's assets at t=0 (neoclouds, private credit, hedge funds) default")
    forced_sales_share_qtr: float = Field(0.05, gt=0, le=1, description="forced sales within 13 weeks exceed this share of the tradable assets the model's holders held at t=0")
