"""Configuration: frozen, validated pydantic models loaded from YAML with safe loading.

Every number the model uses lives here with its unit in the name or docstring; MODEL.md gives
the source of each default. A config is data: it is read with a bounded safe YAML loader
(:mod:`sim.safe_load`) and checked
against these models, so an unknown key or a bad value is an error that names the key, what is
allowed and, for a typo, the closest valid key.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.messages import closest as _closest
from sim.messages import format_validation_error
from sim.safe_load import load_yaml, read_yaml_mapping
from sim.value_checks import NAME_MAX_CHARS, folder_name, no_booleans

ASSETS: tuple[str, ...] = (
    "ust", "ig_bonds", "hyperscaler_equity", "ai_hardware", "saas", "crypto", "neocloud_equity", "used_gpu",
)
PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "configs"
BASELINE_PATH = CONFIG_DIR / "baseline.yaml"
SCENARIO_DIR = CONFIG_DIR / "scenarios"


class ConfigError(ValueError):
    """A user-facing configuration problem: the message says what, where and what is allowed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_not_booleans(cls, data: Any) -> Any:
        return no_booleans(cls, data)


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------
class SimulationConfig(_Strict):
    steps: int = Field(156, ge=1, le=5200, description="weekly steps in a run")
    max_cascade_rounds: int = Field(12, ge=1, le=200, description="cascade rounds per step at most")
    agent_report_every: int = Field(13, ge=1, description="agent-level data every N steps")


class DryPowderConfig(_Strict):
    initial_bn: float = Field(1200.0, ge=0, description="idle investable cash at t=0, $bn")
    savings_inflow_bn_per_yr: float = Field(150.0, ge=0, description="new savings into the pool, $bn/yr")
    recycle_share: float = Field(0.1, ge=0, le=1, description="share of capex spending that returns as savings")
    rate_cut_release_bn_per_pct: float = Field(100.0, ge=0, description="cash released per 1pp of cumulative cuts, $bn/yr")
    gamma: float = Field(2.0, gt=0, description="convexity exponent of the cost of capital in depletion")
    eps: float = Field(0.2, ge=0.01, description="keeps the depletion pressure finite at exhaustion (at least 0.01: h(1) = 1/eps at most 100; smaller values give infinite spreads)")
    depth_loss_at_exhaustion: float = Field(0.6, ge=0, le=0.9, description="share of market depth lost when the pool is empty (at most 0.9: Treasury depth fell ~90% in March 2020; near 1 nothing trades)")
    fire_sale_pool_share: float = Field(0.5, ge=0, le=1, description="share of forced sales bought with the pool's cash (the rest by outside value buyers)")
    crowding_out_weights: dict[str, float] = Field(
        default_factory=lambda: {"crypto": 0.25, "saas": 0.25, "neocloud_equity": 0.05, "hyperscaler_equity": 0.2,
                                 "ai_hardware": 0.1, "ig_bonds": 0.1, "ust": 0.05},
        description="how unabsorbed IG funding is raised: share sold from each asset, lowest conviction first")

    @model_validator(mode="after")
    def _check_weights(self) -> "DryPowderConfig":
        for k, v in self.crowding_out_weights.items():
            if k not in ASSETS:
                raise ValueError(f"unknown asset {k!r} in dry_powder.crowding_out_weights{_closest(k, ASSETS)}; "
                                 f"allowed: {', '.join(ASSETS)}")
            if not (v >= 0):
                raise ValueError(f"dry_powder.crowding_out_weights.{k} must be >= 0 (got {v})")
        if self.crowding_out_weights and sum(self.crowding_out_weights.values()) <= 0:
            raise ValueError("dry_powder.crowding_out_weights must not all be zero")
        return self


