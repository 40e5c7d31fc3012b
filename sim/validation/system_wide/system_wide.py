"""One run of the INET system-wide stress test: :func:`inet_system_wide` (SPEC.md §1-9).

A run is fixed by a :class:`.config.PeerConfig` and a simulation seed: the seed gives the two
networks and the agents' order each step, exactly as the peer draws them; the config says which
institutions act and which channels are on. Runs that share a seed's networks and continue its
stream (the peer's FF11 runs the 11 price impacts of a seed that way) go through :func:`run_chain`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from sim.validation.system_wide.config import PeerConfig
from sim.validation.system_wide.data import BankData, load_bank_data
from sim.validation.system_wide.build import build_economy
from sim.validation.system_wide.state import Economy
from sim.validation.system_wide.institutions import BankSheet, Group, Positions, bank_sheet, hf_scale, positions
from sim.validation.system_wide.networks import interbank_network, network_seeds, portfolio_weights
from sim.validation.system_wide.schedule import StepRecord, run_steps
from sim.validation.system_wide.sums import peer_sum


@dataclass(frozen=True)
class SystemWideRun:
    """Outcome of one run: bank defaults per step and totals per group."""

    config: PeerConfig
    seed: int
    bank_defaults: tuple[int, ...]       # defaults_t, t = 1..steps
    hf_defaults: int
    fund_defaults: int
    bank_asset_loss: float               # EUR million: initial bank assets - final bank assets
    records: tuple[StepRecord, ...]

    @property
    def n_bank_defaults(self) -> int:
        return sum(self.bank_defaults)


@lru_cache(maxsize=1)
def _bank_inputs() -> tuple[BankData, BankSheet]:
    data = load_bank_data()
    return data, bank_sheet(data)


@lru_cache(maxsize=64)
def _networks(portfolio_seed: int, interbank_seed: int) -> tuple[Positions, np.ndarray, np.ndarray]:
    data, sheet = _bank_inputs()
    weights = portfolio_weights(data.n, portfolio_seed)
    pos = positions(sheet, weights, hf_scale(sheet.sixth))
    out, rem = interbank_network(sheet.sixth, sheet.quarter, interbank_seed)
    return pos, out, rem


def _run(cfg: PeerConfig, seed: int, stream, pos, interbank, remainder) -> SystemWideRun:
    data, sheet = _bank_inputs()
    eco = build_economy(cfg, data, sheet, pos, interbank, remainder, stream)
    banks = range(eco.layout.n_banks)
    initial_assets = peer_sum(float(sheet.assets[i]) for i in banks)
    records = run_steps(eco)
    final_assets = peer_sum(eco.asset_value(i) for i in banks)
    return SystemWideRun(
        config=cfg, seed=seed,
        bank_defaults=tuple(r.defaults[Group.BANK] for r in records),
        hf_defaults=sum(r.defaults.get(Group.HEDGE_FUND, 0) for r in records),
        fund_defaults=sum(r.defaults.get(Group.FUND, 0) for r in records),
        bank_asset_loss=initial_assets - final_assets, records=tuple(records))


def economy_for(config: PeerConfig, seed: int) -> Economy:
    """The economy of a run after initialisation and the EBA shock, before the first step."""
    ns = network_seeds(seed)
    pos, interbank, remainder = _networks(ns.portfolio_seed, ns.interbank_seed)
    data, sheet = _bank_inputs()
    return build_economy(config, data, sheet, pos, interbank, remainder, ns.stream)


def run_chain(configs: Sequence[PeerConfig], seed: int) -> list[SystemWideRun]:
    """Runs sharing seed ``seed``'s networks, each continuing the agent-order stream of the last."""
    ns = network_seeds(seed)
    pos, interbank, remainder = _networks(ns.portfolio_seed, ns.interbank_seed)
    return [_run(cfg, seed, ns.stream, pos, interbank, remainder) for cfg in configs]


def inet_system_wide(config: PeerConfig | None = None, seed: int = 0, **changes) -> SystemWideRun:
    """One run of the peer economy with simulation seed ``seed``.

    ``config`` defaults to :class:`PeerConfig` (banks only, every channel on); keyword arguments
    change its fields, e.g. ``inet_system_wide(seed=3, hedge_funds=True, lev_y=2)``.
    """
    cfg = (config or PeerConfig()).with_(**changes) if changes else (config or PeerConfig())
    return run_chain([cfg], seed)[0]
