"""The peer's statistics of a point and of joint-versus-parts (SPEC.md §11), computed as it does.

Per run: extent of contagion eoc = min(1, defaults / 48); the EBA outcome eose = step-1 defaults / 48
if at least 5 %, else 0. Per point: systemic runs are those with eoc >= 5 % (3 banks or more);
aeoc = mean eoc over systemic runs (0 if none) and stde = population std / sqrt(#systemic). FF11c
compares a combination of channels with the sum of its single channels at price impact 0 and 5 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence


from sim.validation.system_wide.sums import peer_sum

SYSTEMIC_CUTOFF = 0.05
N_BANKS = 48
OVER_NO_PARTS = 5   # "over" when the parts add to nothing but the joint does not


def extent_of_contagion(n_defaults: int, n_banks: int = N_BANKS) -> float:
    return min(1.0, n_defaults / n_banks)


def eba_outcome(step1_defaults: int, n_banks: int = N_BANKS) -> float:
    share = step1_defaults / n_banks
    return share if share >= SYSTEMIC_CUTOFF else 0.0


def population_std(values: Sequence[float]) -> float:
    """numpy's ``std`` (ddof 0) with sums added left to right, so the digits never depend on the machine."""
    n = len(values)
    mean = peer_sum(values) / n
    return math.sqrt(peer_sum((v - mean) ** 2 for v in values) / n)


@dataclass(frozen=True)
class PointStats:
    """One point's summary, in the units of the peer's tables (per cent where it says ``pct``)."""

    n: int
    n_systemic: int
    aeoc_pct: float
    stde_pct: float
    mean_eoc_all_runs_pct: float
    mean_bank_defaults: float
    mean_hf_defaults: float
    mean_am_defaults: float
    eba_eose_pct: float
    mean_bank_asset_loss_eur_m: float


def point_stats(bank_defaults: Sequence[Sequence[int]], hf_defaults: Sequence[int], am_defaults: Sequence[int],
                asset_loss: Sequence[float], n_banks: int = N_BANKS) -> PointStats:
    """Summarise the runs of one point (``bank_defaults[r]`` = defaults per step of run r).

    ``eba_eose_pct`` is the EBA outcome of the first run (it is the same in every run).
    """
    totals = [sum(d) for d in bank_defaults]
    eocs = [extent_of_contagion(n, n_banks) for n in totals]
    systemic = [e for e in eocs if e >= SYSTEMIC_CUTOFF]
    aeoc = peer_sum(systemic) / len(systemic) if systemic else 0.0
    stde = population_std(systemic) / math.sqrt(len(systemic)) if systemic else 0.0
    n = len(totals)
    return PointStats(
        n=n, n_systemic=len(systemic), aeoc_pct=100 * aeoc, stde_pct=100 * stde,
        mean_eoc_all_runs_pct=100 * peer_sum(eocs) / n, mean_bank_defaults=sum(totals) / n,
        mean_hf_defaults=sum(hf_defaults) / n, mean_am_defaults=sum(am_defaults) / n,
        eba_eose_pct=100 * eba_outcome(bank_defaults[0][0], n_banks),
        mean_bank_asset_loss_eur_m=peer_sum(asset_loss) / n)


@dataclass(frozen=True)
class JointVsParts:
    """FF11c for one combination at one price impact (fractions, not per cent)."""

    joint_minus_eba: float
    sum_parts_minus_eba: float
    minus_raw: float
    minus_truncated: float
    over_raw: float
    over_truncated: float
    minus_err: float
    over_err: float


def joint_vs_parts(joint: tuple[float, float, float], parts: Sequence[tuple[float, float, float]]) -> JointVsParts:
    """``joint`` and each part are (aeoc, stde, eose) as fractions; the peer's arithmetic (SPEC.md §11)."""
    j = joint[0] - joint[2]
    s = peer_sum(p[0] - p[2] for p in parts)
    sum_std = math.sqrt(peer_sum(p[1] ** 2 for p in parts))
    minus = j - s
    over = j / s if s > 0 else (OVER_NO_PARTS if j > 0 else 0)
    join_err = joint[1] / j if j > 0 else 0
    sum_err = sum_std / s if s > 0 else 0
    return JointVsParts(
        joint_minus_eba=j, sum_parts_minus_eba=s, minus_raw=minus, minus_truncated=max(min(minus, 1), 0),
        over_raw=over, over_truncated=max(over, 1), minus_err=_hypotenuse(joint[1], sum_std),
        over_err=over * _hypotenuse(join_err, sum_err))


def _hypotenuse(a: float, b: float) -> float:
    return math.sqrt(a ** 2 + b ** 2)  # the peer's formula (not math.hypot), for identical digits


def within_tolerance(ours: float, ours_se: float, ref: float, ref_se: float, k: float = 2.0) -> bool:
    """|ours - ref| <= k * sqrt(se_ours^2 + se_ref^2) (SPEC.md §12's honest comparison)."""
    return abs(ours - ref) <= k * math.hypot(ours_se, ref_se) + 1e-9
