"""The event log: every trade and default of the cascade, and the fire-sale totals (``events.parquet``).

One row per (holder, asset) trade of a round, per retail book and asset, per outside-holder flow and
per default: who, why (constraint), what, how much, and the price move that followed. A model built
with ``detail=False`` keeps no rows, only the fire-sale totals, which are the same either way.
"""

from __future__ import annotations

import numpy as np

from sim.domain import ASSETS, FORCED
from sim.engine import OutsideFlows

EVENT_COLUMNS = ["step", "round", "agent_id", "agent_kind", "agent_name", "constraint", "asset", "units_sold",
                 "value_bn", "price_return", "holders", "detail"]


class EventLog:
    def __init__(self, model, detail: bool):
        self.model = model
        self.rows: list[tuple] | None = [] if detail else None     # rows of EVENT_COLUMNS
        self.round_now = 0                   # the cascade round events are recorded in
        self.fire_sales_step_bn = 0.0        # forced sales of market assets this week
        self.fire_sale_volume_bn = 0.0       # ... since the start

    def open_week(self) -> None:
        self.fire_sales_step_bn = 0.0

    def record_trades(self, r: int, trades, detail: str = "") -> None:
        """Append one row per trade of round ``r``, a tuple in the order of EVENT_COLUMNS, and add
        forced sales of market assets to the fire-sale totals. ``trades`` yields (agent or None for
        the market, constraint, asset, units, value, price return, holders) as Python numbers. One
        loop for a round's trades: a busy run records thousands."""
        step, events = int(self.model.steps), self.rows
        step_fire_sales, fire_sale_volume = self.fire_sales_step_bn, self.fire_sale_volume_bn
        for agent, constraint, asset, units, value, ret, holders in trades:
            if value > 0 and constraint in FORCED and asset != "cash":
                step_fire_sales += value
                fire_sale_volume += value
            if events is None:
                continue                # a model built with detail=False keeps no event log
            if agent is None:
                events.append((step, r, -1, "market", "Outside holders", constraint, asset, units, value, ret, holders,
                               detail))
            else:
                events.append((step, r, agent.unique_id, agent.kind, agent.name, constraint, asset, units, value, ret,
                               holders, detail))
        self.fire_sales_step_bn, self.fire_sale_volume_bn = step_fire_sales, fire_sale_volume

    def add_fire_sales(self, values: list[float]) -> None:
        """Add the forced sales among ``values`` (those > 0, in order) to the fire-sale totals: what
        :meth:`record_trades` adds up for the same trades when there is no event log, without a tuple
        per trade (a hedge-fund margin call round sells a hundred positions)."""
        step_fire_sales, fire_sale_volume = self.fire_sales_step_bn, self.fire_sale_volume_bn
        for value in values:
            if value > 0:
                step_fire_sales += value
                fire_sale_volume += value
        self.fire_sales_step_bn, self.fire_sale_volume_bn = step_fire_sales, fire_sale_volume

    def event(self, r, agent, constraint, asset, units, value, ret, holders, detail: str = "") -> None:
        """One event (see :meth:`record_trades`), from numpy or Python numbers."""
        self.record_trades(int(r), ((agent, constraint, asset, float(units), float(value), float(ret), int(holders)),),
                           detail)

    def record_round(self, record) -> None:
        """Every trade of one cleared round: institutions holder by holder, then the population books,
        then the outside holders' flows."""
        m = self.model
        r, px, ret = record.round, record.clearing.execution_prices, record.clearing.returns
        labels = record.labels
        if record.proceeds is not None:
            rows, ks = record.sold.nonzero()
            units = record.sold[rows, ks]
            values = (units * px[ks]).tolist()
            if self.rows is None:      # no event log: only the forced sales' values, in the same order
                self.add_fire_sales([v for row, v in zip(rows.tolist(), values) if labels[row] in FORCED])
            else:
                holders = m.holders
                self.record_trades(r, ((holders[row], labels[row], ASSETS[k], u, v, rk, 1) for row, k, u, v, rk in zip(
                    rows.tolist(), ks.tolist(), units.tolist(), values, ret[ks].tolist())))
        books = [(b, t) for b, t in zip(record.books, record.book_totals) if not isinstance(b, OutsideFlows)]
        if books:
            px_list, ret_list = px.tolist(), ret.tolist()
            for book, totals in books:
                if self.rows is None and book.label not in FORCED:
                    continue                # no event log to write and no fire sale to count
                units = totals.tolist()
                self.record_trades(r, ((m.retail, book.label, ASSETS[k], units[k], units[k] * px_list[k],
                                        ret_list[k], book.holders) for k in book.traded_assets(totals)))
        for flows in (b for b in record.books if isinstance(b, OutsideFlows)):
            if np.logical_or.reduce(flows.units):
                for k in np.flatnonzero(flows.units):
                    self.event(r, None, flows.label, ASSETS[k], flows.units[k], flows.units[k] * px[k], ret[k], 0)
