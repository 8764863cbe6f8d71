"""Pseudo-data: unweighted, Poisson-fluctuated event samples drawn from weighted simulation at any θ.

n ~ Poisson(L·σ(θ)) events are drawn, with replacement, with probabilities w_i(θ)/Σw(θ) from the morphed
weights, so observed-limit code can be tested without real data (docs/statistics.md §12). Draw from a sample
that was used neither for training nor as the simulated sample of the limits, or the data and the model share
fluctuations.
"""

from __future__ import annotations

import numpy as np

from lfi.errors import EventFileError, OptionError
from lfi.events.sample import EventSample
from lfi.limits.checks import check_lumi

__all__ = ["draw_pseudodata", "pseudodata_indices"]


def pseudodata_indices(sample: EventSample, theta: np.ndarray, lumi: float, *, seed: int = 0,
                       source: str = "<memory>") -> np.ndarray:
    """The events of one pseudo-experiment at θ: indices into ``sample``, sorted, with repeats, shape (n,).

    Parameters
    ----------
    sample : EventSample
        Weighted simulation with morphing (weights in pb).
    theta : array_like, shape (D,)
        Parameter point of the pseudo-data (in the sample's units).
    lumi : float
        Integrated luminosity in pb⁻¹.
    seed : int
    source : str
        Name of the sample's file, for messages and the provenance.

    Returns
    -------
    ndarray of int, shape (n,)
        n ~ Poisson(L·σ(θ)).

    Raises
    ------
    EventFileError
        A sample without morphing, or one with negative weights at θ (they cannot be probabilities).
    OptionError
        θ of the wrong length, a non-positive luminosity.
    """
    lumi = check_lumi(lumi)
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    if theta.shape != (sample.n_parameters,):
        raise OptionError(f"--theta needs {sample.n_parameters} values ({', '.join(sample.parameters)}), "
                          f"got {len(theta)}")
    if not sample.can_morph:
        raise EventFileError(f"{source}: carries no /morphing group, so its weights are unknown away from the benchmarks")
    weights = sample.weights_at(theta)
    if np.any(weights < 0):
        raise EventFileError(f"{source}: {int(np.sum(weights < 0))} events have negative weights at θ = "
                             f"{theta.tolist()}; pseudo-data need non-negative weights")
    sigma = float(weights.sum())
    if not sigma > 0:
        raise EventFileError(f"{source}: the cross section at θ = {theta.tolist()} is {sigma:g} pb; nothing to draw")
    rng = np.random.default_rng(seed)
    expected = lumi * sigma
    n = int(rng.poisson(expected))
    return np.sort(rng.choice(len(sample), size=n, p=weights / sigma))


def draw_pseudodata(sample: EventSample, theta: np.ndarray, lumi: float, *, seed: int = 0,
                    source: str = "<memory>") -> EventSample:
    """Unweighted pseudo-data at θ: the events :func:`pseudodata_indices` draws.

    Returns
    -------
    EventSample
        The drawn events; every weight is 1/L (so a column sums to n/L, the observed σ in pb) and
        ``metadata["pseudodata"]`` records θ, L, the seed, the expected and the drawn number of events.
    """
    index = pseudodata_indices(sample, theta, lumi, seed=seed, source=source)
    theta = np.asarray(theta, dtype=np.float64).reshape(-1)
    expected, n = float(lumi * sample.weights_at(theta).sum()), len(index)
    drawn = sample.select(index)
    drawn.weights = np.full_like(drawn.weights, 1.0 / lumi)
    drawn.metadata = {**drawn.metadata, "pseudodata": {
        "source": source, "theta": theta.tolist(), "lumi_pb": lumi, "seed": int(seed), "expected_events": expected,
        "events": n, "distinct_source_events": int(len(np.unique(index)))}}
    return drawn
