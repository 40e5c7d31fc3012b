"""Balance sheets of every holder as arrays, the claims between them, and a cash ledger.

Row i of every array is agent ``model.holders[i]``. Cash moves only through :meth:`Book.transfer`
(between two holders, or a holder and the dry-powder pool) and :meth:`Book.external` (a documented
source or sink outside the model: operating cash flow, capex spent, coupons to outside
bondholders, ...; :meth:`Book.receive` and :meth:`Book.pay_out` are its one-signed forms for a
group of rows). The ledger therefore proves cash conservation:

    sum_i cash_i + W  =  initial cash + initial W + sum(sources) - sum(sinks)

Internal claims (GPU loans from private-credit funds to neoclouds, fund shares held by sovereign
funds) live in matrices so that a receivable and its payable are one number seen from both sides.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from sim.arrays import fast_sum
from sim.engine.fixed import row_dot

_INT = (int, np.integer)
_REAL = (float, int, np.floating, np.integer)


class Book:
    def __init__(self, n_holders: int, n_assets: int):
        self.cash = np.zeros(n_holders)
        self.units = np.zeros((n_holders, n_assets))       # market assets, in units (price 1 at t=0)
        self.other_assets = np.zeros(n_holders)              # PP&E, loan books: book or model value, $bn
        self.external_debt = np.zeros(n_holders)             # bonds, prime-broker and margin loans, facilities, $bn
        # internal claims
        self.gpu_loans = np.zeros((0, 0))                    # [lender, borrower] principal, $bn
        self.fund_units = np.zeros((n_holders, n_holders))   # [investor, fund] units of fund shares
        self.fund_units_outstanding = np.zeros(n_holders)    # per fund, all holders incl. outside investors
        self.lender_rows = np.zeros(0, dtype=int)
        self.borrower_rows = np.zeros(0, dtype=int)
        # ledger of flows across the model's boundary, $bn
        self.sources: dict[str, float] = defaultdict(float)
        self.sinks: dict[str, float] = defaultdict(float)
        self.initial_cash_total = 0.0

    # ---------------------------------------------------------------- cash
    def external(self, i: int | slice | np.ndarray, amount, category: str) -> None:
        """Cash from (amount > 0) or to (amount < 0) outside the model, recorded by category.

        ``i`` is a row, a slice of rows (a group of holders) or an array of rows (repeats add up)."""
        if isinstance(i, _INT) and isinstance(amount, _REAL):
            a = float(amount)                              # the common scalar case, without array overhead
            self.cash[i] += a
            if a > 0:
                self.sources[category] += a
            elif a < 0:
                self.sinks[category] -= a
            return
        amt = np.asarray(amount, dtype=float)
        if amt.ndim == 0:                                  # one amount for each of several rows
            amt = np.full(len(range(*i.indices(len(self.cash)))) if isinstance(i, slice) else np.size(i), float(amt))
        if isinstance(i, slice):                           # distinct rows: a plain in-place add
            self.cash[i] += amt
        else:
            np.add.at(self.cash, i, amt)
        if amt.ndim and amt.size and np.minimum.reduce(amt) >= 0:       # all inflows (the usual case): one sum
            total_in, total_out = float(fast_sum(amt)), 0.0
        elif amt.ndim and amt.size and np.maximum.reduce(amt) <= 0:     # all outflows
            total_in, total_out = 0.0, float(fast_sum(-amt))
        else:
            total_in = float(np.maximum(amt, 0.0).sum())
            total_out = float(np.maximum(-amt, 0.0).sum())
        if total_in:
            self.sources[category] += total_in
        if total_out:
            self.sinks[category] += total_out

    def record(self, amount: float, category: str) -> None:
        """A flow across the boundary that lands outside holders' cash (e.g. savings into the pool)."""
        if amount > 0:
            self.sources[category] += float(amount)
        elif amount < 0:
            self.sinks[category] += float(-amount)

    def transfer(self, payer: int | np.ndarray, payee: int | np.ndarray, amount) -> None:
        """Cash from one holder to another: creates and destroys nothing."""
        if isinstance(payer, _INT) and isinstance(payee, _INT) and isinstance(amount, _REAL):
            self.cash[payer] -= amount                      # the common scalar case, without array overhead
            self.cash[payee] += amount
            return
        amt = np.asarray(amount, dtype=float)
        if (isinstance(payer, _INT) and isinstance(payee, np.ndarray) and payee.ndim == 1 and amt.ndim == 1
                and len(payee) == len(amt)):
            if len(set(payee.tolist())) == len(payee):
                self.transfer_to_each(payer, payee, amt)
            else:
                self._pay_in_turn(payer, amt)
                np.add.at(self.cash, payee, amt)
            return
        if np.ndim(payer) == 0 and np.ndim(payee) == 0 and amt.ndim == 0:
            self.cash[payer] -= amount
            self.cash[payee] += amount
            return
        payer, payee, amt = np.broadcast_arrays(np.asarray(payer), np.asarray(payee), amt)
        np.subtract.at(self.cash, payer, amt)
        np.add.at(self.cash, payee, amt)

    def transfer_to_each(self, payer: int, payees: np.ndarray, amounts: np.ndarray) -> None:
        """Cash from one holder to each of several distinct holders (``amounts`` aligned with
        ``payees``, a float array): :meth:`transfer` for a payer and payees known to be distinct,
        such as a lab paying its compute providers, without checking them."""
        self._pay_in_turn(payer, amounts)
        self.cash[payees] += amounts

    def _pay_in_turn(self, payer: int, amounts: np.ndarray) -> None:
        """The payer pays each amount in turn, as np.subtract.at would (the same rounding)."""
        left = float(self.cash[payer])
        for a in amounts.tolist():
            left -= a
        self.cash[payer] = left

    def receive(self, rows: int | slice | np.ndarray, amount, category: str) -> None:
        """Cash from outside the model (``amount`` >= 0, distinct rows): ``external(rows, amount, category)``."""
        self.cash[rows] += amount
        total = float(fast_sum(amount, axis=None) if isinstance(amount, np.ndarray) else amount)
        if total:
            self.sources[category] += total

    def pay_out(self, rows: int | slice | np.ndarray, paid, category: str) -> None:
        """Cash paid to outside the model (``paid`` >= 0, distinct rows): ``external(rows, -paid, category)``."""
        self.cash[rows] -= paid
        total = float(fast_sum(paid, axis=None) if isinstance(paid, np.ndarray) else paid)
        if total:
            self.sinks[category] += total

    def pay_from_cash(self, row: int, amount: float, category: str) -> float:
        """Pay ``amount`` to outside the model from cash, as far as cash goes (never negative);
        returns what was paid (the rest is not paid)."""
        paid = min(max(amount, 0.0), max(float(self.cash[row]), 0.0))
        if paid > 0:
            self.external(row, -paid, category)
        return paid

    def pay_interest(self, rows: slice | np.ndarray, owed: np.ndarray, category: str) -> None:
        """Interest ``owed`` by distinct rows to outside lenders: paid from cash as far as it goes, the
        rest added to the debt (capitalised), never forgotten."""
        owed = np.maximum(owed, 0.0)
        paid = np.minimum(owed, np.maximum(self.cash[rows], 0.0))
        self.pay_out(rows, paid, category)
        self.external_debt[rows] += owed - paid

    def pay_from_cash_rows(self, rows: slice | np.ndarray, amounts: np.ndarray, category: str) -> None:
        """:meth:`pay_from_cash` for a group of distinct rows."""
        paid = np.minimum(np.maximum(amounts, 0.0), np.maximum(self.cash[rows], 0.0))
        self.pay_out(rows, paid, category)

    # ---------------------------------------------------------------- claims
    def loans_receivable(self) -> np.ndarray:
        out = np.zeros(len(self.cash))
        if self.gpu_loans.size:
            np.add.at(out, self.lender_rows, self.gpu_loans.sum(axis=1))
        return out

    def loans_payable(self) -> np.ndarray:
        out = np.zeros(len(self.cash))
        if self.gpu_loans.size:
            np.add.at(out, self.borrower_rows, self.gpu_loans.sum(axis=0))
        return out

    def nav_per_unit(self, nav: np.ndarray) -> np.ndarray:
        return np.divide(nav, self.fund_units_outstanding, out=np.zeros(nav.shape),
                         where=self.fund_units_outstanding > 0)

    # ---------------------------------------------------------------- statements
    def equity(self, prices: np.ndarray, fund_nav: np.ndarray | None = None) -> np.ndarray:
        """Equity of every holder at ``prices``; fund shares valued at ``fund_nav`` (NAV per fund row)."""
        return self.total_assets(prices, fund_nav) - self.total_liabilities()

    def market_value(self, prices: np.ndarray) -> np.ndarray:
        return row_dot(self.units, prices)

    def fund_share_value(self, fund_nav: np.ndarray | None) -> np.ndarray:
        if fund_nav is None or not self.fund_units_outstanding.any():
            return np.zeros(len(self.cash))
        # limited liability: a fund share is worth nothing below zero, however negative the NAV
        return row_dot(self.fund_units, self.nav_per_unit(np.maximum(fund_nav, 0.0)))

    def total_assets(self, prices: np.ndarray, fund_nav: np.ndarray | None = None) -> np.ndarray:
        return (self.cash + self.market_value(prices) + self.other_assets + self.loans_receivable()
                + self.fund_share_value(fund_nav))

    def total_liabilities(self) -> np.ndarray:
        return self.external_debt + self.loans_payable()