class RatesConfig(_Strict):
    ust10y_pct: float = Field(4.2, ge=-5, le=30, description="10y Treasury yield at t=0, %")
    ig_spread_bp: float = Field(80.0, ge=10, le=5000, description="IG spread at t=0, bp (at least 10: the ICE BofA IG index has never been below ~50bp; 0 is riskless credit)")
    term_premium_per_pressure_bp: float = Field(40.0, ge=0, description="term-premium rise per unit of depletion pressure h(x), bp")
    spread_per_pressure_bp: float = Field(24.0, ge=0, description="IG-spread rise per unit of h(x), bp")
    term_premium_per_shortfall_bp_per_tn: float = Field(150.0, ge=0, description="bp per $1tn/yr of unabsorbed funding")
    spread_per_shortfall_bp_per_tn: float = Field(250.0, ge=0, description="bp per $1tn/yr of unabsorbed funding")
    spread_per_credit_loss_bp: float = Field(400.0, ge=0, description="bp per unit share of internal credit in default")
    shortfall_memory_weeks: float = Field(8.0, ge=1, description="EMA memory of the unabsorbed-funding rate, weeks (at least 1: the model steps weekly, a shorter memory is not resolved)")


class CentralBankConfig(_Strict):
    policy_rate_pct: float = Field(3.625, ge=-2, le=25, description="policy rate at t=0 (3.50-3.75% midpoint), %")
    cuts_bp_per_yr: float = Field(50.0, description="path of cuts (negative = hikes), bp/yr")
    policy_floor_pct: float = Field(2.5, description="rate below which no further cuts, %")
    reserve_purchases_bn_per_month: float = Field(40.0, ge=0, description="reserve-management bill purchases, $bn/month")
    reserve_purchases_pool_share: float = Field(0.25, ge=0, le=1, description="share of bill purchases that ends up as dry powder")
    backstop: bool = Field(False, description="buy what the pool cannot absorb and cap depletion")
    backstop_max_depletion: float = Field(0.75, gt=0, le=1, description="depletion the backstop allows at most")
    independence_reference_share: float = Field(1.0, gt=0, description="CB purchases / issuance that spends all independence")


class AIConfig(_Strict):
    revenue_bn_per_yr: float = Field(60.0, gt=0, description="AI revenue run-rate at t=0, $bn/yr")
    revenue_growth: float = Field(0.6, ge=-1, le=5, description="expected log growth of AI revenue per year")
    revenue_vol: float = Field(0.35, ge=0, le=3, description="volatility of AI revenue, per sqrt(yr)")
    hyperscaler_margin: float = Field(0.35, ge=0, le=1, description="share of AI revenue that becomes hyperscaler OCF")


class HyperscalerFirm(_Strict):
    name: str
    capex_2026_bn: float = Field(ge=0, le=5000, description="2026 capex, $bn (at most $5tn, seven times the five firms' combined 2026 plans)")
    ocf_bn: float = Field(ge=0, description="2025 operating cash flow, $bn/yr")
    cash_bn: float = Field(ge=0)
    debt_bn: float = Field(ge=0)
    buybacks_bn: float = Field(ge=0, description="$bn/yr, halted first when FCF turns negative")
    dividends_bn: float = Field(ge=0, description="$bn/yr")
    ai_revenue_share: float = Field(ge=0, le=1, description="share of AI revenue earned")
    ust_bn: float = Field(ge=0, description="Treasuries and marketable securities held, $bn")
    lab_contract_share: float = Field(0.0, ge=0, le=1, description="share of AI labs' compute spend paid to this firm")


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
    cash_floor_share: float = Field(0.7, ge=0, le=1, description="cash kept as a floor, share of initial cash")
    decision_every_steps: int = Field(13, ge=1, description="capex is re-decided once a quarter")
    capex_adjustments: tuple[float, ...] = Field((-0.3, -0.15, 0.0, 0.15), min_length=1, max_length=50,
                                                 description="strategy set: change of capex rate per decision (at most 50 options)")
    race_prize_multiple: float = Field(10.0, ge=0, description="AI market prize M as a multiple of AI revenue")
    fcf_penalty: float = Field(0.3, ge=0, description="market penalty per $ of negative FCF")
    gpu_life_years: float = Field(3.0, gt=0, description="economic life of GPUs: depreciation cost per $ of capex")
    bond_coupon_spread_bp: float = Field(0.0, description="issuer spread over the IG index, bp")


