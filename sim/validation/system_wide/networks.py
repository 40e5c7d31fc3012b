"""The two random networks of the system-wide stress test (SPEC.md §3).

The peer draws them from Python's Mersenne Twister and numpy's legacy ``RandomState``; to get its
networks (and so its runs) this module consumes the same streams in the same order, from private
generator objects (never the global ones):

* simulation seed i -> ``random.Random(i)``: the first draw gives the portfolio seed
  s = int(1000 r1), the second the interbank seed t = int(1000 r2); the same generator then shuffles
  the agents each step (:mod:`.schedule`);
* portfolio ("Montagna L3") network: for asset class c (offset 0..3) ``RandomState(29979 + s + c)``,
  each of the 106 holder rows links to each security with probability 1/2, weights 1/links;
* interbank ("Montagna-Kok") network: ``RandomState(t)`` draws 10,000 candidate pairs, accepts
  them with probability 1/2 and sizes them, then places any unplaced lending, and what borrowing is
  left becomes a loan from outside the system.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from sim.validation.system_wide.sums import peer_sum
from sim.validation.system_wide.universe import CLASS_SIZES

PORTFOLIO_SEED_BASE = 29979
LINK_PROBABILITY = 0.5
N_FUNDS = 5           # representative asset managers (rows 96..100)
N_PASSIVE = 5         # passive non-bank rows (101..105)
INTERBANK_DRAWS = 10_000
MAX_SHARE_OF_BORROWING = 0.2


@dataclass(frozen=True)
class NetworkSeeds:
    """What one simulation seed fixes: the portfolio seed s, the interbank seed t, and the stream."""

    sim_seed: int
    portfolio_seed: int
    interbank_seed: int
    stream: random.Random  # continues with the agent shuffles after the two network draws


def network_seeds(sim_seed: int) -> NetworkSeeds:
    """``random.Random(sim_seed)``: s = int(1000 r1), t = int(1000 r2) (SPEC.md §3)."""
    stream = random.Random(sim_seed)
    s = int(stream.random() * 1000)
    t = int(stream.random() * 1000)
    return NetworkSeeds(sim_seed, s, t, stream)


def portfolio_weights(n_banks: int, portfolio_seed: int) -> list[np.ndarray]:
    """Per asset class, the (holders x securities) weight matrix W of the L3 network (SPEC.md §3.1).

    Rows: banks, hedge funds (one per bank), 5 funds, 5 passive holders. ``W[r, mu] = S[r, mu] / sum_mu S``
    with ``S[r, mu] = 1`` with probability 1/2; a row without links stays zero.
    """
    rows = 2 * n_banks + N_FUNDS + N_PASSIVE
    out = []
    for offset, n in enumerate(CLASS_SIZES):
        rng = np.random.RandomState(PORTFOLIO_SEED_BASE + portfolio_seed + offset)
        links = np.zeros((rows, n))
        for r in range(rows):
            links[r] = np.where(rng.random_sample(n) <= LINK_PROBABILITY, 1, 0)
        norm = links.sum(axis=1, keepdims=True)
        out.append(np.divide(links, norm, out=np.zeros_like(links), where=norm != 0))
    return out


class InterbankNetworkError(RuntimeError):
    """The lending could not all be placed (the peer then draws the network once more)."""


def _draw_links(rng, lending, borrowing, out, rem_a, rem_l) -> None:
    """Step 1-2 of SPEC.md §3.2: 10,000 candidate (lender, borrower) pairs, accepted with p = 1/2."""
    n = len(lending)
    pairs = rng.randint(0, n, size=(INTERBANK_DRAWS, 2))
    left = peer_sum(lending)  # mode A: total lending < total borrowing in this data
    for i, j in pairs:
        accept = rng.random_sample() <= LINK_PROBABILITY
        if (i != j and accept and out[i, j] == 0 and lending[i] != 0 and borrowing[j] != 0
                and rem_a[i] != 0 and rem_l[j] != 0):
            share = rng.uniform()
            amount = min(min(MAX_SHARE_OF_BORROWING, share) * borrowing[j], rem_a[i], rem_l[j])
            out[i, j] = amount
            rem_a[i] -= amount
            rem_l[j] -= amount
            left -= amount
            if left <= 0:
                break


def _place_rest(rng, out, rem_a, rem_l) -> None:
    """Step 3 of SPEC.md §3.2: each lender with lending left fills borrowers in a shuffled order."""
    n = len(rem_a)
    order = list(range(n))
    for i in range(n):
        if rem_a[i] <= 0:
            continue
        rng.shuffle(order)
        for j in order:
            if i != j and rem_l[j] > 0:
                rng.uniform()  # drawn and unused by the peer
                amount = min(rem_a[i], rem_l[j])
                if amount > 0:
                    out[i, j] += amount
                    rem_a[i] -= amount
                    rem_l[j] -= amount


def _interbank_once(rng, lending: list[float], borrowing: list[float]) -> tuple[np.ndarray, np.ndarray]:
    n = len(lending)
    out = np.zeros((n, n))
    rem_a = np.array(lending, dtype=np.float64)
    rem_l = np.array(borrowing, dtype=np.float64)
    if int(peer_sum(lending)) > int(peer_sum(borrowing)):
        raise ValueError("total interbank lending exceeds borrowing: the peer's 'mode L' is not supported")
    _draw_links(rng, lending, borrowing, out, rem_a, rem_l)
    if peer_sum(rem_a) > 0:
        _place_rest(rng, out, rem_a, rem_l)
    if peer_sum(rem_a) != 0:
        raise InterbankNetworkError(f"{peer_sum(rem_a)} of interbank lending could not be placed")
    return out, rem_l


def interbank_network(lending, borrowing, interbank_seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Interbank exposures ``out[lender, borrower]`` and each bank's borrowing left to the outside.

    ``lending`` a_j = A_j / 6 and ``borrowing`` l_j = L_j / 4 (EUR million). As the peer does, a draw
    whose lending cannot all be placed is followed by a second one from the same stream.
    """
    rng = np.random.RandomState(interbank_seed)
    lending = [float(x) for x in lending]
    borrowing = [float(x) for x in borrowing]
    try:
        return _interbank_once(rng, lending, borrowing)
    except InterbankNetworkError:
        return _interbank_once(rng, lending, borrowing)
