"""The within-step cascade: forced sales travel from holder to holder, round by round.

Round 0 carries what is decided on the week's opening state: crowding-out flows (outside holders
rotating out of other assets to absorb unfunded issuance, a hyperscaler selling its own
Treasuries), the sales that pay what falls due (fund redemptions, capital calls cash cannot cover)
and the retail week (momentum buying, panic selling). Every later round carries what the prices
left by the rounds before force (MODEL.md §6.6):

1. checks every constraint at current prices, in priority order per holder
   default liquidation > margin call > covenant breach (covenants in round 1 only);
2. sums all orders per asset and clears each market once (:func:`sim.markets.clear`: exponential
   impact against depth that shrinks as the pool drains, execution at the mid-point);
3. settles: sellers are paid by the pool's idle cash while it lasts, then by outside buyers; the
   proceeds repay margin debt, prepay GPU loans, pay capital calls (and, after round 0, redemptions);
4. declares defaults (a holder that cannot meet a constraint), liquidated in the next round and
   settled along claims by the Eisenberg-Noe clearing vector.

The loop stops when a round forces no sale, or after ``simulation.max_cascade_rounds``. Every
sale is recorded in ``model.events`` (``events.parquet``): who, by which constraint, what, how
much, and the price move that followed.

Institutions' orders are an (N holders x K assets) array per round; retail orders are
:class:`agents.retail.RetailOrders` books that name only the holders that trade (all of them for
momentum buying, the few concerned for panic sales and margin calls).
"""

from __future__ import annotations

import numpy as np

from agents.neocloud import cure_amounts, haircut, loan_to_value
from agents.private_credit import redemption_request_share, software_book_value
from agents.retail import RetailOrders
from sim.config import ASSETS
from sim.constraints import MATERIAL_BN, maintenance_margins, margin_call_sales
from sim.markets import exponential_clearing, pecking_order_sale

A = {name: k for k, name in enumerate(ASSETS)}
EVENT_COLUMNS = ["step", "round", "agent_id", "agent_kind", "agent_name", "constraint", "asset", "units_sold",
                 "value_bn", "price_return", "holders", "detail"]
FORCED = ("margin_call", "covenant_breach", "redemption", "commitment", "default")

# ndarray.sum / .any / zeros_like pass through Python-level wrappers in numpy; the weekly loop calls
# them thousands of times, so it uses the ufunc reductions themselves (the same computation).
_sum = np.add.reduce
_any = np.logical_or.reduce
PRIORITY = {"default": 5, "margin_call": 4, "covenant_breach": 3, "redemption": 2, "commitment": 1,
            "crowding_out": 0, "momentum": 0, "panic": 0}
NEVER = 2 ** 62


