"""The securities of the peer economy: 93 tradables in four asset classes (SPEC.md §2).

Columns of every (holders x securities) array: government bonds 0-20, corporate bonds 21-44,
equities 45-68, other tradables 69-92. The external asset is not tradable and kept apart. The
peer's ledger holds a portfolio in another order (equities, corporate bonds, government bonds, other
tradables) and adds up values in that order: :data:`LEDGER_ORDER`.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

CLASS_SIZES = (21, 24, 24, 24)
CLASS_NAMES = ("govbonds", "corpbonds", "equities", "othertradables")
N_SECURITIES = sum(CLASS_SIZES)
CLASS_SLICES = tuple(slice(sum(CLASS_SIZES[:c]), sum(CLASS_SIZES[:c + 1])) for c in range(len(CLASS_SIZES)))


class AssetClass(IntEnum):
    GOV_BONDS = 0
    CORP_BONDS = 1
    EQUITIES = 2
    OTHER_TRADABLES = 3


def _columns(classes) -> np.ndarray:
    return np.concatenate([np.arange(CLASS_SLICES[c].start, CLASS_SLICES[c].stop) for c in classes])


#: Column order of an institution's own positions in the peer's ledger.
LEDGER_ORDER = _columns((AssetClass.EQUITIES, AssetClass.CORP_BONDS, AssetClass.GOV_BONDS, AssetClass.OTHER_TRADABLES))
#: Column order of collateral seized from a hedge fund (its repo tranches: corp, equities, other, gov).
SEIZED_ORDER = _columns((AssetClass.CORP_BONDS, AssetClass.EQUITIES, AssetClass.OTHER_TRADABLES, AssetClass.GOV_BONDS))
