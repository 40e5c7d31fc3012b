"""The network of claims, built with networkx and exposed as ``model.network``.

Nodes are agents (``unique_id``) and asset markets (``"asset:<name>"``). Edge kinds:
``holding`` (holder -> market, value $bn), ``loan`` (lender -> borrower), ``fund_share``
(investor -> fund), ``commitment`` (sovereign -> AI lab, undrawn $bn), ``compute_contract``
(AI lab -> provider, share of the lab's compute spend). Overlapping portfolios also live in the
holders-by-assets matrix ``model.book.units`` for fast arithmetic; this graph is for analysis and
the live view, rebuilt on demand (:func:`claims_network`).
"""

from __future__ import annotations

import networkx as nx
import numpy as np

from sim.config import ASSETS


def claims_network(model, min_value_bn: float = 1e-9) -> nx.DiGraph:
    g = nx.DiGraph()
    book = model.book
    prices = model.prices
    for agent in model.holders:
        g.add_node(agent.unique_id, kind=str(agent.kind), name=agent.name, row=agent.row,
                   defaulted=bool(agent.defaulted))
    for k, asset in enumerate(ASSETS):
        g.add_node(f"asset:{asset}", kind="market", name=asset, row=-1, defaulted=False)
    values = book.units * prices
    rows, cols = np.nonzero(values > min_value_bn)
    for r, c in zip(rows, cols):
        g.add_edge(model.holders[r].unique_id, f"asset:{ASSETS[c]}", kind="holding", value_bn=float(values[r, c]))
    for u, v, kind, value in claims_between_agents(model, min_value_bn):
        g.add_edge(u, v, kind=kind, value_bn=value)
    return g


def claims_between_agents(model, min_value_bn: float = 1e-9):
    """(creditor or investor id, obligor id, kind, $bn) for every claim of one agent on another: the
    edges of :func:`claims_network` that are not holdings of a market asset."""
    book = model.book
    if book.gpu_loans.size:
        lr, br = np.nonzero(book.gpu_loans > min_value_bn)
        for a, b in zip(lr, br):
            yield (model.holders[book.lender_rows[a]].unique_id, model.holders[book.borrower_rows[b]].unique_id,
                   "loan", float(book.gpu_loans[a, b]))
    nav_unit = book.nav_per_unit(model.fund_nav())
    inv, fund = np.nonzero(book.fund_units > 0)
    for a, b in zip(inv, fund):
        yield model.holders[a].unique_id, model.holders[b].unique_id, "fund_share", float(book.fund_units[a, b] * nav_unit[b])
    commitments = model.sovereigns.commitments
    s_rows, l_rows = np.nonzero(commitments > min_value_bn)
    for a, b in zip(s_rows, l_rows):
        yield model.sovereigns[a].unique_id, model.labs[b].unique_id, "commitment", float(commitments[a, b])
    for li, lab in enumerate(model.labs):
        for provider, share in zip(model.labs.providers, model.labs.contract_shares[li]):
            if share > 0:
                yield lab.unique_id, provider.unique_id, "compute_contract", float(share)


def agent_graph(holders, edges) -> nx.Graph:
    """Undirected graph over agents only (``edges``: pairs of ids with a claim between them, from
    :func:`claims_between_agents`), the topology of the Mesa space."""
    g = nx.Graph()
    g.add_nodes_from(a.unique_id for a in holders)
    g.add_edges_from(edges)
    return g