class Cascade:
    def __init__(self, model):
        self.m = model
        self.obligations: list[list] = []          # [payer row, payee row, $bn outstanding, kind]
        self.queued: list[tuple[int, int, float, str]] = []
        self.market_units = np.zeros(model.K)
        self.to_liquidate: list[int] = []
        self.requested_from_funds = np.zeros(len(model.holders))
        self.liquidating: list[int] = []
        self.due_now: dict[int, list] = {}
        self.round_now = 0
        self.next_redemption_due = NEVER   # earliest due step in any fund's redemption queue
        self._margins_step = None       # (step, realised vol, maintenance margins): fixed within a step

    # ------------------------------------------------------------------ inputs from the step
    def begin_step(self) -> None:
        self.queued = []
        self.market_units = np.zeros(self.m.K)
        self.m.step_fire_sales = 0.0
        self.m.last_rounds = 0
        if self.m.steps % 13 == 0:
            for f in self.m.pc_funds:
                f.gate_bound_this_quarter = False
                f.paid_this_quarter = 0.0

    def declare_default(self, agent, reason: str) -> None:
        if agent.defaulted:
            return
        m = self.m
        agent.defaulted = True
        agent.default_step = int(m.steps) + 1
        m.defaults_by_kind[agent.kind] += 1
        self.to_liquidate.append(agent.row)
        self._event(self.round_now, agent, "default", "", 0.0, 0.0, 0.0, 1, detail=reason)
        if agent.kind == "neocloud":   # the listed neocloud index loses this firm's share of the sector
            units = m.book.units[m.rows["neocloud"], A["used_gpu"]]
            share = units[agent.row - m.rows["neocloud"][0]] / max(units.sum(), 1e-12)
            factor = np.ones(m.K)
            factor[A["neocloud_equity"]] = 1.0 - 0.8 * share
            m.apply_price_factor(factor)
        if agent.kind == "ai_lab":       # contracts stop and undrawn commitments lapse
            li = m.labs.index(agent)
            m.contract_shares[li] = 0.0
            m.commitments[:, li] = 0.0
            self.obligations = [o for o in self.obligations if o[1] != agent.row]

    def add_obligation(self, payer: int, payee: int, amount: float, kind: str) -> None:
        if amount > 0:
            self.obligations.append([payer, payee, amount, kind])

    def queue_sale(self, row: int, asset: int, units: float, constraint: str) -> None:
        self.queued.append((row, asset, units, constraint))

    def crowding_out(self, value_by_asset: np.ndarray) -> None:
        self.market_units = value_by_asset / self.m.prices

    def request_redemptions(self, nav: np.ndarray) -> None:
        """Quarter end: investors in private-credit and hedge funds ask for money back."""
        m = self.m
        hist = m.quarter_end_nav         # NAV a quarter ago (requests come at quarter ends)
        for funds, p in ((m.pc_funds, m.cfg.private_credit), (m.hedge_funds, m.cfg.hedge_funds)):
            if not funds:
                continue
            rows = np.array([f.row for f in funds])
            share = redemption_request_share(nav[rows], hist[rows], p.redemption_base_per_qtr, p.redemption_sensitivity)
            for f, s, row in zip(funds, share, rows):
                if f.defaulted or nav[row] <= 0:
                    continue
                self._queue_redemption(f, m.steps + p.redemption_lag_steps, -1, s * nav[row])
                m.redemption_requests_bn[f.kind] += float(s * nav[row])

    def _queue_redemption(self, fund, due_step: int, investor_row: int, value_bn: float) -> None:
        """A redemption request (investor row -1: outside investors), paid from ``due_step`` on."""
        fund.redemption_queue.append((due_step, investor_row, value_bn))
        self.next_redemption_due = min(self.next_redemption_due, due_step)

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        m = self.m
        rounds = m.cfg.simulation.max_cascade_rounds
        self.round_now = 0
        self._round(0, *self._round_zero_orders())
        self._pay_obligations()
        if self.due_now:
            self._pay_redemptions()
        for r in range(1, rounds + 1):
            self.round_now = r
            orders, retail_books, labels = self._constraint_orders(first=(r == 1))
            if not retail_books and not _any(orders, axis=None):
                if self.liquidating:
                    self._settle_defaults(self.liquidating)
                    self.liquidating = []
                if not self.to_liquidate:
                    break
                continue
            self._round(r, orders, retail_books, labels)
            self._pay_obligations()
            m.last_rounds = r
        m.max_rounds = max(m.max_rounds, m.last_rounds)
        self._refresh_software_books()

    def _order_sheet(self):
        """An empty round of institutional orders: (orders (N, K) units, labels, put). ``put(row,
        units, label)`` gives the holder that order unless it is worth $1 thousand or less or the
        holder already has an order of higher priority (one order per holder per round)."""
        m, b, p = self.m, self.m.book, self.m.prices
        n = len(m.holders)
        orders = np.zeros((n, m.K))
        labels = [""] * n

        def put(row: int, units: np.ndarray, label: str) -> None:
            if units @ p <= MATERIAL_BN or PRIORITY[label] < PRIORITY.get(labels[row], -1):
                return
            orders[row] = np.minimum(units, b.units[row])
            labels[row] = label

        return orders, labels, put

    def _round_zero_orders(self) -> tuple[np.ndarray, list[RetailOrders], list[str]]:
        """Round 0, everything decided on the week's opening state: queued sales (a hyperscaler's own
        Treasuries), the sales that pay what falls due this week (fund redemptions, capital calls cash
        cannot cover) and the retail week (panic sales, momentum buying)."""
        m = self.m
        orders, labels, put = self._order_sheet()
        for row, asset, units, constraint in self.queued:     # hyperscalers: never a fund or a sovereign
            orders[row, asset] += units
            labels[row] = constraint
        self._redemption_orders(put)
        self._commitment_orders(put)
        books: list[RetailOrders] = []
        if m.retail.n:
            books = m.retail.round_zero_orders(m.return_13w(), m.prices)
        return orders, books, labels

    def margins(self) -> tuple[np.ndarray, np.ndarray]:
        """(realised vol, maintenance margins) of this step: both depend only on past weekly returns,
        so they are computed once a step."""
        m = self.m
        key = (m.steps, m.weeks_closed)
        if self._margins_step is None or self._margins_step[0] != key:
            vol = m.realised_vol()
            self._margins_step = (key, vol, maintenance_margins(m.margin, vol, m.vol))
        return self._margins_step[1], self._margins_step[2]

    def _constraint_orders(self, first: bool) -> tuple[np.ndarray, list[RetailOrders], list[str]]:
        """Orders forced this round by the prices the last round left: (N, K) units for institutions,
        retail margin-call books. Covenants are tested in the first of these rounds only."""
        m, b, p = self.m, self.m.book, self.m.prices
        orders, labels, put = self._order_sheet()
        # default: liquidate everything the round after default
        for row in self.to_liquidate:
            put(row, b.units[row].copy(), "default")
        self.liquidating = list(self.to_liquidate)
        self.to_liquidate = []
        vol, mm = self.margins()
        # margin calls: hedge funds
        sl = m.slices["hedge_fund"]
        alive = m.alive[sl]
        rows, idx = (m.rows["hedge_fund"], sl) if np.logical_and.reduce(alive) else (np.flatnonzero(alive) + sl.start,) * 2
        if len(rows):
            values = b.units[idx] * p
            net_debt = np.maximum(b.external_debt[idx] - b.cash[idx], 0.0)
            sales, closed = margin_call_sales(values, net_debt, mm, m.hf_target_leverage[idx])
            for i in (np.flatnonzero(closed | (sales > 0)) if _any(closed) or _any(sales) else ()):
                row = int(rows[i])
                if closed[i]:
                    self.declare_default(m.holders[row], "margin")
                    self.to_liquidate.remove(row)
                    put(row, b.units[row].copy(), "default")
                    self.liquidating.append(row)
                else:
                    total = b.units[row] @ p
                    put(row, b.units[row] * (sales[i] / total), "margin_call")
        # margin calls: retail accounts
        books: list[RetailOrders] = []
        if m.retail.n:
            book, closed_rows = m.retail.margin_orders(p, mm)
            if book is not None:
                books.append(book)
            if len(closed_rows):
                m.retail.closed[closed_rows] = True
                m.defaults_by_kind["retail"] += len(closed_rows)
        # covenants: neoclouds, tested once a step (lenders act weekly, not within the day)
        nc = m.cfg.neoclouds
        if m.neoclouds and first:
            price = p[A["used_gpu"]]
            hc = haircut(price, 1.0, nc.haircut_slope)
            ncr = m.slices["neocloud"]
            loans = _sum(b.gpu_loans, 0)
            alive = m.alive[ncr]
            fleet = b.units[ncr, A["used_gpu"]]
            ltv = loan_to_value(loans, fleet, price, hc)
            breach = alive & (ltv > m.covenant_ltv)
            if _any(breach):
                underwater = alive & (loan_to_value(loans, fleet, price, 0.0) > 1.0)
                prepay, sell, cannot = cure_amounts(loans, fleet, np.maximum(b.cash[ncr], 0), price, hc, m.covenant_ltv)
                cannot = cannot | underwater
                sell = sell / nc.cure_weeks     # the breach is cured over the waiver period
                for j in np.nonzero(breach)[0]:
                    agent = m.neoclouds[j]
                    agent.covenant_breaches += 1
                    if cannot[j]:
                        self.declare_default(agent, "covenant")
                        self.to_liquidate.remove(agent.row)
                        put(agent.row, b.units[agent.row].copy(), "default")
                        self.liquidating.append(agent.row)
                        continue
                    if prepay[j] > 0:
                        self._prepay_loan(j, prepay[j])
                        self._event(self.round_now, agent, "covenant_breach", "cash", 0.0, prepay[j], 0.0, 1, detail="prepaid from cash")
                    if sell[j] > 0:
                        units = np.zeros(m.K)
                        units[A["used_gpu"]] = sell[j]
                        put(agent.row, units, "covenant_breach")
        return orders, books, labels

    def _redemption_orders(self, put) -> None:
        m, b, p = self.m, self.m.book, self.m.prices
        nav = None
        self.due_now: dict[int, list] = {}
        if m.steps < self.next_redemption_due:
            return                      # nothing falls due before then: no fund needs to look
        next_due = NEVER
        for f in m.funds:
            if not f.redemption_queue or f.defaulted:
                continue
            next_due = min(next_due, min(q[0] for q in f.redemption_queue))   # unpaid requests stay due
            due = [q for q in f.redemption_queue if q[0] <= m.steps]
            if not due:
                continue
            amount = sum(q[2] for q in due)
            if f.kind == "private_credit":
                if nav is None:          # NAV at the start of the round (orders do not move it)
                    nav = m.pc_nav()
                gate = m.cfg.private_credit.gate_per_qtr * max(nav[f.row - m.slices["private_credit"].start], 0.0) \
                    - f.paid_this_quarter
                if amount > gate + 1e-9:
                    f.gate_bound_this_quarter = True
                amount = min(amount, max(gate, 0.0))
                need = amount - max(b.cash[f.row], 0.0)
                if need > 0:  # most liquid first: Treasuries, then IG bonds
                    order = np.array([A["ust"], A["ig_bonds"]])
                    units = pecking_order_sale(b.units[f.row][None, :], p, np.array([need]), order)[0]
                    put(f.row, units, "redemption")
            else:
                lev = max(f.target_leverage, 1.0)
                need = amount * lev - max(b.cash[f.row], 0.0)
                if need > 0:
                    total = b.units[f.row] @ p
                    put(f.row, b.units[f.row] * min(need / max(total, 1e-12), 1.0), "redemption")
            self.due_now[f.row] = [due, amount]
        self.next_redemption_due = next_due

    def _commitment_orders(self, put) -> None:
        m, b, p = self.m, self.m.book, self.m.prices
        if not self.obligations:
            return               # nothing owed: no sovereign needs to sell
        owed = np.zeros(len(m.holders))
        for payer, payee, amount, kind in self.obligations:
            owed[payer] += amount
        order = m.cfg.sovereigns.conviction_order
        nav_unit = None      # NAV per fund unit, computed when first needed (queuing does not move it)
        for sov in m.sovereigns:
            r = sov.row
            need = owed[r] - max(b.cash[r], 0.0) - self.requested_from_funds[r]
            if need <= 1e-9:
                continue
            units = np.zeros(m.K)
            for item in order:
                if need <= 1e-9:
                    break
                if item in A:
                    k = A[item]
                    take = min(need, b.units[r, k] * p[k])
                    units[k] += take / p[k] if p[k] > 0 else 0.0
                    need -= take
                else:  # redeem from funds: queued at the fund, paid after its lag
                    funds = m.hedge_funds if item == "hedge_fund_shares" else m.pc_funds
                    lag = (m.cfg.hedge_funds if item == "hedge_fund_shares" else m.cfg.private_credit).redemption_lag_steps
                    if nav_unit is None:
                        nav_unit = b.nav_per_unit(m.fund_nav())
                    for f in funds:
                        if need <= 1e-9 or f.defaulted:
                            continue
                        value = b.fund_units[r, f.row] * nav_unit[f.row] - self._queued_by(f, r)
                        take = min(need, max(value, 0.0))
                        if take > 0:
                            self._queue_redemption(f, m.steps + lag, r, take)
                            self.requested_from_funds[r] += take
                            need -= take
            put(r, units, "commitment")

    @staticmethod
    def _queued_by(fund, investor_row: int) -> float:
        return sum(q[2] for q in fund.redemption_queue if q[1] == investor_row)

    # ------------------------------------------------------------------ one round
    def _round(self, r: int, orders: np.ndarray, retail_books: list[RetailOrders], labels: list[str]) -> None:
        m, b = self.m, self.m.book
        total = _sum(orders, 0)
        if r == 0:
            total = total + self.market_units
            market = self.market_units
            self.market_units = np.zeros(m.K)
        else:
            market = None
        retail_totals = [book.totals(m.K) for book in retail_books]
        for t in retail_totals:
            total = total + t
        depth = m.depth * m.pool.depth_multiplier()
        factor, px, ret = exponential_clearing(m.prices, total, depth)    # = markets.clear(..., "exponential")
        m.apply_price_factor(factor)
        # institutions
        if _any(orders, axis=None):
            proceeds = orders @ px
            b.units -= orders
            self._settle_cash(proceeds)
        else:
            proceeds = None
        # retail accounts
        if retail_books:
            self._settle_retail(retail_books, px, retail_totals)
        # uses of proceeds: margin debt repaid, GPU loans prepaid
        uses = proceeds is not None and ("margin_call" in labels or "covenant_breach" in labels)
        for row in (np.flatnonzero(proceeds > 0) if uses else ()):
            label = labels[row]
            if label == "margin_call":
                repay = min(proceeds[row], b.external_debt[row])
                b.external_debt[row] -= repay
                b.external(row, -repay, "margin_debt_repaid")
            elif label == "covenant_breach":
                j = row - m.slices["neocloud"].start
                self._prepay_loan(j, proceeds[row])
        if r > 0 and self.liquidating:
            self._settle_defaults(self.liquidating)
            self.liquidating = []
        # record: every (holder, asset) order, holder by holder
        if proceeds is not None:
            rows, ks = orders.nonzero()
            units = orders[rows, ks]
            values = (units * px[ks]).tolist()
            if not m.detail:           # no event log: only the forced sales' values, in the same order
                self._add_fire_sales([v for row, v in zip(rows.tolist(), values) if labels[row] in FORCED])
            else:
                holders = m.holders
                self._record_trades(r, ((holders[row], labels[row], ASSETS[k], u, v, rk, 1) for row, k, u, v, rk in zip(
                    rows.tolist(), ks.tolist(), units.tolist(), values, ret[ks].tolist())))
        if retail_books:
            px_list, ret_list = px.tolist(), ret.tolist()
            for book, totals in zip(retail_books, retail_totals):
                if not m.detail and book.label not in FORCED:
                    continue                # no event log to write and no fire sale to count
                units = totals.tolist()
                self._record_trades(r, ((m.retail, book.label, ASSETS[k], units[k], units[k] * px_list[k],
                                         ret_list[k], book.holders) for k in book.traded_assets(totals)))
        if market is not None and _any(market):
            for k in np.flatnonzero(market):
                self._event(0, None, "crowding_out", ASSETS[k], market[k], market[k] * px[k], ret[k], 0)

    def _settle_cash(self, proceeds: np.ndarray) -> None:
        """Sellers paid from the pool while it lasts, then by outside buyers; buyers pay the pool
        (``proceeds`` per holder row)."""
        m, b = self.m, self.m.book
        sells = np.maximum(proceeds, 0.0)
        buys = np.maximum(-proceeds, 0.0)
        sold = _sum(sells)
        from_pool = m.pool.take(sold * m.cfg.dry_powder.fire_sale_pool_share)
        outside = sold - from_pool
        b.cash += sells
        if outside > 0:
            b.record(outside, "outside_buyers")
        bought = _sum(buys)
        if bought > 0:
            b.cash -= buys
            m.pool.add(bought)

    def _settle_retail(self, books: list[RetailOrders], px: np.ndarray, totals: list[np.ndarray]) -> None:
        """Retail books filled at ``px``. Forced sales (margin calls) are bought like any forced sale,
        their proceeds repay margin debt and closed-out accounts pass their cash to the broker;
        voluntary trades (momentum, panic) are with other outside investors' brokerage cash and leave
        the pool as is."""
        m, b, pop = self.m, self.m.book, self.m.retail
        forced = books[0].label == "margin_call"
        for book, book_totals in zip(books, totals):
            sold, repaid = pop.settle(book, pop.fill(book, px, book_totals), forced)
            if forced:
                from_pool = m.pool.take(sold * m.cfg.dry_powder.fire_sale_pool_share)
                b.record(sold - from_pool, "outside_buyers")
                b.record(-repaid, "margin_debt_repaid")
            else:
                b.record(sold, "retail_trades_with_outside_investors")
        if forced:
            to_broker, loss = pop.close_accounts()
            b.record(-to_broker, "margin_debt_repaid")
            m.outside_losses += loss
        m._retail_stale = True         # the book's retail row is summed up when next needed

    def _prepay_loan(self, j: int, amount: float) -> None:
        """Neocloud j prepays its GPU loans pro rata to its lenders."""
        m, b = self.m, self.m.book
        loans = b.gpu_loans[:, j]
        amount = min(amount, loans.sum(), max(b.cash[m.neoclouds[j].row], 0.0))
        if amount <= 0:
            return
        split = loans / loans.sum()
        b.transfer(m.neoclouds[j].row, b.lender_rows, amount * split)
        b.gpu_loans[:, j] -= amount * split

    def _pay_obligations(self) -> None:
        """Capital calls are paid from cash as far as it goes."""
        cash, holders = self.m.book.cash, self.m.holders
        for ob in self.obligations:
            payer, payee, amount, kind = ob
            have = float(cash[payer])
            pay = min(amount, have if have > 0.0 else 0.0)
            if pay > 0:
                cash[payer] = have - pay           # Book.transfer(payer, payee, pay), one payment at a time
                cash[payee] += pay
                ob[2] -= pay
                if kind == "commitment":
                    holders[payer].calls_paid_bn += pay
        self.obligations = [o for o in self.obligations if o[2] > MATERIAL_BN]
        owed = {}
        for o in self.obligations:
            owed[o[0]] = owed.get(o[0], 0.0) + o[2]
        for sov in self.m.sovereigns:
            sov.unmet_calls_bn = owed.get(sov.row, 0.0)
            if sov.unmet_calls_bn <= 1e-9:
                self.requested_from_funds[sov.row] = 0.0

    def _pay_redemptions(self) -> None:
        m, b = self.m, self.m.book
        nav = m.fund_nav()
        nav_unit = b.nav_per_unit(nav)
        for row, (due, amount) in self.due_now.items():
            fund = m.holders[row]
            pay_total = min(amount, max(b.cash[row], 0.0))
            if fund.kind == "hedge_fund":   # keep leverage: the rest of the sale repays (L-1) per unit redeemed
                lev = max(fund.target_leverage, 1.0)
                repay = min(pay_total * (lev - 1.0), b.external_debt[row], max(b.cash[row] - pay_total, 0.0))
                b.external_debt[row] -= repay
                b.external(row, -repay, "margin_debt_repaid")
            if pay_total <= 0 or amount <= 0:
                continue
            scale = pay_total / amount
            remaining = []
            for q in fund.redemption_queue:
                if q in due:
                    # an investor redeems at most the units it holds (outside investors: what the
                    # model's investors do not hold), at the NAV per unit
                    held = (b.fund_units[q[1], row] if q[1] >= 0
                            else b.fund_units_outstanding[row] - _sum(b.fund_units[:, row]))
                    units = min(q[2] * scale / nav_unit[row], max(held, 0.0)) if nav_unit[row] > 0 else 0.0
                    value = units * nav_unit[row]
                    if units <= 0.0:
                        continue                    # nothing left to redeem: the request lapses
                    if q[1] >= 0:
                        b.fund_units[q[1], row] -= units
                        b.transfer(row, q[1], value)
                        self.requested_from_funds[q[1]] = max(self.requested_from_funds[q[1]] - value, 0.0)
                    else:
                        b.external(row, -value, "redemptions_paid")
                    b.fund_units_outstanding[row] -= units
                    if q[2] - value > MATERIAL_BN:
                        remaining.append((q[0], q[1], q[2] - value))
                else:
                    remaining.append(q)
            fund.redemption_queue = remaining
            if fund.kind == "private_credit":
                fund.paid_this_quarter += pay_total
        self.due_now = {}

    # ------------------------------------------------------------------ defaults along claims
    def _settle_defaults(self, rows: list[int]) -> None:
        """Eisenberg-Noe settlement of defaulted holders once their liquid assets are sold."""
        from sim.contagion import clearing_vector
        m, b = self.m, self.m.book
        if m._retail_stale:
            m._sync_retail()
        n = len(m.holders)
        out = n                      # the outside creditors node
        L = np.zeros((n + 1, n + 1))
        if b.gpu_loans.size:
            for j, brow in enumerate(b.borrower_rows):
                L[brow, b.lender_rows] = b.gpu_loans[:, j]
        L[:n, out] = b.external_debt
        nav = m.fund_nav()
        external = np.zeros(n + 1)
        external[:n] = np.maximum(b.cash, 0) + b.units @ m.prices + b.other_assets + b.fund_share_value(nav)
        external[out] = 0.0
        p = clearing_vector(L, external)
        owed = L.sum(axis=1)
        defaulted_rows = [r for r in rows if m.holders[r].defaulted]
        for r in defaulted_rows:
            agent = m.holders[r]
            pay = min(p[r], owed[r])
            if owed[r] > 0:
                shares = L[r] / owed[r]
                paid_in_kind = min(pay, b.other_assets[r])   # loan books pass to creditors at model value
                b.other_assets[r] -= paid_in_kind
                cash_pay = min(pay - paid_in_kind, max(b.cash[r], 0.0))
                internal = shares[:n] * cash_pay
                b.transfer(r, np.arange(n), internal)
                if shares[out] > 0:
                    b.external(r, -shares[out] * cash_pay, "paid_to_outside_creditors")
                loss = owed[r] - (paid_in_kind + cash_pay)
                internal_loss = shares[:n] * loss
                m.credit_losses += float(internal_loss.sum())
                m.outside_losses += float(shares[out] * loss)
                for cr in np.nonzero(internal_loss > 1e-12)[0]:
                    m.losses_by_kind[m.holders[cr].kind] += float(internal_loss[cr])
            # extinguish the defaulted holder's obligations
            if agent.kind == "neocloud":
                b.gpu_loans[:, r - m.rows["neocloud"][0]] = 0.0
            if agent.kind == "private_credit" and b.gpu_loans.size:   # its loans pass to outside creditors
                i = r - m.rows["private_credit"][0]
                b.gpu_loans[i] = 0.0
                agent.software_principal_bn = agent.other_loans_bn = 0.0
            b.external_debt[r] = 0.0
            # what is left belongs to the defaulted holder's owners (fund investors, shareholders)
            if b.cash[r] > 0 and b.fund_units_outstanding[r] > 0:
                holders = b.fund_units[:, r]
                share = holders / b.fund_units_outstanding[r]
                b.transfer(r, np.arange(n), share * b.cash[r])
                b.external(r, -b.cash[r], "residual_to_outside_investors")
            b.fund_units[:, r] = 0.0
            b.fund_units_outstanding[r] = 0.0
            agent.redemption_queue = [] if hasattr(agent, "redemption_queue") else None
        # lenders whose NAV went negative default in turn (next round)
        nav = m.fund_nav()
        for f in m.pc_funds:
            if not f.defaulted and nav[f.row] < 0:
                self.declare_default(f, "insolvent")

    def _refresh_software_books(self) -> None:
        """Software loan books marked to the saas index; a fund whose NAV turns negative defaults."""
        m, b = self.m, self.m.book
        pc = m.cfg.private_credit
        saas = m.prices[A["saas"]]
        if m.pc_funds:
            sl = m.slices["private_credit"]
            alive = m.alive[sl].copy()
            principal = np.array([f.software_principal_bn for f in m.pc_funds])
            other = np.array([f.other_loans_bn for f in m.pc_funds])
            books = software_book_value(principal, saas, pc.software_pd_slope, pc.software_lgd) + other
            b.other_assets[sl] = np.where(alive, books, b.other_assets[sl])
            insolvent = alive & (m.pc_nav() < 0)
            if _any(insolvent):
                for i in np.flatnonzero(insolvent):
                    self.declare_default(m.pc_funds[i], "insolvent")
        if m.steps % 13 == 12:
            for f in m.pc_funds:
                f.gated_quarters = f.gated_quarters + 1 if f.gate_bound_this_quarter else 0
                m.gate_streak_max = max(m.gate_streak_max, f.gated_quarters)

    # ------------------------------------------------------------------ records
    def max_ltv(self) -> float:
        m = self.m
        if not m.neoclouds:
            return 0.0
        alive = m.alive[m.slices["neocloud"]]
        if not _any(alive):
            return 0.0
        price = m.prices[A["used_gpu"]]
        hc = haircut(price, 1.0, m.cfg.neoclouds.haircut_slope)
        ltv = loan_to_value(_sum(m.book.gpu_loans, 0), m.book.units[m.slices["neocloud"], A["used_gpu"]], price, hc)
        if not np.logical_and.reduce(alive):
            ltv = ltv[alive]
        return min(float(np.maximum.reduce(ltv)), 10.0)

    def _record_trades(self, r: int, trades, detail: str = "") -> None:
        """Append one row to ``model.events`` per trade of round ``r``, a tuple in the order of
        EVENT_COLUMNS, and add forced sales of market assets to the fire-sale totals. ``trades``
        yields (agent or None for the market, constraint, asset, units, value, price return,
        holders) as Python numbers. One loop for a round's trades: a busy run records thousands."""
        m = self.m
        step, events = int(m.steps), m.events
        step_fire_sales, fire_sale_volume = m.step_fire_sales, m.fire_sale_volume
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
        m.step_fire_sales, m.fire_sale_volume = step_fire_sales, fire_sale_volume

    def _add_fire_sales(self, values: list[float]) -> None:
        """Add the forced sales of market assets among ``values`` (those > 0, in order) to the fire-sale
        totals: what :meth:`_record_trades` adds up for the same trades when there is no event log,
        without a tuple per trade (a hedge-fund margin call round sells a hundred positions)."""
        m = self.m
        step_fire_sales, fire_sale_volume = m.step_fire_sales, m.fire_sale_volume
        for value in values:
            if value > 0:
                step_fire_sales += value
                fire_sale_volume += value
        m.step_fire_sales, m.fire_sale_volume = step_fire_sales, fire_sale_volume

    def _event(self, r, agent, constraint, asset, units, value, ret, holders, detail: str = "") -> None:
        """One event (see :meth:`_record_trades`), from numpy or Python numbers."""
        self._record_trades(int(r), ((agent, constraint, asset, float(units), float(value), float(ret), int(holders)),),
                            detail)
