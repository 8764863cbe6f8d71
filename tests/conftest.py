"""Shared fixtures: small real samples made by the tests themselves."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def toy_sample():
    """20 000 toy events with exact truth (seed 11)."""
    import simulators.toy as toy

    return toy.simulate(20_000, seed=11)


@pytest.fixture(scope="session")
def toy_file_of(tmp_path_factory):
    """``toy_file_of(n_events, seed)``: the path of a toy event file, simulated once per session for each pair."""
    made = {}

    def make(n_events: int, seed: int):
        if (n_events, seed) not in made:
            import simulators.toy as toy

            path = tmp_path_factory.mktemp("toy") / f"toy_{n_events}_{seed}.h5"
            toy.simulate(n_events, seed=seed).save(path)
            made[n_events, seed] = path
        return made[n_events, seed]

    return make


@pytest.fixture()
def small_sample():
    """A hand-made 50-event sample with two benchmarks and no morphing."""
    from lfi.events import EventSample

    rng = np.random.default_rng(0)
    n = 50
    return EventSample(
        parameters=["a", "b"],
        benchmark_names=["sm", "bsm"],
        benchmark_theta=[[0.0, 0.0], [1.0, -1.0]],
        momenta=rng.normal(size=(n, 3, 4)),
        types=rng.integers(0, 8, size=(n, 3)),
        weights=rng.uniform(0.1, 1.0, size=(n, 2)),
        globals_=rng.normal(size=(n, 2)),
        global_names=["met", "met_phi"],
        observables={"pt_j1": rng.uniform(20, 200, n)},
        truth_events={"z": rng.normal(size=(n, 3))},
        truth={"sigma_coefficients": np.arange(3.0)},
        units="TeV^-2",
        metadata={"simulator": "hand"},
    )
