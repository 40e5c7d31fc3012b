"""The common identity of every holder: a Mesa agent fixed at its node of the claims network, whose
balance sheet is row ``row`` of the model's :class:`sim.balance_sheets.Book`. Agents decide; the
arithmetic runs on the arrays."""

from __future__ import annotations

import mesa
import numpy as np
from mesa.discrete_space import FixedAgent


class Holder(FixedAgent):
    """A holder of assets and claims. Subclasses set ``kind`` (the agent type used in outputs)."""

    kind = "holder"

    def __init__(self, model: mesa.Model, name: str):
        super().__init__(model)
        self.name = name
        self.row = -1            # set when the model lays out the book
        self._defaulted = False
        self.default_step: int | None = None

    @property
    def cell(self):
        """The holder's node of the model's network space (the space is built on first use)."""
        if self._mesa_cell is None and getattr(self.model, "_space", 0) is None:
            self.model.space                      # builds the space and fixes every holder to its node
        return self._mesa_cell

    @cell.setter
    def cell(self, cell) -> None:
        FixedAgent.cell.fset(self, cell)

    @property
    def defaulted(self) -> bool:
        return self._defaulted

    @defaulted.setter
    def defaulted(self, value: bool) -> None:
        """Kept in step with ``model.alive`` (one flag per book row), which the vectorised rules read."""
        self._defaulted = bool(value)
        alive = getattr(self.model, "alive", None)
        if alive is not None and 0 <= self.row < len(alive):
            alive[self.row] = not self._defaulted

    # balance-sheet views (read from the model's arrays)
    @property
    def cash(self) -> float:
        return float(self.model.book.cash[self.row])

    @property
    def holdings_value(self) -> np.ndarray:
        return self.model.book.units[self.row] * self.model.prices

    @property
    def assets(self) -> float:
        return float(self.model.total_assets()[self.row])

    @property
    def liabilities(self) -> float:
        return float(self.model.book.total_liabilities()[self.row])

    @property
    def equity(self) -> float:
        return float(self.model.equity()[self.row])

    def balance_sheet(self) -> dict[str, float]:
        return {"assets": self.assets, "liabilities": self.liabilities, "equity": self.equity}

    def step(self) -> None:  # decisions happen in the model's stages; see the subclasses
        pass

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, row={self.row})"
