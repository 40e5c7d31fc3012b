"""Shared fixtures: small, fast configurations of the model for tests."""

from __future__ import annotations

import pytest

from sim.config import load_config

#: A small economy that keeps every mechanism but runs in a fraction of the baseline's time.
SMALL = {
    "retail.holders": 500,
    "simulation.steps": 60,
}


@pytest.fixture
def small_config():
    return load_config(None, SMALL)


def run_model(config=None, seed: int = 0, **overrides):
    from sim.model import DryPowderModel
    m = DryPowderModel(config, rng=seed, **overrides)
    m.run()
    return m
