"""The model's vocabulary: assets, agent kinds and the constraints that force sales, as enums.

Outputs keep the plain string names (``Asset.CRYPTO.label == "crypto"``, ``Constraint.MARGIN_CALL ==
"margin_call"``): the enums are for code, so that a typo is an error and an asset is never a bare
column number.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Asset(IntEnum):
    """Tradable assets; the value is the column of the asset in every (holders x assets) array."""

    UST = 0
    IG_BONDS = 1
    HYPERSCALER_EQUITY = 2
    AI_HARDWARE = 3
    SAAS = 4
    CRYPTO = 5
    NEOCLOUD_EQUITY = 6
    USED_GPU = 7

    @property
    def label(self) -> str:
        """The asset's name in configs and outputs (``"used_gpu"``)."""
        return self.name.lower()


#: Asset names in column order, as configs and outputs spell them.
ASSETS: tuple[str, ...] = tuple(a.label for a in Asset)


class AgentKind(StrEnum):
    """Agent types, as outputs name them (``agents.parquet`` ``kind``, ``summary.json`` ``defaults``)."""

    HYPERSCALER = "hyperscaler"
    NEOCLOUD = "neocloud"
    PRIVATE_CREDIT = "private_credit"
    SOVEREIGN = "sovereign"
    HEDGE_FUND = "hedge_fund"
    AI_LAB = "ai_lab"
    RETAIL = "retail"


#: Agent kinds in the order of the book's rows.
AGENT_KINDS: tuple[str, ...] = tuple(k.value for k in AgentKind)


class Constraint(StrEnum):
    """Why a holder trades in a cascade round (``events.parquet`` ``constraint``)."""

    DEFAULT = "default"
    MARGIN_CALL = "margin_call"
    COVENANT_BREACH = "covenant_breach"
    REDEMPTION = "redemption"
    COMMITMENT = "commitment"
    CROWDING_OUT = "crowding_out"
    MOMENTUM = "momentum"
    PANIC = "panic"

    @property
    def priority(self) -> int:
        """One order per holder per round: the constraint of highest priority wins."""
        return _PRIORITY[self]

    @property
    def forced(self) -> bool:
        """A sale the holder must make (a constraint binds), as opposed to a scheduled or voluntary trade."""
        return self in FORCED


_PRIORITY = {Constraint.DEFAULT: 5, Constraint.MARGIN_CALL: 4, Constraint.COVENANT_BREACH: 3,
             Constraint.REDEMPTION: 2, Constraint.COMMITMENT: 1, Constraint.CROWDING_OUT: 0,
             Constraint.MOMENTUM: 0, Constraint.PANIC: 0}

#: Constraints whose sales count as fire sales.
FORCED: frozenset[Constraint] = frozenset({Constraint.MARGIN_CALL, Constraint.COVENANT_BREACH, Constraint.REDEMPTION,
                                           Constraint.COMMITMENT, Constraint.DEFAULT})

#: Steps are weeks.
WEEKS_PER_YEAR = 52.0
#: Quarter ends (capex decisions, redemption requests, agent reports) every 13 weeks.
WEEKS_PER_QUARTER = 13
