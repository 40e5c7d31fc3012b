"""DryPowderModel: AI capex financed out of a finite dry-powder pool (Mesa 3.5).

One step is a week; :meth:`DryPowderModel.step` is the schedule of MODEL.md §1. The rules live with
the agent types (``agents/``): each type is a group that acts for its members over their rows of the
book, the array-fast form of Mesa's ``model.agents_by_type[T].do(...)``. Building the economy is
:mod:`sim.economy`; the cascade is :mod:`sim.cascade` on the engine of :mod:`sim.engine`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.discrete_space import Network

from sim.cascade import WeeklyCascade
from sim.config import BASELINE_PATH, Config, load_config
from sim.defaults import Defaults
from sim.domain import AGENT_KINDS, ASSETS, WEEKS_PER_QUARTER, WEEKS_PER_YEAR
from sim.economy import build_economy
from sim.funding import FundingWeek, clear_funding, crowding_weights
from sim.liquidity import DryPowderPool
from sim.metrics import agent_rows, make_datacollector, week_metrics
from sim.network import agent_graph, claims_between_agents, claims_network
from sim.prices import AssetMarkets
from sim.records import EVENT_COLUMNS, EventLog
from sim.world import World

__all__ = ["AGENT_KINDS", "DryPowderModel"]

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
        self.market = AssetMarkets(self)
        self.crowding_weights = crowding_weights(cfg)
        self.pool = DryPowderPool(cfg)
        build_economy(self)
        self.world = World(self)
        self.groups = {g.kind: g for g in (self.hyperscalers, self.neoclouds, self.pc_funds, self.sovereigns,
                                           self.hedge_funds, self.labs)}
        self.groups[self.retail.kind] = self.retail
        self.funds = [*self.pc_funds, *self.hedge_funds]
        self.is_fund = np.zeros(len(self.holders), dtype=bool)
        self.is_fund[[f.row for f in self.funds]] = True
        # the claims between agents at t=0, the topology of the Mesa space (built when first used:
        # batch runs never look at it, and building it costs about 2% of a run)
        self._space_edges = [(u, v) for u, v, _, _ in claims_between_agents(self)]
        self._space = None
        self.defaults = Defaults(self)
        self.event_log = EventLog(self, self.detail)
        self.cascade = WeeklyCascade(self)
        self.funding = FundingWeek(0.0, 0.0, 0.0)
        self.quarter_end_nav = self.fund_nav()      # fund NAVs at the last quarter end (t=0 at first)
        self.agent_rows: list[dict] | None = [] if self.detail else None
        self.exhausted_step: int | None = None
        self.peak_ust10y = self.pool.coc.ust10y
        self.metrics: dict[str, float] = week_metrics(self)
        self.datacollector = make_datacollector(self.metrics)
        self.datacollector.collect(self)
        if self.detail:
            self.agent_rows.extend(agent_rows(self))

    # ================================================================== the step (MODEL.md §1)
    def step(self) -> None:
        """One week."""
        self.cascade.open_week()
        self.world.advance()                                   # 1. AI revenue, GPU generations, policy rate
        self.hyperscalers.collect_cash_flows()                 # 2. cash flows
        self.labs.earn_and_pay_compute()
        self.neoclouds.collect_rents_and_service_loans()
        self.pc_funds.collect_income()
        self.hedge_funds.pay_financing()
        self.retail.save()
        requests: list = []                                    # 3. decisions
        self.hyperscalers.plan_capex(requests)
        self.labs.raise_funding(requests)
        self.neoclouds.buy_gpus()
        quarter_end = self.steps % WEEKS_PER_QUARTER == 0
        nav = self.fund_nav() if quarter_end else None
        self.pc_funds.raise_funds(requests, nav)
        if quarter_end:                                        # quarterly redemption requests
            self.pc_funds.request_redemptions(nav, self.quarter_end_nav)
            self.hedge_funds.request_redemptions(nav, self.quarter_end_nav)
        self.funding = clear_funding(self, requests)           # 4. funding clears against the pool
        self.market.reprice(self.hyperscalers.capex_realized_bn)   # 5. prices
        self.cascade.run()                                     # 6. the cascade (7. defaults settle in it)
        self.central_bank.cap_depletion(self.pool, self.book)
        self.hyperscalers.spend_capex()
        self._end_of_step()                                    # 8. records

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

    def _end_of_step(self) -> None:
        if self.retail.book_row_stale:
            self.retail.sync_book_row()
        self.market.close_week()
        if self.steps % WEEKS_PER_QUARTER == 0:      # redemption requests compare NAV with the last quarter end's
            self.quarter_end_nav = self.fund_nav()
        if self.exhausted_step is None and self.pool.level_bn <= 0.01 * max(self.pool.initial_bn, 1e-9):
            self.exhausted_step = int(self.steps)
        self.peak_ust10y = max(self.peak_ust10y, self.pool.coc.ust10y)
        self.metrics = week_metrics(self)
        self.datacollector.collect(self)
        if self.detail and (self.steps % self.cfg.simulation.agent_report_every == 0 or self.steps == self.horizon):
            self.agent_rows.extend(agent_rows(self))

    # ================================================================== views
    @property
    def prices(self) -> np.ndarray:
        return self.market.prices

    @property
    def t_years(self) -> float:
        return self.steps * self.dt

    @property
    def events(self) -> list[tuple] | None:
        """Rows of ``events.parquet`` (None for a model built with detail=False)."""
        return self.event_log.rows

    @property
    def initial_credit(self) -> float:
        """Credit extended inside the model when first asked (GPU loans, software loans, hedge-fund
        debt): the scale of the credit-loss term of the IG spread."""
        if not hasattr(self, "_initial_credit"):
            self._initial_credit = float(self.book.gpu_loans.sum() + sum(f.software_principal_bn for f in self.pc_funds)
                                         + self.book.external_debt[self.hedge_funds.rows].sum())
        return self._initial_credit

    def group_of(self, agent):
        """The group of ``agent``'s type (``model.neoclouds`` for a neocloud ...)."""
        return self.groups[agent.kind]

    def total_cash(self) -> float:
        return float(self.book.cash.sum() + self.retail.cash.sum())

    def fund_nav(self) -> np.ndarray:
        """NAV of every fund row (private credit, hedge funds); zero for non-funds:
        cash + units . prices + other assets - debt, plus GPU loans receivable for lenders."""
        b = self.book
        nav = np.where(self.is_fund, b.cash + b.market_value(self.prices) + b.other_assets - b.external_debt, 0.0)
        if b.gpu_loans.size:
            nav[self.pc_funds.rows] += np.add.reduce(b.gpu_loans, 1)    # the lenders: b.lender_rows
        return nav

    def total_assets(self) -> np.ndarray:
        return self.book.total_assets(self.prices, self.fund_nav())

    def equity(self) -> np.ndarray:
        return self.book.equity(self.prices, self.fund_nav())

    def cash_conservation_gap(self) -> float:
        """Cash of every holder and the pool against what entered and left the model (0 up to rounding)."""
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

    def close(self) -> None:
        """Free the run's memory now. The model, its agents and its parts refer to each other, so a
        finished model waits for Python's cyclic garbage collector, and a worker running many
        simulations holds dozens of dead ones (memory grows with the number of runs until a full
        collection). Breaking the cycles hands the memory back at once. Read every output first:
        the model cannot be used afterwards."""
        parts = [self.__dict__.get(name) for name in ("cascade", "defaults", "event_log", "market", "world", "pool")]
        for obj in [*self.agents, *self.groups.values(), *parts]:
            if obj is not None:
                obj.__dict__.clear()
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
        self._need_detail("events_frame")
        return pd.DataFrame(self.events, columns=EVENT_COLUMNS)

    def _need_detail(self, what: str) -> None:
        if not self.detail:
            raise RuntimeError(f"{what}: this model was built with detail=False, which keeps no agent rows or "
                               "event log; build it with detail=True (the default)")

    def summary(self) -> dict[str, Any]:
        from sim.summary import summarize
        return summarize(self)
