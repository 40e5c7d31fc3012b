"""DryPowderModel: AI capex financed out of a finite dry-powder pool (Mesa 3.5).

One step is a week. Within a step, in order (MODEL.md §1):

1. exogenous: AI revenue, GPU generations, the policy rate;
2. cash flows: operating cash flow, compute contracts, rents, interest, amortisation;
3. decisions: the quarterly capex game and funding waterfall, lab funding and capital calls,
   neocloud GPU purchases, fund-raising, redemption requests, retail momentum;
4. funding clears against the pool; the unabsorbed rest crowds out other assets;
5. prices: discount rate, liquidity beta, drift, noise and events;
6. the cascade: margin calls, covenants, redemptions, commitments and defaults, round by round;
7. defaults settle along claims (Eisenberg-Noe);
8. data collection.

Performance notes: every group of holders is a contiguous block of book rows (``model.slices``), so
group rules are slices of the arrays rather than Python loops over agents; ``model.alive`` mirrors
the agents' ``defaulted`` flags; data collection appends the step's metrics without Mesa's
per-value deep copy (:class:`MetricsCollector`). See ``benchmarks/README.md``.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.discrete_space import Network

from agents.ai_lab import AILab
from agents.central_bank import CentralBank
from agents.hedge_fund import HedgeFund
from agents.hyperscaler import Hyperscaler, capex_game, operating_cash_flow
from agents.neocloud import Neocloud
from agents.private_credit import PrivateCreditFund
from agents.retail import RetailPopulation
from agents.sovereign import SovereignFund
from sim.arrays import divide_where_positive
from sim.balance_sheets import Book
from sim.cascade import Cascade
from sim.config import ASSETS, BASELINE_PATH, Config, load_config
from sim.constraints import realised_vol
from sim.liquidity import WEEKS_PER_YEAR, DryPowderPool, absorb, signed_pressure
from sim.network import agent_graph, claims_between_agents, claims_network

A = {name: k for k, name in enumerate(ASSETS)}
AGENT_KINDS = ("hyperscaler", "neocloud", "private_credit", "sovereign", "hedge_fund", "ai_lab", "retail")

PRICE_KEYS = tuple(f"price_{a}" for a in ASSETS)

# ndarray.sum / .any / zeros_like pass through Python-level wrappers in numpy; the weekly loop calls
# them thousands of times, so it uses the ufunc reductions themselves (the same computation).
_sum = np.add.reduce
_any = np.logical_or.reduce

_CONFIGS: dict[tuple, Config] = {}


def _load_config(config, overrides: dict) -> Config:
    """:func:`sim.config.load_config`, remembering the result for a YAML file (by path, modification
    time and size) and overrides, so that building many models from one file parses it once.
    Configs are frozen; dicts and Config objects go straight to ``load_config``."""
    if not (config is None or isinstance(config, (str, Path))):
        return load_config(config, overrides)
    try:
        path = (BASELINE_PATH if config is None else Path(config)).resolve()
        st = path.stat()
        key = (str(path), config is None, st.st_mtime_ns, st.st_size,
               tuple(sorted((str(k), repr(v)) for k, v in overrides.items())))
    except (OSError, TypeError, ValueError):
        return load_config(config, overrides)
    cfg = _CONFIGS.get(key)
    if cfg is None:
        cfg = load_config(config, overrides)
        if len(_CONFIGS) >= 64:
            _CONFIGS.pop(next(iter(_CONFIGS)))
        _CONFIGS[key] = cfg
    return cfg


def _payable(amount: float, cash: float) -> float:
    """What a payment of ``amount`` to outside the model can be: never negative, never more than the
    cash there is (the rest is not paid)."""
    return min(max(amount, 0.0), max(cash, 0.0))


def _clip01(x) -> float:
    """float(np.clip(x, 0, 1)) for a scalar, without the array machinery."""
    return float(min(max(x, 0.0), 1.0))


def _mean(x: np.ndarray) -> float:
    """float(np.mean(x)) (1 for an empty array): the same sum divided by the count."""
    return float(x.sum() / len(x)) if len(x) else 1.0


# Portfolio weights at t=0 (order of ASSETS). Sources and reasoning in MODEL.md §3.
SOVEREIGN_WEIGHTS = np.array([0.27, 0.15, 0.25, 0.06, 0.08, 0.03, 0.01, 0.0])
HEDGE_FUND_WEIGHTS = np.array([0.10, 0.15, 0.30, 0.20, 0.15, 0.10, 0.0, 0.0])
PC_LIQUID_WEIGHTS = np.array([0.4, 0.6, 0, 0, 0, 0, 0, 0])


class MetricsCollector(mesa.DataCollector):
    """Mesa's DataCollector for reporters that read ``model.metrics``: the same ``model_vars`` and
    collection steps (so ``get_model_vars_dataframe`` and ``mesa.batch_run`` work as usual), filled by
    appending the step's metrics, which are plain floats and ints and need no deep copy."""

    def collect(self, model) -> None:
        layout = (len(self.model_reporters), len(self.agent_reporters), len(self.agenttype_reporters))
        if getattr(self, "_fast_layout", None) != layout:     # (re)check when reporters are added
            self._fast = not layout[1] and not layout[2] and all(
                getattr(r, "metric_key", None) is not None for r in self.model_reporters.values())
            self._columns = [(self.model_vars[var].append, r.metric_key) for var, r in self.model_reporters.items()] \
                if self._fast else []
            self._fast_layout = layout
        if not self._fast:
            super().collect(model)      # anything but metric reporters: Mesa's own path
            return
        self._collection_steps.append(model.time)
        metrics = model.metrics
        for append, key in self._columns:
            append(metrics[key])


def _metric_reporter(key: str):
    """Model reporter returning ``model.metrics[key]`` (tagged for :class:`MetricsCollector`)."""
    def report(m, key=key):
        return m.metrics[key]
    report.metric_key = key
    return report


