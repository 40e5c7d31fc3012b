"""The peer's experiments FF10 (institution types) and FF11 (contagion channels), SPEC.md §10-11.

* **FF10**: price impact 5 %, funding contagion, margin calls and LGD 1 on; four institution sets
  (banks; + hedge funds; + funds; + both), three buffer modes (Basel III, 2x leverage buffer, 2x
  risk-weighted buffer). Each run draws its seed's networks afresh.
* **FF11**: hedge funds and funds on, haircut contagion on; nine channel modes over price impact
  0, 1, ..., 10 %, at (lev_y, rwa_y) = (1, 1) [FF11_1] and (2.5, 1) [FF11_2]. For each seed the 11
  price impacts run in order on the seed's networks, continuing the agent-order stream: a *chain*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.validation.system_wide.config import PeerConfig
from sim.validation.system_wide.config import Crediting

FF10_PRICE_IMPACT = 0.05
#: Institution sets as the peer's tables name them: (hedge funds, funds).
INSTITUTIONS = {
    "Banks (B)": (False, False),
    "B + Hedge Funds (HF)": (True, False),
    "B + Non-Leveraged Funds (F)": (False, True),
    "B + F + HF": (True, True),
}
#: Buffer modes: (lev_y, rwa_y).
BUFFER_MODES = {"Basel III": (1, 1), "2x lev buffer": (2, 1), "2x rw buffer": (1, 2)}

#: FF11 price impacts, computed as the peer computes them (np.linspace(0, 0.1, 11)).
PRICE_IMPACTS = tuple(float(x) for x in np.linspace(0.0, 0.1, 11))
CHANNEL_MODES = ("O", "E", "F", "C", "O&E", "O&F", "O&C", "F&E", "O&E&F&C")
SINGLE_CHANNELS = ("O", "E", "F", "C")
JOINT_MODES = ("O&E", "O&F", "O&C", "F&E", "O&E&F&C")
JOINT_PRICE_IMPACTS = (0.0, 0.05)
FF11_VARIANTS = {"FF11_1": (1, 1), "FF11_2": (2.5, 1)}


@dataclass(frozen=True)
class Point:
    """One point of a table: its key columns as the targets spell them, and its configuration."""

    experiment: str            # FF10, FF11_1 or FF11_2
    label: str                 # institutions (FF10) or channels (FF11)
    buffer_mode: str           # FF10 only ("" for FF11)
    lev_y: float
    rwa_y: float
    price_impact: float
    config: PeerConfig


def ff10_config(institutions: str, buffer_mode: str, crediting: Crediting = Crediting.HEAD) -> PeerConfig:
    hedge_funds, funds = INSTITUTIONS[institutions]
    lev_y, rwa_y = BUFFER_MODES[buffer_mode]
    return PeerConfig(hedge_funds=hedge_funds, funds=funds, haircut_contagion=hedge_funds,
                      price_impact=FF10_PRICE_IMPACT, lgd=1.0, funding_contagion=True, margin_calls=True,
                      lev_y=lev_y, rwa_y=rwa_y, crediting=crediting)


def ff11_config(channels: str, price_impact: float, lev_y: float, rwa_y: float,
                crediting: Crediting = Crediting.HEAD) -> PeerConfig:
    on = set(channels.split("&"))
    unknown = on - set(SINGLE_CHANNELS)
    if unknown:
        raise ValueError(f"unknown channel(s) {sorted(unknown)}; allowed: {', '.join(SINGLE_CHANNELS)}")
    return PeerConfig(hedge_funds=True, funds=True, haircut_contagion=True,
                      price_impact=price_impact if "O" in on else 0.0, lgd=1.0 if "E" in on else 0.0,
                      funding_contagion="F" in on, margin_calls="C" in on, lev_y=lev_y, rwa_y=rwa_y,
                      crediting=crediting)


def ff10_points(crediting: Crediting = Crediting.HEAD) -> list[Point]:
    return [Point("FF10", inst, mode, *BUFFER_MODES[mode], FF10_PRICE_IMPACT, ff10_config(inst, mode, crediting))
            for inst in INSTITUTIONS for mode in BUFFER_MODES]


def ff11_chains(crediting: Crediting = Crediting.HEAD) -> dict[tuple[str, str], list[Point]]:
    """{(variant, channels): the 11 points run as one chain per seed, in price-impact order}."""
    out = {}
    for variant, (lev_y, rwa_y) in FF11_VARIANTS.items():
        for mode in CHANNEL_MODES:
            out[(variant, mode)] = [Point(variant, mode, "", lev_y, rwa_y, pi,
                                          ff11_config(mode, pi, lev_y, rwa_y, crediting))
                                    for pi in PRICE_IMPACTS]
    return out
