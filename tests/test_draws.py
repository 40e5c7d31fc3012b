"""The model's own random variates (sim.draws) against closed forms: the normal quantile against the
standard library's, and the moments of normals, lognormals, gammas and Dirichlet rows."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from sim import draws

N = 200_000


def rng(seed: int = 7) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_normal_quantile_matches_the_standard_library_to_machine_precision():
    p = np.concatenate([np.linspace(1e-12, 1e-6, 50), np.linspace(1e-4, 1 - 1e-4, 999), 1 - np.geomspace(1e-12, 1e-5, 50)])
    ours = draws.normal_quantile(p)
    theirs = np.array([NormalDist().inv_cdf(float(x)) for x in p])
    assert np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))) < 1e-14


def test_standard_normal_has_the_moments_of_a_standard_normal():
    z = draws.standard_normal(rng(), N)
    se = 1 / math.sqrt(N)
    assert abs(z.mean()) < 4 * se
    assert abs(z.var() - 1) < 4 * math.sqrt(2) * se
    assert abs(np.mean(z > 1.96) - 0.025) < 4 * math.sqrt(0.025 * 0.975 / N)


def test_lognormal_mean_is_exp_mu_plus_half_sigma_squared():
    x = draws.lognormal(rng(), -0.02, 0.2, N)
    assert x.min() > 0
    expected = math.exp(-0.02 + 0.5 * 0.04)
    sd = expected * math.sqrt(math.exp(0.04) - 1)
    assert abs(x.mean() - expected) < 4 * sd / math.sqrt(N)


@pytest.mark.parametrize("shape", [0.05, 0.3, 1.0, 2.5, 30.0])
def test_gamma_mean_and_variance_equal_the_shape(shape):
    g = draws.gamma(rng(), np.full(N, shape))
    assert g.min() >= 0
    assert abs(g.mean() - shape) < 5 * math.sqrt(shape / N)
    # the variance of a gamma(k) sample variance is about (2k^2 + 6k) / n (fourth cumulant 6k)
    assert abs(g.var() - shape) < 5 * math.sqrt((2 * shape**2 + 6 * shape) / N)


def test_dirichlet_rows_sum_to_one_with_the_expected_means():
    alpha = np.array([2.0, 1.0, 0.5, 6.5])
    w = draws.dirichlet(rng(), alpha, 50_000)
    assert np.allclose(w.sum(axis=1), 1.0)
    mean = alpha / alpha.sum()
    var = mean * (1 - mean) / (alpha.sum() + 1)
    assert np.all(np.abs(w.mean(axis=0) - mean) < 5 * np.sqrt(var / 50_000))


def test_dirichlet_with_tiny_shapes_keeps_every_row_a_distribution():
    """Every U**(1/a) of a row underflows for a ~ 1e-9: the row is rebuilt in logs, never 0/0."""
    w = draws.dirichlet(rng(), np.full(6, 1e-9), 500)
    assert np.all(np.isfinite(w))
    assert np.allclose(w.sum(axis=1), 1.0)
    assert np.all(w.max(axis=1) > 0.999)       # all the weight on one asset, as the limit a -> 0 says


def test_portfolio_weights_stay_on_held_assets_and_fall_back_to_the_average():
    average = np.array([0.5, 0.0, 0.3, 0.2, 0.0])
    w = draws.portfolio_weights(rng(), 20.0, average, 2000)
    assert np.allclose(w.sum(axis=1), 1.0)
    assert np.all(w[:, average == 0] == 0)
    assert np.all(np.abs(w.mean(axis=0) - average) < 0.01)
    tiny = draws.portfolio_weights(rng(), 1e-9, average, 2000)
    assert np.allclose(tiny.sum(axis=1), 1.0)
    assert np.all(tiny[:, average == 0] == 0)
    fell_back = np.all(tiny == average, axis=1)
    # shapes ~0.001: the draw lands (almost) wholly on one asset, an unheld one 2 times in 5, and the
    # held ones then underflow to exactly zero in some of those rows: they take the average
    assert 0.0 < fell_back.mean() < 0.4


def test_the_same_generator_state_gives_the_same_draws():
    a, b = rng(3), rng(3)
    assert np.array_equal(draws.gamma(a, np.full(100, 0.4)), draws.gamma(b, np.full(100, 0.4)))
    assert np.array_equal(draws.dirichlet(a, np.ones(4), 10), draws.dirichlet(b, np.ones(4), 10))