class NeocloudConfig(_Strict):
    count: int = Field(12, ge=0, le=20000)
    gpu_value_bn: float = Field(90.0, ge=0, le=10000, description="GPU fleet of all neoclouds at t=0, $bn (at most $10tn, twenty years of AI data-centre capex at 2026 rates)")
    cash_bn: float = Field(10.0, ge=0, description="cash of all neoclouds at t=0, $bn")
    advance_rate: float = Field(0.65, ge=0, lt=1, description="mean loan / fleet value at origination (private credit 55-65%)")
    advance_rate_spread: float = Field(0.12, ge=0, lt=0.5, description="advance rates drawn uniformly within +/- this of the mean (banks 50%, specialists 80%)")
    covenant_headroom: float = Field(0.2, gt=0, le=1, description="covenant LTV = advance rate at origination + this (at most 0.98)")
    cure_weeks: int = Field(4, ge=1, le=52, description="a breach is cured over this many weeks (waiver period)")
    haircut_slope: float = Field(0.25, ge=0, le=1, description="haircut widening per unit fall of the used-GPU price")
    rent_yield: float = Field(0.45, ge=0, description="rental revenue per $ of fleet value at t=0, per yr")
    utilisation: float = Field(0.85, ge=0, le=1)
    opex_share: float = Field(0.35, ge=0, le=1, description="operating cost as share of rental revenue")
    loan_rate_pct: float = Field(11.0, ge=0, le=50, description="coupon on GPU-backed loans, %")
    amortisation_years: float = Field(3.5, gt=0, description="GPU loans amortise straight-line over this life")
    growth_capex_share: float = Field(0.3, ge=0, le=3, description="new GPUs bought per yr, share of fleet, loan-funded at the advance rate")
    lab_revenue_share: float = Field(0.5, ge=0, le=1, description="share of neocloud revenue under AI-lab compute contracts")


class GPUConfig(_Strict):
    generation_value_drop: float = Field(0.2, ge=0, lt=1, description="used-GPU value and rental rate drop on a new generation")
    generation_steps: tuple[int, ...] = Field((40,), description="steps at which a generation ships (Rubin ~ late 2026)")
    generation_hazard_per_yr: float = Field(0.0, ge=0, le=52, description="extra random generations per yr")
    rental_pass_through: float = Field(1.0, ge=0, le=2, description="rental-rate drop as a multiple of the value drop")
    depreciation_per_yr: float = Field(0.15, ge=0, lt=5, description="economic depreciation of used GPUs, log per yr")


class PrivateCreditConfig(_Strict):
    count: int = Field(20, ge=0, le=20000)
    nav_bn: float = Field(600.0, gt=0, description="NAV of the modelled funds at t=0, $bn (positive: a fund without capital cannot lend; count: 0 models no private credit)")
    fund_leverage: float = Field(0.4, ge=0, le=10, description="fund-level borrowing / NAV")
    software_loan_share: float = Field(0.25, ge=0, le=1, description="share of gross assets in software loans")
    liquid_share: float = Field(0.12, ge=0, le=1, description="share of gross assets in liquid bonds and cash")
    software_pd_slope: float = Field(0.6, ge=0, description="loss rate on software loans per unit fall of saas price")
    software_lgd: float = Field(0.6, ge=0, le=1)
    loan_yield_pct: float = Field(10.0, ge=0, le=50, description="yield on the software loan book, %")
    redemption_base_per_qtr: float = Field(0.02, ge=0, le=1, description="redemption requests with no losses, share of NAV per quarter")
    redemption_sensitivity: float = Field(2.5, ge=0, description="extra requests per unit of NAV loss over the last quarter")
    gate_per_qtr: float = Field(0.05, ge=0, le=1, description="redemptions paid at most, share of NAV per quarter")
    redemption_lag_steps: int = Field(4, ge=0, le=52, description="weeks between request and payment")
    sovereign_share: float = Field(0.15, ge=0, le=1, description="share of fund shares held by sovereign funds")
    fundraising_bn_per_yr: float = Field(200.0, ge=0, description="new commitments sought from the pool, $bn/yr")


class SovereignConfig(_Strict):
    count: int = Field(6, ge=0, le=2000)
    aum_bn: float = Field(1500.0, gt=0, description="liquid AUM of the modelled funds at t=0, $bn (positive: count: 0 models no sovereign funds)")
    cash_share: float = Field(0.05, ge=0, le=1)
    commitments_bn: float = Field(150.0, ge=0, description="undrawn commitments to AI labs at t=0, $bn")
    hedge_fund_share: float = Field(0.05, ge=0, le=1, description="share of AUM in hedge-fund shares")
    conviction_order: tuple[str, ...] = Field(
        ("crypto", "saas", "hedge_fund_shares", "private_credit_shares", "neocloud_equity", "hyperscaler_equity",
         "ai_hardware", "ig_bonds", "ust"),
        description="what is sold first when cash runs out")


