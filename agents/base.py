"""What every agent type shares: the Mesa agent of one holder, and the group that acts for its members.

A :class:`Holder` is a Mesa agent fixed at its node of the claims network; its balance sheet is row
``row`` of the model's :class:`sim.balance_sheets.Book`. An :class:`AgentGroup` holds the rules of
one agent type as vectorised methods over its members' rows (a contiguous block of the book), the
array-fast form of Mesa's ``model.agents_by_type[T].do(...)``: ``model.neoclouds.buy_gpus()`` runs
the rule for every neocloud at once.
"""

from __future__ import annotations

from typing import Generic, Iterator, TypeVar

import mesa
import numpy as np
from mesa.discrete_space import FixedAgent

from sim.domain import AgentKind


class Holder(FixedAgent):
    """A holder of assets and claims. Subclasses set ``kind`` (the agent type used in outputs)."""

    kind: AgentKind

    def __init__(self, model: mesa.Model, name: str):
        super().__init__(model)
        self.name = name
        self.row = -1            # set when the economy lays out the book
        self._defaulted = False
        self.default_step: int | None = None

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
    def equity(self) -> float:
        return float(self.model.equity()[self.row])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, row={self.row})"


H = TypeVar("H", bound=Holder)


class AgentGroup(Generic[H]):
    """The members of one agent type, whose rows form the contiguous block ``rows`` of the book."""

    kind: AgentKind

    def __init__(self, model, members: list[H]):
        self.model = model
        self.members = members
        start = members[0].row if members else 0
        if [a.row for a in members] != list(range(start, start + len(members))):
            raise ValueError(f"{self.kind} rows must be one contiguous block of the book")
        self.rows = slice(start, start + len(members))
        self.row_index = np.arange(start, start + len(members))

    def __len__(self) -> int:
        return len(self.members)

    def __iter__(self) -> Iterator[H]:
        return iter(self.members)

    def __getitem__(self, i: int) -> H:
        return self.members[i]

    def __bool__(self) -> bool:
        return bool(self.members)

    @property
    def alive(self) -> np.ndarray:
        """Which members have not defaulted (a view of ``model.alive``)."""
        return self.model.alive[self.rows]

    def index(self, agent: H) -> int:
        """Position of ``agent`` in the group (its row minus the block's first row)."""
        return agent.row - self.rows.start
