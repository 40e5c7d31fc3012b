"""Defaults along claims: the Eisenberg & Noe (2001) clearing of an obligation network, and input checks.

:func:`clearing_vector` computes the greatest clearing payment vector exactly by the fictitious-default
algorithm; :func:`clearing_losses` what each creditor loses at those payments. The weekly cascade
settles defaulted holders with it (:mod:`sim.cascade`), and the contagion core tests it against
closed forms (MODEL.md §6.5, §11).
"""

from __future__ import annotations

import numpy as np

from sim.engine.checks import as_array, check_len
from sim.engine.fixed import solve, transpose_dot

def _relative_liabilities(liabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Total obligations pbar_i = sum_j L_ij and the relative liabilities Pi_ij = L_ij / pbar_i."""
    pbar = liabilities.sum(axis=1)
    pi = np.divide(liabilities, pbar[:, None], out=np.zeros_like(liabilities), where=pbar[:, None] > 0)
    return pbar, pi


def clearing_vector(liabilities, external_assets) -> np.ndarray:
    """Greatest clearing payment vector of Eisenberg & Noe (2001), by fictitious default.

    ``liabilities[i, j]`` is what i owes j (N x N, >= 0, zero diagonal); ``external_assets`` (N,)
    >= 0. With pbar_i = sum_j L_ij and Pi_ij = L_ij / pbar_i, a clearing vector solves

        p_i = min( pbar_i , e_i + sum_j Pi_ji p_j ).

    Fictitious-default algorithm (Eisenberg & Noe 2001, section 3): start from D = {} (everyone pays
    in full); at each stage set p_i = pbar_i for i not in D and solve exactly for the defaulters'
    payments

        (I - Pi_DD') p_D = e_D + Pi_ND' pbar_N ;

    then D <- D u {i : e_i + sum_j Pi_ji p_j < pbar_i}. D only grows, so at most N stages; when it
    stops growing p is the greatest clearing vector. (The system is never singular: a closed set of
    defaulters, paying only each other, cannot occur at the greatest clearing vector.)

    Returns p (N,), 0 <= p <= pbar.
    """
    L = as_array("liabilities", liabilities, 2, nonnegative=True)
    e = as_array("external_assets", external_assets, 1, nonnegative=True)
    n = L.shape[0]
    if L.shape != (n, n):
        raise ValueError(f"liabilities must be square (N x N), got shape {L.shape}")
    check_len("external_assets", e, n, "one entry per node of liabilities")
    if n and np.any(np.diag(L) != 0):
        raise ValueError("liabilities must have a zero diagonal (a node cannot owe itself)")

    pbar, pi = _relative_liabilities(L)
    scale = max(1.0, float(pbar.max(initial=0.0)), float(e.max(initial=0.0)))
    tol = 1e-12 * scale  # guards the default test against round-off only
    defaulted = np.zeros(n, dtype=bool)
    p = pbar.copy()
    for _ in range(n + 1):
        wealth = e + transpose_dot(pi, p)  # what each node can pay given the others pay p
        newly = (wealth < pbar - tol) & ~defaulted
        if not newly.any():
            break
        defaulted |= newly
        d, s = defaulted, ~defaulted
        system = np.eye(int(d.sum())) - pi[np.ix_(d, d)].T
        rhs = e[d] + transpose_dot(pi[np.ix_(s, d)], pbar[s])
        p = pbar.copy()
        p[d] = solve(system, rhs)
    return np.clip(p, 0.0, pbar)


def clearing_losses(liabilities, p) -> np.ndarray:
    """Loss of each creditor j at payments p: owed_j - received_j = sum_i L_ij - sum_i Pi_ij p_i (>= 0)."""
    L = as_array("liabilities", liabilities, 2, nonnegative=True)
    pay = as_array("p", p, 1, nonnegative=True)
    if L.shape != (pay.shape[0], pay.shape[0]):
        raise ValueError(f"liabilities shape {L.shape} does not match p of length {pay.shape[0]}")
    pbar, pi = _relative_liabilities(L)
    if (pay > pbar * (1 + 1e-12) + 1e-12).any():
        raise ValueError("p exceeds the total obligations of some node")
    owed = L.sum(axis=0)
    received = transpose_dot(pi, pay)
    return np.maximum(owed - received, 0.0)