class HedgeFundConfig(_Strict):
    count: int = Field(20, ge=0, le=20000)
    equity_bn: float = Field(500.0, ge=0, le=50000, description="capital of the modelled funds, $bn (at most $50tn, ten times the whole hedge-fund industry)")
    leverage: float = Field(2.9, ge=1, le=100, description="gross assets / equity (prime-broker gross leverage)")
    vol_window_weeks: int = Field(13, ge=2, le=104, description="window of realised volatility for margins, weeks")
    redemption_base_per_qtr: float = Field(0.01, ge=0, le=1, description="requests with no losses, share of NAV per quarter")
    redemption_sensitivity: float = Field(0.5, ge=0, description="extra requests per unit of NAV loss over the last quarter")
    redemption_lag_steps: int = Field(4, ge=0, le=52)
    sovereign_share: float = Field(0.2, ge=0, le=1, description="share of HF capital from sovereign funds")


class RetailConfig(_Strict):
    holders: int = Field(10_000, ge=0, le=10_000_000)
    wealth_bn: float = Field(3000.0, ge=0, description="equity of the modelled retail accounts, $bn")
    cash_share: float = Field(0.1, ge=0, le=1)
    margin_share: float = Field(0.15, ge=0, le=1, description="share of holders trading on margin")
    margin_leverage: float = Field(1.8, ge=1, le=50, description="assets / equity of margin accounts")
    momentum_sensitivity: float = Field(0.5, ge=0, description="share of cash put to work per unit of 13-week return")
    panic_drawdown: float = Field(0.25, ge=0, le=1, description="drawdown from peak that triggers panic selling")
    panic_sale_share: float = Field(0.2, ge=0, le=1, description="share of holdings sold when a holder panics")
    inflow_bn_per_yr: float = Field(300.0, ge=0, le=10000, description="retail savings into brokerage cash, $bn/yr (2025 retail inflows ~$308bn; at most $10tn/yr)")


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


class AssetParams(_Strict):
    duration: float = Field(ge=0, le=200, description="valuation duration D: P/P0 = 1/(1 + D dr), years")
    margin: float = Field(gt=0, le=1, description="maintenance margin (equity share) at normal volatility")
    liquidity_beta: float = Field(ge=0, le=10, description="log-price loss per unit of pool-depletion pressure")
    spread_beta: float = Field(ge=0, le=10, description="loading of the asset's discount rate on the IG spread")
    drift: float = Field(ge=-2, le=2, description="expected (arithmetic) return per yr before the channels")
    vol: float = Field(ge=0, le=5, description="volatility per sqrt(yr)")
    depth_bn: float = Field(gt=0, description="$bn of net selling that lowers log price by 1")
    generation_beta: float = Field(0.0, ge=-5, le=5, description="log-price move per unit generation_value_drop")
    capex_beta: float = Field(0.0, ge=-5, le=5, description="log-price move per unit log change of sector capex")


def _default_assets() -> dict[str, AssetParams]:
    A = AssetParams
    return {
        "ust": A(duration=8.0, margin=0.03, liquidity_beta=0.0, spread_beta=0.0, drift=0.0, vol=0.0, depth_bn=40000),
        "ig_bonds": A(duration=7.0, margin=0.10, liquidity_beta=0.0, spread_beta=1.0, drift=0.0, vol=0.0, depth_bn=5000),
        "hyperscaler_equity": A(duration=20.0, margin=0.25, liquidity_beta=0.015, spread_beta=1.0, drift=0.10,
                                vol=0.25, depth_bn=3000, capex_beta=-0.05),
        "ai_hardware": A(duration=8.0, margin=0.30, liquidity_beta=0.005, spread_beta=1.0, drift=0.15,
                         vol=0.40, depth_bn=1400, capex_beta=0.3, generation_beta=0.05),
        "saas": A(duration=25.0, margin=0.30, liquidity_beta=0.04, spread_beta=1.0, drift=0.05,
                  vol=0.30, depth_bn=600),
        "crypto": A(duration=25.0, margin=0.50, liquidity_beta=0.1, spread_beta=1.0, drift=0.2,
                    vol=0.60, depth_bn=500),
        "neocloud_equity": A(duration=15.0, margin=0.50, liquidity_beta=0.06, spread_beta=2.0, drift=0.1,
                             vol=0.70, depth_bn=40, generation_beta=-1.2),
        "used_gpu": A(duration=2.0, margin=0.50, liquidity_beta=0.01, spread_beta=1.0, drift=0.0,
                      vol=0.10, depth_bn=150, generation_beta=-1.0),
    }