class DryPowderModel(mesa.Model):
    """The AI-capex liquidity cycle. ``DryPowderModel(config=None, rng=None, *, detail=True, **overrides)``.

    ``config``: a path, dict or :class:`sim.config.Config` (default: the baseline); ``rng``: seed
    or generator (default: ``config.seed``); overrides as dotted keys, e.g.
    ``DryPowderModel(**{"dry_powder.initial_bn": 800})``. ``detail=False`` keeps no agent rows and
    no event log (what experiments need is the summary and the model-level series, which are the
    same either way).
    """

    def __init__(self, config: "str | Path | dict | Config | None" = None, rng: Any = None, *, detail: bool = True,
                 **overrides):
        cfg = _load_config(config, overrides)
        self.detail = bool(detail)
        super().__init__(rng=cfg.seed if rng is None else rng)
        self.seed_used = int(cfg.seed) if rng is None else (int(rng) if isinstance(rng, (int, np.integer)) else None)
        self.cfg = cfg
        self.dt = 1.0 / WEEKS_PER_YEAR
        self.horizon = cfg.simulation.steps
        self.K = len(ASSETS)
        self._asset_arrays()
        self.prices = np.ones(self.K)
        self.flow_log_price = np.zeros(self.K)      # drift, noise, impact, events: cumulative log
        self.pool = DryPowderPool(cfg)
        self.y0 = self.pool.coc.ust10y
        self.s0 = self.pool.coc.ig_spread
        self.ai_revenue0 = cfg.ai.revenue_bn_per_yr
        self.ai_revenue = cfg.ai.revenue_bn_per_yr
        self.rental_index = 1.0
        self.generations = 0
        self._build_agents()
        self._build_book()
        # the claims between agents at t=0, the topology of the Mesa space (built when first used:
        # batch runs never look at it, and building it costs about 2% of a run)
        self._space_edges = [(u, v) for u, v, _, _ in claims_between_agents(self)]
        self._space = None
        self.cascade = Cascade(self)
        self._init_tracking()
        self.datacollector = MetricsCollector(model_reporters={key: _metric_reporter(key) for key in self.metrics})
        self.datacollector.collect(self)
        if self.detail:
            self._record_agents()

    # ================================================================== construction
    def _asset_arrays(self) -> None:
        p = [self.cfg.assets[a] for a in ASSETS]
        self.duration = np.array([x.duration for x in p])
        self.margin = np.array([x.margin for x in p])
        self.liquidity_beta = np.array([x.liquidity_beta for x in p])
        self.spread_beta = np.array([x.spread_beta for x in p])
        self.drift = np.array([x.drift for x in p])
        self.vol = np.array([x.vol for x in p])
        self.depth = np.array([x.depth_bn for x in p])
        self.generation_beta = np.array([x.generation_beta for x in p])
        self.capex_beta = np.array([x.capex_beta for x in p])
        # the weekly drift and volatility of the flow price, (mu - sigma^2 / 2) dt and sigma sqrt(dt)
        self._drift_per_step = (self.drift - 0.5 * self.vol ** 2) * self.dt
        self._vol_per_step = self.vol * np.sqrt(self.dt)
        w = self.cfg.dry_powder.crowding_out_weights
        cw = np.array([w.get(a, 0.0) for a in ASSETS])
        self.crowding_weights = cw / cw.sum() if cw.sum() > 0 else cw

    def _build_agents(self) -> None:
        c = self.cfg
        self.hyperscalers = [Hyperscaler(self, f) for f in c.hyperscalers.firms]
        self.neoclouds = [Neocloud(self, f"Neocloud {i + 1}") for i in range(c.neoclouds.count)]
        self.pc_funds = [PrivateCreditFund(self, f"Credit fund {i + 1}") for i in range(c.private_credit.count)]
        self.sovereigns = [SovereignFund(self, f"Sovereign {i + 1}") for i in range(c.sovereigns.count)]
        self.hedge_funds = [HedgeFund(self, f"Hedge fund {i + 1}", c.hedge_funds.leverage) for i in range(c.hedge_funds.count)]
        self.labs = [AILab(self, lab) for lab in c.ai_labs.labs]
        self.retail = RetailPopulation(self, c.retail, self.rng)
        self.central_bank = CentralBank(self, c.central_bank)
        self.holders = [*self.hyperscalers, *self.neoclouds, *self.pc_funds, *self.sovereigns, *self.hedge_funds,
                        *self.labs, self.retail]
        for row, agent in enumerate(self.holders):
            agent.row = row
        self.kind_of_row = np.array([a.kind for a in self.holders])
        rows = lambda group: np.array([a.row for a in group], dtype=int)  # noqa: E731
        self.rows = {"hyperscaler": rows(self.hyperscalers), "neocloud": rows(self.neoclouds),
                     "private_credit": rows(self.pc_funds), "sovereign": rows(self.sovereigns),
                     "hedge_fund": rows(self.hedge_funds), "ai_lab": rows(self.labs),
                     "retail": np.array([self.retail.row])}
        self.fund_rows = np.concatenate([self.rows["private_credit"], self.rows["hedge_fund"]])
        self.funds = [*self.pc_funds, *self.hedge_funds]
        # each group is a contiguous block of rows: slices are views, no gathering
        self.slices = {}
        for kind, r in self.rows.items():
            start = int(r[0]) if len(r) else 0
            assert np.array_equal(r, np.arange(start, start + len(r))), kind
            self.slices[kind] = slice(start, start + len(r))
        self.is_fund = np.zeros(len(self.holders), dtype=bool)
        self.is_fund[self.fund_rows] = True
        self.alive = np.array([not a.defaulted for a in self.holders])   # kept in step by Holder.defaulted

    def _sizes(self, n: int, total: float) -> np.ndarray:
        """Heterogeneous sizes that sum to ``total``: a function of the seed (lognormal, sigma 0.6)."""
        if n == 0:
            return np.zeros(0)
        w = self.rng.lognormal(0.0, 0.6, n)
        return total * w / w.sum()

    def _build_book(self) -> None:
        c = self.cfg
        n = len(self.holders)
        b = self.book = Book(n, self.K)
        # hyperscalers
        for h in self.hyperscalers:
            f = h.firm
            b.cash[h.row] = f.cash_bn
            b.units[h.row, A["ust"]] = f.ust_bn
            b.external_debt[h.row] = f.debt_bn
            b.other_assets[h.row] = 4.0 * f.ocf_bn          # PP&E and other operating assets at book
        self.coupon_rate = np.full(n, 0.04)
        self.capex_stock = np.zeros(n)
        # neoclouds: GPU fleets financed by private-credit loans
        nc = c.neoclouds
        fleet = self._sizes(nc.count, nc.gpu_value_bn)
        b.units[self.rows["neocloud"], A["used_gpu"]] = fleet
        b.cash[self.rows["neocloud"]] = self._sizes(nc.count, nc.cash_bn) if nc.count else 0.0
        # private-credit funds
        pc = c.private_credit
        nav = self._sizes(pc.count, pc.nav_bn)
        gross = nav * (1.0 + pc.fund_leverage)
        b.lender_rows = self.rows["private_credit"]
        b.borrower_rows = self.rows["neocloud"]
        b.gpu_loans = np.zeros((pc.count, nc.count))
        advance = np.clip(nc.advance_rate + self.rng.uniform(-1, 1, nc.count) * nc.advance_rate_spread, 0.0, 0.95)
        if pc.count and nc.count:
            for j in range(nc.count):   # each neocloud borrows from 1-3 funds, chosen by size
                k = int(self.rng.integers(1, min(3, pc.count) + 1))
                lenders = self.rng.choice(pc.count, size=k, replace=False, p=gross / gross.sum())
                split = self.rng.dirichlet(np.ones(k))
                b.gpu_loans[lenders, j] = advance[j] * fleet[j] * split
        self.loan_origination = b.gpu_loans.sum(axis=0).copy()
        assert np.array_equal(b.lender_rows, np.arange(len(self.holders))[self.slices["private_credit"]])
        self.advance_rate = advance
        self.covenant_ltv = np.minimum(advance + nc.covenant_headroom, 0.98)
        pc_rows = self.rows["private_credit"]
        for i, fund in enumerate(self.pc_funds):
            r = fund.row
            liquid = pc.liquid_share * gross[i]
            b.cash[r] = 0.2 * liquid
            b.units[r] += 0.8 * liquid * PC_LIQUID_WEIGHTS
            fund.software_principal_bn = pc.software_loan_share * gross[i]
            gpu = b.gpu_loans[i].sum()
            fund.other_loans_bn = max(gross[i] - liquid - fund.software_principal_bn - gpu, 0.0)
            b.other_assets[r] = fund.software_principal_bn + fund.other_loans_bn
            b.external_debt[r] = pc.fund_leverage * nav[i]
            b.fund_units_outstanding[r] = nav[i]
        # hedge funds
        hf = c.hedge_funds
        hf_equity = self._sizes(hf.count, hf.equity_bn)
        # strategies differ: leverage spread around the mean (lognormal, sigma 0.2; at least 1) and
        # portfolio weights drawn around the average book (Dirichlet, concentration 30)
        hf_leverage = np.maximum(1.0, hf.leverage * self.rng.lognormal(-0.02, 0.2, hf.count))
        hf_weights = self.rng.dirichlet(30.0 * HEDGE_FUND_WEIGHTS + 1e-3, hf.count) * (HEDGE_FUND_WEIGHTS > 0)
        for i, fund in enumerate(self.hedge_funds):
            r = fund.row
            fund.target_leverage = float(hf_leverage[i])
            w = hf_weights[i] / hf_weights[i].sum()
            b.units[r] = hf_equity[i] * hf_leverage[i] * w
            b.external_debt[r] = hf_equity[i] * (hf_leverage[i] - 1.0)
            b.fund_units_outstanding[r] = hf_equity[i]
        self.hf_target_leverage = np.ones(n)                  # per holder row; hedge funds' own targets
        self.hf_target_leverage[self.rows["hedge_fund"]] = hf_leverage
        # sovereign funds: liquid portfolios, fund shares, commitments to labs
        sv = c.sovereigns
        aum = self._sizes(sv.count, sv.aum_bn)
        total_hf_nav = hf_equity.sum()
        for i, fund in enumerate(self.sovereigns):
            r = fund.row
            share = aum[i] / aum.sum() if sv.count else 0.0
            b.cash[r] = sv.cash_share * aum[i]
            hf_stake = min(sv.hedge_fund_share * aum[i], hf.sovereign_share * total_hf_nav * share)
            if hf.count:
                b.fund_units[r, self.rows["hedge_fund"]] = hf_stake * hf_equity / total_hf_nav
            pc_stake = pc.sovereign_share * nav * share
            if pc.count:
                b.fund_units[r, pc_rows] = pc_stake
            rest = aum[i] - b.cash[r] - hf_stake - pc_stake.sum()
            b.units[r] = max(rest, 0.0) * SOVEREIGN_WEIGHTS / SOVEREIGN_WEIGHTS.sum()
        sov_share = aum / aum.sum() if sv.count else np.zeros(0)
        lab_share = np.array([lab.params.commitment_share for lab in self.labs])
        self.commitments = sv.commitments_bn * np.outer(sov_share, lab_share)
        # AI labs and their compute contracts
        for lab in self.labs:
            b.cash[lab.row] = lab.params.cash_bn
        self._build_contracts()
        # retail: the population agent keeps its own arrays; its row mirrors the totals
        self._sync_retail()
        b.initial_cash_total = self.total_cash()

    def _build_contracts(self) -> None:
        """Compute contracts: labs pay neoclouds (lab_revenue_share of neocloud rents) and the
        hyperscalers with a ``lab_contract_share``; each lab spends in the same proportions."""
        c = self.cfg
        nc = c.neoclouds
        lab_compute = sum(l.params.compute_bn_per_yr for l in self.labs)
        fleet = self.book.units[self.rows["neocloud"], A["used_gpu"]]
        neocloud_rent = fleet * nc.rent_yield * nc.utilisation
        to_neoclouds = nc.lab_revenue_share * neocloud_rent
        hs_share = np.array([h.firm.lab_contract_share for h in self.hyperscalers])
        providers, shares = [], []
        nc_total_share = min(to_neoclouds.sum() / lab_compute, 1.0) if lab_compute > 0 else 0.0
        hs_total = hs_share.sum()
        hs_scale = (1.0 - nc_total_share) / hs_total if hs_total > 0 else 0.0
        for h, s in zip(self.hyperscalers, hs_share):
            if s > 0:
                providers.append(h)
                shares.append(s * hs_scale)
        nc_split = to_neoclouds / to_neoclouds.sum() if to_neoclouds.sum() > 0 else to_neoclouds
        for agent, s in zip(self.neoclouds, nc_split):
            providers.append(agent)
            shares.append(nc_total_share * s if hs_total > 0 else s)
        self.contract_providers = providers
        shares = np.array(shares)
        self.contract_shares = np.tile(shares / shares.sum() if shares.sum() > 0 else shares, (len(self.labs), 1))
        self.contract_rows = np.array([p.row for p in providers], dtype=int)
        # the part of neocloud rent not under lab contracts comes from other customers
        self.neocloud_other_rent_share = 1.0 - nc.lab_revenue_share

    def _init_tracking(self) -> None:
        self.total_capex_planned = 0.0
        self.total_capex_realized = 0.0
        self.total_issuance = 0.0
        self.nash_multiplier = np.ones(len(self.hyperscalers))
        self.coop_multiplier = np.ones(len(self.hyperscalers))
        self.capex_multiplier_means = (_mean(self.nash_multiplier), _mean(self.coop_multiplier))   # as reported
        # weekly log returns of the volatility window, a ring buffer (rows in arrival order until full)
        self._returns = np.zeros((self.cfg.hedge_funds.vol_window_weeks, self.K))
        self.weeks_closed = 0            # weeks whose close is recorded; the latest return is row (n - 1) % window
        self.price_history = [self.prices.copy()]    # weekly closes (the last 30), t=0 first
        self.quarter_end_nav = self.fund_nav()      # fund NAVs at the last quarter end (t=0 at first)
        # the detail tables, kept unless the model is built with detail=False (summary and series only)
        self.events: list[tuple] | None = [] if self.detail else None    # rows of sim.cascade.EVENT_COLUMNS
        self.agent_rows: list[dict] | None = [] if self.detail else None
        self.defaults_by_kind = {k: 0 for k in AGENT_KINDS}
        self.redemption_requests_bn = {"private_credit": 0.0, "hedge_fund": 0.0}   # outside investors' requests
        self.step_fire_sales = 0.0
        self.fire_sale_volume = 0.0
        self.max_rounds = 0
        self.last_rounds = 0
        self.credit_losses = 0.0
        self.losses_by_kind = {k: 0.0 for k in AGENT_KINDS}
        self.outside_losses = 0.0
        self.gate_streak_max = 0
        self.step_shortfall = 0.0
        self.step_absorbed = 0.0
        self.step_demand = 0.0
        self.step_capex_planned = 0.0
        self.step_capex_realized = 0.0
        self.exhausted_step: int | None = None
        self.peak_ust10y = self.pool.coc.ust10y
        self.metrics: dict[str, float] = {}
        self._update_metrics()

    # ================================================================== views
    @property
    def t_years(self) -> float:
        return self.steps * self.dt

    def total_cash(self) -> float:
        return float(self.book.cash.sum() + self.retail.cash.sum())

    def fund_nav(self) -> np.ndarray:
        """NAV of every fund row (private credit, hedge funds); zero for non-funds:
        cash + units . prices + other assets - debt, plus GPU loans receivable for lenders."""
        b = self.book
        nav = np.where(self.is_fund, b.cash + b.units @ self.prices + b.other_assets - b.external_debt, 0.0)
        if b.gpu_loans.size:
            nav[self.slices["private_credit"]] += _sum(b.gpu_loans, 1)    # the lenders: b.lender_rows
        return nav

    def pc_nav(self) -> np.ndarray:
        """NAV of the private-credit funds (their rows of :meth:`fund_nav`, computed alone)."""
        b, sl = self.book, self.slices["private_credit"]
        nav = b.cash[sl] + b.units[sl] @ self.prices + b.other_assets[sl] - b.external_debt[sl]
        if b.gpu_loans.size:
            nav += _sum(b.gpu_loans, 1)
        return nav

    def total_assets(self) -> np.ndarray:
        return self.book.total_assets(self.prices, self.fund_nav())

    def equity(self) -> np.ndarray:
        return self.book.equity(self.prices, self.fund_nav())

    def cash_conservation_gap(self) -> float:
        lhs = self.total_cash() + self.pool.level_bn
        rhs = (self.book.initial_cash_total + self.pool.initial_bn + sum(self.book.sources.values())
               - sum(self.book.sinks.values()))
        return lhs - rhs

    @property
    def graph(self):
        """Undirected graph of the claims between agents at t=0 (networkx), the space's topology."""
        return self.space.G

    @property
    def space(self) -> Network:
        """The Mesa network space: one node per holder, an edge per claim between two agents at t=0;
        every holder is fixed to its node. Built on first use."""
        if self._space is None:
            self._space = Network(agent_graph(self.holders, self._space_edges), layout=None, random=self.random)
            for agent in self.holders:
                if agent is not self.retail:       # the retail population reads its node (RetailPopulation.cell)
                    agent.cell = self._space[agent.unique_id]
        return self._space

    @property
    def network(self):
        """The claims network (networkx DiGraph), rebuilt from the current balance sheets."""
        return claims_network(self)

    def _sync_retail(self) -> None:
        """The retail row of the book: the population's total units and debt (cash stays in its arrays).
        The cascade marks it stale after retail trades; it is brought up to date before the defaults
        are settled and at the end of every step."""
        self._retail_stale = False
        r = self.retail.row
        self.book.units[r] = self.retail.units_total
        self.book.external_debt[r] = _sum(self.retail.debt)
        self.book.cash[r] = 0.0   # retail cash lives in the population's arrays

    # ================================================================== the step
    def step(self) -> None:
        self.cascade.begin_step()
        self._exogenous()
        self._cash_flows()
        requests = self._decisions()
        self._clear_funding(requests)
        self._reprice()
        self.cascade.run()
        self._backstop_floor()
        self._spend_capex()
        self._end_of_step()

    def run(self, steps: int | None = None, progress: bool = False) -> "DryPowderModel":
        """Run ``steps`` weeks (default: to the horizon). Returns the model for chaining."""
        n = self.horizon - self.steps if steps is None else int(steps)
        it = range(max(n, 0))
        if progress:
            from tqdm import tqdm
            it = tqdm(it, desc="weeks", unit="wk", leave=False)
        for _ in it:
            self.step()
        return self

    # ---------------------------------------------------------------- 1. exogenous
    def _exogenous(self) -> None:
        c = self.cfg
        z = self.rng.standard_normal()
        g, s = c.ai.revenue_growth, c.ai.revenue_vol
        g -= c.power.revenue_elasticity * getattr(self, "power_limited_share", 0.0) * max(g, 0.0)
        self.ai_revenue *= np.exp((g - 0.5 * s * s) * self.dt + s * np.sqrt(self.dt) * z)
        self.generation_now = 0.0
        hazard = c.gpu.generation_hazard_per_yr * self.dt
        if self.steps in c.gpu.generation_steps or (hazard > 0 and self.rng.random() < hazard):
            self.generations += 1
            self.generation_now = c.gpu.generation_value_drop
            self.rental_index *= max(0.0, 1.0 - c.gpu.rental_pass_through * c.gpu.generation_value_drop)
        self.policy_rate = self.central_bank.policy_rate(self.t_years)

    # ---------------------------------------------------------------- 2. cash flows
    def _cash_flows(self) -> None:
        c, b, dt, t = self.cfg, self.book, self.dt, self.t_years
        cash = b.cash
        # hyperscalers: operating cash flow, coupons, dividends
        # (five firms: Python floats, one firm at a time, cost less than array operations)
        if self.hyperscalers:
            growth, margin = c.hyperscalers.ocf_growth, c.ai.hyperscaler_margin
            received = coupons = dividends = 0.0
            for h in self.hyperscalers:
                row, firm = h.row, h.firm
                ocf = operating_cash_flow(firm.ocf_bn, firm.ai_revenue_share, t, growth, margin, self.ai_revenue,
                                          self.ai_revenue0)
                inflow = (ocf if ocf > 0.0 else 0.0) * dt
                have = float(cash[row]) + inflow
                coupon = _payable(float(b.external_debt[row] * self.coupon_rate[row]) * dt, have)
                have -= coupon
                dividend = _payable(firm.dividends_bn * dt, have)
                cash[row] = have - dividend
                received += inflow
                coupons += coupon
                dividends += dividend
            b.record(received, "operating_cash_flow")
            b.record(-coupons, "coupons_to_bondholders")
            b.record(-dividends, "shareholder_payouts")
        # AI labs: revenue, compute contracts, other costs
        for li, lab in enumerate(self.labs):
            if lab.defaulted:
                continue
            row = lab.row
            b.external(row, lab.revenue_rate(self.ai_revenue) * dt, "ai_revenue")
            bill = lab.compute_rate(t) * dt
            paid = min(bill, max(cash[row], 0.0))
            b.transfer_to_each(row, self.contract_rows, paid * self.contract_shares[li])    # distinct providers
            self._pay_out(row, c.ai_labs.other_cost_share * bill, "lab_operating_costs")
            if paid < bill - 1e-9:
                self.cascade.declare_default(lab, "payment")
        # neoclouds: rents, opex, interest and amortisation to their lenders
        nc = c.neoclouds
        rows = self.slices["neocloud"]
        if self.neoclouds:
            alive = self.alive[rows]
            capacity = b.units[rows, A["used_gpu"]]
            rent = capacity * nc.rent_yield * self.rental_index * nc.utilisation * dt * alive
            b.receive(rows, rent * self.neocloud_other_rent_share, "gpu_rental_revenue")
            b.pay_out(rows, np.minimum(nc.opex_share * rent, np.maximum(cash[rows], 0.0)), "operating_costs")
            loans = b.gpu_loans                         # [lender, neocloud]
            owed = _sum(loans, 0)
            # principal: the amount originated over the amortisation period, from each lender pro rata,
            # never more than is owed; interest on the balance. Each loan pays the same share a week.
            principal_share = np.minimum(
                self.loan_origination / (np.maximum(owed, 1e-12) * (nc.amortisation_years * WEEKS_PER_YEAR)), 1.0)
            due_share = (nc.loan_rate_pct / 100) * dt + principal_share
            due = owed * due_share
            can = np.minimum(due, np.maximum(cash[rows], 0.0))
            frac = divide_where_positive(can, due, 1.0)
            paid = frac * alive
            cash[rows] -= due * paid                    # transfer borrowers -> lenders
            cash[self.slices["private_credit"]] += loans @ (due_share * paid)
            loans *= 1.0 - principal_share * paid
            short = alive & (due > 0) & (frac < 1.0 - 1e-9)
            if _any(short):
                for j in np.flatnonzero(short):
                    self.cascade.declare_default(self.neoclouds[j], "payment")
        # private-credit funds: income on loan books, facility interest
        pc = c.private_credit
        rows = self.slices["private_credit"]
        if self.pc_funds:
            alive = self.alive[rows]
            book_principal = np.array([f.software_principal_bn + f.other_loans_bn for f in self.pc_funds])
            b.receive(rows, book_principal * pc.loan_yield_pct / 100 * dt * alive, "loan_interest_received")
            rate = self.pool.coc.ust10y + self.pool.coc.ig_spread + 0.02
            self._pay_out_rows(rows, b.external_debt[rows] * rate * dt * alive, "facility_interest")
        # hedge funds: prime-broker financing
        rows = self.slices["hedge_fund"]
        if self.hedge_funds:
            alive = self.alive[rows]
            self._pay_out_rows(rows, b.external_debt[rows] * (self.policy_rate + 0.005) * dt * alive,
                               "prime_broker_interest")
        # retail: savings inflow
        if self.retail.n:
            inflow = self.cfg.retail.inflow_bn_per_yr * dt
            self.retail.cash += self.retail.savings(inflow)       # inflow * wealth share
            b.record(inflow, "retail_savings")

    def _pay_out_rows(self, rows: np.ndarray, amounts: np.ndarray, category: str) -> None:
        """Vector form of :meth:`_pay_out`."""
        paid = np.minimum(np.maximum(amounts, 0.0), np.maximum(self.book.cash[rows], 0.0))
        self.book.pay_out(rows, paid, category)

    def _pay_out(self, row: int, amount: float, category: str) -> float:
        """Pay ``amount`` to outside the model from cash, as far as cash goes; returns what was paid."""
        paid = _payable(amount, float(self.book.cash[row]))
        if paid > 0:
            self.book.external(row, -paid, category)
        return paid

    # ---------------------------------------------------------------- 3. decisions
    def _decisions(self) -> list[tuple[int, float, bool, str]]:
        """Returns funding requests (row, $bn, may crowd out other assets, channel)."""
        c, b, dt, t = self.cfg, self.book, self.dt, self.t_years
        requests: list[tuple[int, float, bool, str]] = []
        hs = c.hyperscalers
        if (self.steps - 1) % hs.decision_every_steps == 0:
            self._play_capex_game()
        self.step_capex_planned = 0.0
        self.capex_due = np.zeros(len(self.holders))
        power = c.power
        self.power_limited_share = 0.0
        cash = b.cash
        for h in self.hyperscalers:
            row, firm = h.row, h.firm
            plan = h.planned_capex_rate(t, hs.capex_growth) * dt
            self.step_capex_planned += plan
            capex = plan * h.capex_multiplier
            if power.enabled:   # capex beyond what the grid can connect is deferred, not spent
                deployable = firm.capex_2026_bn * (1.0 + power.deployable_growth) ** t * dt
                if capex > deployable:
                    self.power_limited_share += (capex - deployable) / max(self.step_capex_planned, 1e-12) / len(self.hyperscalers)
                    capex = deployable
            self.capex_due[row] = capex
            buybacks = 0.0 if h.buybacks_halted else firm.buybacks_bn * dt
            floor = hs.cash_floor_share * firm.cash_bn
            available = float(cash[row]) - floor
            if available < capex + buybacks:
                h.buybacks_halted = True
                buybacks = 0.0
            elif h.buybacks_halted and available > capex + firm.buybacks_bn * dt + 0.25 * firm.cash_bn:
                h.buybacks_halted = False
            if buybacks > 0:
                self._pay_out(row, buybacks, "shareholder_payouts")
            need = capex - max(float(cash[row]) - floor, 0.0)
            if need > 0:
                requests.append((row, need, True, "bonds"))
        # AI labs: cash first, then capital calls on sovereign commitments, then venture rounds
        for li, lab in enumerate(self.labs):
            if lab.defaulted:
                continue
            burn = lab.compute_rate(t) * (1 + c.ai_labs.other_cost_share) - lab.revenue_rate(self.ai_revenue)
            target = max(burn, 0.0) * 0.25       # keep a quarter of burn as cash
            gap = target - float(b.cash[lab.row])
            if gap <= 0:
                continue
            undrawn = self.commitments[:, li]
            total_undrawn = _sum(undrawn)
            call = min(gap, total_undrawn, max(burn, 0.0) * dt * 4)
            if call > 0:
                amounts = call * (undrawn / total_undrawn)     # pro rata to each sovereign's undrawn commitment
                undrawn -= amounts                              # (a view: the commitments are drawn)
                for sov, amount in zip(self.sovereigns, amounts.tolist()):
                    self.cascade.add_obligation(sov.row, lab.row, amount, "commitment")
                gap -= call
            if gap > 0:
                requests.append((lab.row, min(gap, c.ai_labs.venture_funding_bn_per_yr * dt), False, "venture"))
        # neoclouds: growth GPUs, equity part from cash, loan part from their lenders
        self._neocloud_growth()
        # private credit: fund-raising from the pool
        pc = c.private_credit
        quarter_end = self.steps % 13 == 0
        nav = self.fund_nav() if quarter_end else None
        if len(self.pc_funds) and pc.fundraising_bn_per_yr > 0:
            sl = self.slices["private_credit"]
            pc_nav = nav[sl] if quarter_end else self.pc_nav()
            self.pc_nav_at_requests = pc_nav      # the subscription price of the units sold in funding
            positive = np.maximum(pc_nav, 0)
            w = positive / max(_sum(positive), 1e-12)
            amount = pc.fundraising_bn_per_yr * dt * w
            idx = (self.alive[sl] & (w > 0)).nonzero()[0]
            requests.extend(zip((idx + sl.start).tolist(), amount[idx].tolist(), itertools.repeat(False),
                                itertools.repeat("fundraising")))
        # quarterly redemption requests
        if quarter_end:
            self.cascade.request_redemptions(nav)
        return requests

    def _play_capex_game(self) -> None:
        hs, c = self.cfg.hyperscalers, self.cfg
        t = self.t_years
        alive = [h for h in self.hyperscalers]
        plan = np.array([h.planned_capex_rate(t, hs.capex_growth) for h in alive])
        ocf = np.array([h.operating_cash_flow_rate(t, hs.ocf_growth, c.ai.hyperscaler_margin, self.ai_revenue,
                                                   self.ai_revenue0) for h in alive])
        payouts = np.array([h.firm.dividends_bn + h.firm.buybacks_bn for h in alive])
        spare = np.array([max(self.book.cash[h.row] - hs.cash_floor_share * h.firm.cash_bn, 0.0) for h in alive])
        coc = self.pool.coc
        rate = np.full(len(alive), coc.ust10y + coc.ig_spread + hs.bond_coupon_spread_bp / 1e4)
        penalty = hs.fcf_penalty * coc.ig_spread / self.s0
        prize = hs.race_prize_multiple * self.ai_revenue
        options = 1.0 + np.array(hs.capex_adjustments)
        nash, coop = capex_game(plan, options, prize_bn=prize, financing_rate=rate, ocf=ocf, payouts=payouts,
                                spare_cash=spare, burn_penalty=penalty, life_years=hs.gpu_life_years)
        self.nash_multiplier, self.coop_multiplier = nash, coop
        self.capex_multiplier_means = (_mean(nash), _mean(coop))
        self.coop_plan_gap_bn = float(((nash - coop) * plan).sum())
        for h, m in zip(alive, nash):
            h.capex_multiplier = float(m)

    def _neocloud_growth(self) -> None:
        """Neoclouds buy new GPUs each week: the equity part from cash (keeping a quarter's reserve),
        the loan part from their existing lenders pro rata, as far as the lenders have cash."""
        b, nc = self.book, self.cfg.neoclouds
        rows = self.slices["neocloud"]
        if not self.neoclouds or nc.growth_capex_share <= 0:
            return
        p_gpu = self.prices[A["used_gpu"]]
        alive = self.alive[rows]
        fleet_value = b.units[rows, A["used_gpu"]] * p_gpu
        cost = fleet_value * nc.growth_capex_share * self.dt
        equity_part = (1.0 - self.advance_rate) * cost
        reserve = 0.1 * fleet_value * self.dt * 13
        buys = alive & (cost > 0) & (b.cash[rows] >= equity_part + reserve)
        if not _any(buys):
            return                   # nobody buys: no loan, no payment (the arithmetic below adds zeros)
        loans = b.gpu_loans
        lenders = self.slices["private_credit"]        # = b.lender_rows
        totals = _sum(loans, 0)
        lender_share = divide_where_positive(loans, totals, 0.0)
        financed = self.advance_rate * cost            # the loan-funded part of each purchase
        wanted = lender_share * (financed * buys)
        lender_cash = np.maximum(b.cash[lenders], 0.0)
        asked = _sum(wanted, 1)
        if np.logical_and.reduce(lender_cash >= asked):    # every lender has the cash: all is lent
            lend = wanted
        else:                                              # lenders short of cash lend pro rata
            lend = wanted * np.minimum(1.0, divide_where_positive(lender_cash, asked, 1.0))[:, None]
        lent = _sum(lend, 0)
        scale = divide_where_positive(lent, financed, 0.0)
        b.cash[lenders] -= _sum(lend, 1)     # transfer lenders -> borrowers
        b.cash[rows] += lent
        loans += lend
        self.loan_origination += lent
        spend = cost * scale
        b.pay_out(rows, spend, "gpu_purchases")
        b.units[rows, A["used_gpu"]] += spend / p_gpu

    def defaulted_mask(self, rows: np.ndarray | slice) -> np.ndarray:
        return ~self.alive[rows]

    # ---------------------------------------------------------------- 4. funding
    def _clear_funding(self, requests: list[tuple[int, float, bool, str]]) -> None:
        c, b, pool = self.cfg, self.book, self.pool
        dp = c.dry_powder
        dt = self.dt
        # inflows first: savings, recycled spending of last week, reserve purchases, rate-cut release
        inflow = dp.savings_inflow_bn_per_yr * dt
        inflow += dp.recycle_share * getattr(self, "step_capex_realized", 0.0)
        rmp = c.central_bank.reserve_purchases_bn_per_month * 12 * dt * c.central_bank.reserve_purchases_pool_share
        cut = max(c.central_bank.policy_rate_pct / 100 - self.policy_rate, 0.0) * 100
        inflow += rmp + dp.rate_cut_release_bn_per_pct * cut * dt
        pool.add(inflow)
        b.record(inflow, "pool_inflows")
        self.central_bank.reserve_purchases_bn += rmp
        demand = np.array([r[1] for r in requests]) if requests else np.zeros(0)
        channels = [r[3] for r in requests]
        # fund units are sold at the NAV when the requests were made (nothing has moved it since)
        pc_nav_before = self.pc_nav_at_requests if "fundraising" in channels else None
        absorbed, _ = absorb(demand, pool.level_bn)
        pool.take(_sum(absorbed))
        self.step_demand = float(_sum(demand))
        self.step_absorbed = float(_sum(absorbed))
        shortfall_total = 0.0
        backstop_bn = 0.0
        crowd_out_bn = 0.0
        if not requests:
            issued = absorbed
        else:
            rows_list = [r[0] for r in requests]
            rows = np.array(rows_list, dtype=np.intp)
            # the pool's cash reaches the requesters (pool already debited); one request per holder
            if len(set(rows_list)) == len(rows_list):
                b.cash[rows] += absorbed
            else:
                np.add.at(b.cash, rows, absorbed)
            missing = demand - absorbed
            issued = absorbed.copy()
            for i in (missing > 1e-12).nonzero()[0]:
                row, amount, crowds_out, channel = requests[i]
                shortfall_total += missing[i]
                if crowds_out and c.central_bank.backstop:   # the central bank buys what the pool cannot
                    b.external(row, missing[i], "central_bank_purchases")
                    backstop_bn += missing[i]
                    issued[i] += missing[i]
                elif crowds_out:        # own Treasuries first, then outside holders rotate out of other assets
                    rest = missing[i] - self._sell_own_treasuries(row, missing[i])
                    if rest > 0:
                        b.external(row, rest, "crowding_out_rotation")
                        crowd_out_bn += rest
                        issued[i] += rest
        for i, channel in enumerate(channels):
            if channel == "bonds":
                self.total_issuance += issued[i]
                self._issue_debt(requests[i][0], issued[i])
        funds = [i for i, channel in enumerate(channels) if channel == "fundraising"]
        if funds:
            fund_rows = rows[funds]
            self._issue_fund_units(fund_rows, absorbed[funds], pc_nav_before[fund_rows - self.slices["private_credit"].start])
        self.step_shortfall = shortfall_total
        if crowd_out_bn:
            self.cascade.crowding_out(crowd_out_bn * self.crowding_weights)
        self.central_bank.purchases_bn += backstop_bn
        self._backstop_floor()
        effective_shortfall = 0.0 if c.central_bank.backstop else shortfall_total
        credit_share = self.credit_losses / max(self.initial_credit, 1e-9)
        pool.update_cost_of_capital(self.policy_rate, effective_shortfall, min(credit_share, 1.0))
    def _backstop_floor(self) -> None:
        """With the backstop on, the central bank buys duration from the pool's holders whenever
        depletion would exceed ``backstop_max_depletion`` (before pricing and again after the cascade)."""
        cb = self.cfg.central_bank
        if not cb.backstop:
            return
        floor = (1.0 - cb.backstop_max_depletion) * self.pool.initial_bn
        top_up = max(floor - self.pool.level_bn, 0.0)
        if top_up > 0:
            self.pool.add(top_up)
            self.book.record(top_up, "central_bank_purchases")
            self.central_bank.purchases_bn += top_up

    def _spend_capex(self) -> None:
        """Capex is paid once funding (and any sale of own Treasuries) is in; what cannot be paid
        is not spent: realised capex falls short of the plan."""
        b = self.book
        self.step_capex_realized = 0.0
        life = self.cfg.hyperscalers.gpu_life_years
        for h in self.hyperscalers:
            row = h.row
            spend = min(float(self.capex_due[row]), max(float(b.cash[row]), 0.0))
            b.external(row, -spend, "capex_spent")
            b.other_assets[row] += spend
            self.step_capex_realized += spend
            # capex in place depreciates over the GPUs' economic life
            depreciation = float(self.capex_stock[row]) * self.dt / life
            b.other_assets[row] -= depreciation
            self.capex_stock[row] += spend - depreciation
        self.total_capex_planned += self.step_capex_planned
        self.total_capex_realized += self.step_capex_realized

    @property
    def initial_credit(self) -> float:
        if not hasattr(self, "_initial_credit"):
            self._initial_credit = float(self.book.gpu_loans.sum() + sum(f.software_principal_bn for f in self.pc_funds)
                                         + self.book.external_debt[self.rows["hedge_fund"]].sum())
        return self._initial_credit

    def _issue_debt(self, row: int, amount: float) -> None:
        if amount <= 0:
            return
        b = self.book
        rate = self.pool.coc.ust10y + self.pool.coc.ig_spread + self.cfg.hyperscalers.bond_coupon_spread_bp / 1e4
        old = b.external_debt[row]
        b.external_debt[row] = old + amount
        self.coupon_rate[row] = (self.coupon_rate[row] * old + rate * amount) / (old + amount)

    def _issue_fund_units(self, row: int | np.ndarray, amount, nav_before) -> None:
        """New investors buy fund shares at the NAV per unit before their subscription (1 for a fund
        with no units or no NAV); ``row`` one fund or an array of distinct funds."""
        b = self.book
        units = b.fund_units_outstanding[row]
        priced = (units > 0) & (nav_before > 0)
        price = np.where(priced, nav_before / np.where(priced, units, 1.0), 1.0)
        b.fund_units_outstanding[row] += np.where(amount > 0, amount / price, 0.0)

    def _sell_own_treasuries(self, row: int, amount: float) -> float:
        """A hyperscaler short of bond buyers sells its own Treasuries first: queued for round 0 of the
        cascade; capex is paid after the cascade, from the proceeds."""
        value = self.book.units[row, A["ust"]] * self.prices[A["ust"]]
        take = min(amount, value)
        if take > 0:
            self.cascade.queue_sale(row, A["ust"], take / self.prices[A["ust"]], "crowding_out")
        return take

    # ---------------------------------------------------------------- 5. prices
    def _reprice(self) -> None:
        coc = self.pool.coc
        dp = self.cfg.dry_powder
        dr = (coc.ust10y - self.y0) + self.spread_beta * (coc.ig_spread - self.s0)
        valuation = -np.log(np.maximum(1.0 + self.duration * dr, 0.25))
        liquidity = -self.liquidity_beta * signed_pressure(self.pool.x, dp.gamma, dp.eps)
        z = self.rng.standard_normal(self.K)
        self.flow_log_price += self._drift_per_step + self._vol_per_step * z
        if self.generation_now:
            self.flow_log_price += self.generation_beta * self.generation_now
        # capex feeds the hardware makers' cash flows (and weighs on the spenders' FCF)
        prev = getattr(self, "_last_capex_rate", None)
        rate = self.step_capex_realized
        if prev and prev > 0 and rate > 0:
            self.flow_log_price += self.capex_beta * np.log(rate / prev)
        self._last_capex_rate = rate
        # used GPUs lose value as they age (economic depreciation)
        self.flow_log_price[A["used_gpu"]] -= self.cfg.gpu.depreciation_per_yr * self.dt
        self.prices = np.exp(self.flow_log_price + valuation + liquidity)

    def apply_price_factor(self, factor: np.ndarray) -> None:
        """Multiply prices by ``factor`` (a clearing or a jump), keeping the decomposition."""
        self.flow_log_price += np.log(factor)
        self.prices = self.prices * factor

    # ---------------------------------------------------------------- 8. end of step
    def _end_of_step(self) -> None:
        if self._retail_stale:
            self._sync_retail()
        prev = self.price_history[-1]
        self._returns[self.weeks_closed % len(self._returns)] = np.log(self.prices / prev)
        self.weeks_closed += 1
        self.price_history.append(self.prices.copy())
        if len(self.price_history) > 30:
            self.price_history.pop(0)
        if self.steps % 13 == 0:      # redemption requests compare NAV with the last quarter end's
            self.quarter_end_nav = self.fund_nav()
        if self.exhausted_step is None and self.pool.level_bn <= 0.01 * max(self.pool.initial_bn, 1e-9):
            self.exhausted_step = int(self.steps)
        self.peak_ust10y = max(self.peak_ust10y, self.pool.coc.ust10y)
        self._update_metrics()
        self.datacollector.collect(self)
        if self.detail and (self.steps % self.cfg.simulation.agent_report_every == 0 or self.steps == self.horizon):
            self._record_agents()

    def return_13w(self) -> np.ndarray:
        """13-week log return of each asset, the retail momentum signal: current prices against the
        close 13 weeks ago (against t=0 during the first quarter)."""
        hist = self.price_history          # closes of weeks weeks_closed - len + 1 ... weeks_closed
        first = self.weeks_closed - len(hist) + 1
        return np.log(self.prices / hist[max(self.steps - 13, 0) - first])

    @property
    def log_returns(self) -> np.ndarray:
        """Weekly log returns of the volatility window, oldest first (rows: weeks, columns: assets)."""
        n, window = self.weeks_closed, len(self._returns)
        return np.roll(self._returns, -(n % window), axis=0) if n >= window else self._returns[:n].copy()

    def realised_vol(self) -> np.ndarray:
        """Annualised volatility of each asset over the window (the order of weeks does not matter)."""
        return realised_vol(self._returns[:self.weeks_closed])

    def _update_metrics(self) -> None:
        coc = self.pool.coc
        m = {"step": int(self.steps), "t_years": self.t_years}
        m.update(zip(PRICE_KEYS, self.prices.tolist()))
        m.update({
            "ust10y_pct": coc.ust10y * 100,
            "ig_spread_bp": coc.ig_spread * 1e4,
            "term_premium_bp": coc.term_premium * 1e4,
            "policy_rate_pct": coc.policy_rate * 100,
            "dry_powder_bn": self.pool.level_bn,
            "depletion": self.pool.x,
            "funding_demand_bn": self.step_demand,
            "funding_absorbed_bn": self.step_absorbed,
            "funding_shortfall_bn": self.step_shortfall,
            "capex_planned_bn": self.step_capex_planned,
            "capex_realized_bn": self.step_capex_realized,
            "capex_nash_multiplier": self.capex_multiplier_means[0],
            "capex_coop_multiplier": self.capex_multiplier_means[1],
            "ai_revenue_bn": self.ai_revenue,
            "rental_index": self.rental_index,
            "fire_sales_bn": self.step_fire_sales,
            "cascade_rounds": self.last_rounds,
            "defaults_total": sum(self.defaults_by_kind.values()) - self.defaults_by_kind["retail"],
            "retail_closeouts": self.defaults_by_kind["retail"],
            "neocloud_defaults": self.defaults_by_kind["neocloud"],
            "credit_losses_bn": self.credit_losses,
            "cb_balance_sheet_change_bn": self.central_bank.purchases_bn,
            "pc_gates_binding": int(sum(f.gate_bound_this_quarter for f in self.pc_funds)),
            "neocloud_max_ltv": self.cascade.max_ltv() if hasattr(self, "cascade") else 0.0,
        })
        m.update(self.trinity())
        self.metrics = m

    def trinity(self) -> dict[str, float]:
        """Impossible-trinity readout (MODEL.md §7), each in [0, 1]."""
        race = self.total_capex_realized / self.total_capex_planned if self.total_capex_planned > 0 else 1.0
        rise = max(self.peak_ust10y - self.y0, 0.0)
        stability = _clip01(1.0 - rise / 0.02)
        bought = self.central_bank.purchases_bn
        independence = _clip01(1.0 - bought / max(self.total_issuance, 1e-9)
                               / self.cfg.central_bank.independence_reference_share) if bought > 0 else 1.0
        return {"trinity_compute_race": _clip01(race), "trinity_bond_stability": stability,
                "trinity_independence": independence}

    def _record_agents(self) -> None:
        assets = self.total_assets()
        liabilities = self.book.total_liabilities()
        step = int(self.steps)
        rows = zip(self.holders, self.book.cash.tolist(), assets.tolist(), liabilities.tolist(),
                   (assets - liabilities).tolist())
        for a, cash, assets_bn, liabilities_bn, equity_bn in rows:
            if a is self.retail:       # retail cash lives in the population's arrays, not in the book
                cash = float(self.retail.cash.sum())
                assets_bn += cash
                equity_bn += cash
            self.agent_rows.append({
                "step": step, "agent_id": a.unique_id, "kind": a.kind, "name": a.name, "cash_bn": cash,
                "assets_bn": assets_bn, "liabilities_bn": liabilities_bn, "equity_bn": equity_bn,
                "defaulted": a.defaulted})

    def close(self) -> None:
        """Free the run's memory now. The model, its agents and its cascade refer to each other, so
        a finished model waits for Python's cyclic garbage collector, and a worker running many
        simulations holds dozens of dead ones (memory grows with the number of runs until a full
        collection). Breaking the cycles hands the memory back at once. Read every output first:
        the model cannot be used afterwards."""
        for agent in list(self.agents):
            agent.__dict__.clear()
        if "cascade" in self.__dict__:
            self.cascade.__dict__.clear()
        self.__dict__.clear()

    # ================================================================== outputs
    def model_frame(self, columns=None):
        """Model-level series, one row per collection (t=0 and every step); ``columns``: only these
        (names not collected are left out)."""
        if columns is None:
            return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        import pandas as pd
        collected = self.datacollector.model_vars
        return pd.DataFrame({c: collected[c] for c in columns if c in collected})

    def model_column(self, name: str) -> np.ndarray:
        """One model-level series as an array (the column of :meth:`model_frame`, without pandas)."""
        return np.asarray(self.datacollector.model_vars[name])

    def agents_frame(self):
        import pandas as pd
        self._need_detail("agents_frame")
        return pd.DataFrame(self.agent_rows)

    def events_frame(self):
        import pandas as pd
        from sim.cascade import EVENT_COLUMNS
        self._need_detail("events_frame")
        return pd.DataFrame(self.events, columns=EVENT_COLUMNS)

    def _need_detail(self, what: str) -> None:
        if not self.detail:
            raise RuntimeError(f"{what}: this model was built with detail=False, which keeps no agent rows or "
                               "event log; build it with detail=True (the default)")

    def summary(self) -> dict[str, Any]:
        from sim.summary import summarize
        return summarize(self)
