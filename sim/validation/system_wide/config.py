"""One configuration of the peer economy: which institutions act, which channels are on (SPEC.md §10).

Channels (FF11): **O** overlapping portfolios (price impact ``price_impact``, else 0); **E** exposure
losses (``lgd`` 1, else 0); **F** funding contagion (linked repos, pulls become obligations, else every
pull is met at once by the external node); **C** collateral (repo margin calls). The remaining
switches are common to FF10 and FF11 and fixed by the peer: tradables, pre- and post-default fire
sales and funding pulls, RWA, leverage and LCR constraints, 6 steps.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


STEPS = 6
RWCR_MIN = 0.045           # rho_min (CET1 ratio)
LEVERAGE_MIN = 0.03        # lambda_min
USABILITY = 0.5            # share of a buffer usable before a bank acts (buffer = min + 0.5 y add-on)
RWCR_EXCESS_TARGET = 0.01
LEVERAGE_EXCESS_TARGET = 0.01
LCR_BUFFER = 0.5
LCR_TARGET = LCR_BUFFER + 0.05
CAPITAL_CONSERVATION = 0.025   # rho_CCB
NON_GSIB_LEVERAGE_SURCHARGE = 0.012778  # average G-SIB surcharge, for banks that are not G-SIBs
INITIAL_LCR_PCT = 120      # initial LCR assumed for every bank (%)
HF_CASH_BUFFER = 0.04      # of assets
FUND_REDEMPTION_MULTIPLIER = 2.5


class PriceImpact(StrEnum):
    """How a clearing moves prices: the peer's law, or one of the engine's (for robustness studies)."""

    ABSOLUTE = "absolute"         # the peer: p' = max(0, p - beta_c q / Q)
    LINEAR = "linear"             # the engine's linear law: p' = p max(1 - beta_c q / Q, 1e-6)
    EXPONENTIAL = "exponential"   # the engine's exponential law: p' = p exp(-beta_c q / Q)


class Crediting(StrEnum):
    """When a repaid lender receives the cash (SPEC.md: the only HEAD / v0.8 difference)."""

    HEAD = "head"    # at once
    V08 = "v08"      # at the next mailbox pass


@dataclass(frozen=True)
class PeerConfig:
    """A run of the peer economy. Defaults: banks only, every channel on, Basel III buffers, HEAD."""

    hedge_funds: bool = False
    funds: bool = False                 # the five representative asset managers
    haircut_contagion: bool = False     # haircuts follow prices of traded securities
    price_impact: float = 0.05          # pi: selling 5 % of a market moves its price by pi (O)
    lgd: float = 1.0                    # loss given default on interbank loans (E: 1, else 0)
    funding_contagion: bool = True      # F
    margin_calls: bool = True           # C
    lev_y: float = 1.0                  # leverage buffer multiplier (extra capital when > 1)
    rwa_y: float = 1.0                  # risk-weighted capital buffer multiplier
    crediting: Crediting = Crediting.HEAD
    impact_law: PriceImpact = PriceImpact.ABSOLUTE
    steps: int = STEPS

    def __post_init__(self):
        if not 0 <= self.price_impact <= 1:
            raise ValueError(f"price_impact must be in [0, 1], got {self.price_impact!r}")
        if not 0 <= self.lgd <= 1:
            raise ValueError(f"lgd must be in [0, 1], got {self.lgd!r}")
        if self.lev_y < 1 or self.rwa_y < 1:
            raise ValueError("buffer multipliers lev_y and rwa_y must be >= 1")
        if int(self.steps) != self.steps or self.steps < 1:
            raise ValueError(f"steps must be a positive integer, got {self.steps!r}")
        object.__setattr__(self, "crediting", Crediting(self.crediting))
        object.__setattr__(self, "impact_law", PriceImpact(self.impact_law))

    def with_(self, **changes) -> PeerConfig:
        return replace(self, **changes)