class PowerConfig(_Strict):
    enabled: bool = Field(False, description="grid interconnection caps how fast capex becomes working capacity")
    deployable_growth: float = Field(0.15, ge=-0.9, le=3, description="growth of deployable capex per yr (grid queues of 3-5 yrs)")
    revenue_elasticity: float = Field(1.0, ge=0, le=5, description="AI revenue growth lost per unit share of capex that cannot be powered")


class CrisisConfig(_Strict):
    ig_spread_bp: float = Field(250.0, gt=0, description="crisis if the IG spread exceeds this")
    neocloud_default_share: float = Field(0.25, gt=0, le=1, description="crisis if more than this share of neoclouds default")
    gate_quarters: int = Field(2, ge=1, description="crisis if a private-credit gate binds this many quarters in a row")


class Config(_Strict):
    """The whole scenario. Build with :func:`load_config`; never mutate: use overrides."""

    name: str = Field("baseline", min_length=1, max_length=NAME_MAX_CHARS,
                      description="scenario name; names the run folder, so: letters, digits, '.', '_', '-'")
    description: str = ""
    seed: int = Field(20260101, ge=0, lt=2**63)
    simulation: SimulationConfig = SimulationConfig()
    dry_powder: DryPowderConfig = DryPowderConfig()
    rates: RatesConfig = RatesConfig()
    central_bank: CentralBankConfig = CentralBankConfig()
    ai: AIConfig = AIConfig()
    hyperscalers: HyperscalerConfig = HyperscalerConfig()
    neoclouds: NeocloudConfig = NeocloudConfig()
    gpu: GPUConfig = GPUConfig()
    private_credit: PrivateCreditConfig = PrivateCreditConfig()
    sovereigns: SovereignConfig = SovereignConfig()
    hedge_funds: HedgeFundConfig = HedgeFundConfig()
    retail: RetailConfig = RetailConfig()
    ai_labs: AILabConfig = AILabConfig()
    assets: dict[str, AssetParams] = Field(default_factory=_default_assets)
    power: PowerConfig = PowerConfig()
    crisis: CrisisConfig = CrisisConfig()

    @field_validator("name")
    @classmethod
    def _check_name(cls, name: str) -> str:
        return folder_name(name)

    @model_validator(mode="after")
    def _check_assets(self) -> "Config":
        names = set(self.assets)
        missing = [a for a in ASSETS if a not in names]
        unknown = sorted(names - set(ASSETS))
        if unknown:
            hint = _closest(unknown[0], ASSETS)
            raise ValueError(f"unknown asset {unknown[0]!r} in 'assets'{hint}; allowed: {', '.join(ASSETS)}")
        if missing:
            raise ValueError(f"'assets' lacks {', '.join(missing)}; every asset needs its parameters")
        allowed_order = set(ASSETS) | {"hedge_fund_shares", "private_credit_shares"}
        for item in self.sovereigns.conviction_order:
            if item not in allowed_order:
                raise ValueError(f"unknown asset {item!r} in sovereigns.conviction_order{_closest(item, allowed_order)}; "
                                 f"allowed: {', '.join(sorted(allowed_order))}")
        for s in self.gpu.generation_steps:
            if s < 0:
                raise ValueError("gpu.generation_steps must be non-negative step numbers")
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def digest(self) -> str:
        """A short hash of the resolved config: equal hashes mean equal inputs."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Loading, overrides and messages
# --------------------------------------------------------------------------------------------
def read_yaml_text(path: str | Path, what: str = "config", error: type[ConfigError] = ConfigError,
                   allow_empty: bool = True) -> tuple[dict[str, Any], str]:
    """Read a YAML mapping safely (:func:`sim.safe_load.read_yaml_mapping`), returning it with its
    text; every failure raises ``error`` with a message naming the file and, for bad YAML, the line."""
    return read_yaml_mapping(path, what=what, error=error, allow_empty=allow_empty)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a config file (a YAML mapping; an empty file is the baseline)."""
    return read_yaml_text(path)[0]


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` from the command line; the value is read as a YAML scalar or list."""
    if "=" not in text:
        raise ConfigError(f"malformed --set {text!r}: expected KEY=VALUE, e.g. dry_powder.initial_bn=800")
    key, _, raw = text.partition("=")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"malformed --set {text!r}: the key must be dotted names, e.g. gpu.generation_value_drop")
    try:
        value = load_yaml(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise ConfigError(f"malformed --set {text!r}: the value {raw!r} is not a number, bool, string or list") from None
    if value is None:
        raise ConfigError(f"malformed --set {text!r}: no value after '='")
    return key, value


def flatten_dotted(obj: Any, prefix: str = "", keep_empty: bool = True) -> dict[str, Any]:
    """Nested mappings to dotted keys (``{"a": {"b": 1}} -> {"a.b": 1}``), the inverse of
    :func:`apply_overrides`; lists stay values. An empty mapping stays a value unless
    ``keep_empty`` is false (then it contributes no key)."""
    out: dict[str, Any] = {}
    if not isinstance(obj, dict):
        return {prefix: obj}
    for k, v in obj.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and (v or not keep_empty):
            out.update(flatten_dotted(v, key, keep_empty))
        else:
            out[key] = v
    return out


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted-key overrides set (``{"dry_powder.initial_bn": 800}``)."""
    return _set_overrides(copy.deepcopy(data), overrides)


def _set_overrides(out: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """:func:`apply_overrides` on ``out`` itself."""
    for dotted, value in overrides.items():
        parts = str(dotted).split(".")
        node = out
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part) if isinstance(node, dict) else None
            if nxt is None:
                nxt = {}
                node[part] = nxt
            if not isinstance(nxt, dict):
                raise ConfigError(f"override {dotted!r}: {'.'.join(parts[:i + 1])} is a value, not a section")
            node = nxt
        node[parts[-1]] = value
    return out


@functools.cache
def _defaults() -> dict[str, Any]:
    """The defaults as a dict (shared: copy before changing it; :func:`deep_merge` does)."""
    return Config().to_dict()


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``update`` laid over ``base``: mappings merge key by key (so a config or ``--set`` may give one
    field of one asset), anything else is replaced. Neither argument is changed; the result shares
    nothing with them."""
    out = copy.deepcopy(base)
    _merge_into(out, update)
    return out


def _merge_into(out: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            _merge_into(out[key], value)
        else:
            out[key] = copy.deepcopy(value)


def load_config(config: "str | Path | dict | Config | None" = None, overrides: dict[str, Any] | None = None) -> Config:
    """Build a validated :class:`Config` from a path, dict, Config or ``None`` (the baseline)."""
    overrides = dict(overrides or {})
    if isinstance(config, Config):
        if not overrides:
            return config
        data, source = config.to_dict(), f"'{config.name}'"
    elif config is None:
        data, source = (read_yaml(BASELINE_PATH) if BASELINE_PATH.exists() else {}), str(BASELINE_PATH.name)
    elif isinstance(config, dict):
        data, source = config, "(dict)"            # deep_merge copies it
    else:
        data, source = read_yaml(config), str(config)
    data = _set_overrides(deep_merge(_defaults(), data), overrides)   # (the merge is a fresh copy)
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source, Config)) from None


def scenario_path(name: str) -> Path:
    """Path of a named scenario in ``configs/scenarios``; unknown names get the list of valid ones."""
    p = SCENARIO_DIR / f"{name}.yaml"
    if not p.exists():
        names = sorted(q.stem for q in SCENARIO_DIR.glob("*.yaml"))
        raise ConfigError(f"unknown scenario {name!r}{_closest(name, names)}; available: {', '.join(names)}")
    return p


def resolve_config_arg(arg: str | None) -> Path:
    """A CONFIG argument is a path to a YAML file or the name of a scenario."""
    if arg is None:
        return BASELINE_PATH
    p = Path(arg)
    if p.suffix in (".yaml", ".yml") or p.exists() or "/" in arg:
        return p
    if arg == "baseline":
        return BASELINE_PATH
    return scenario_path(arg)


def dump_yaml(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)

