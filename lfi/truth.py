"""Exact likelihoods for samples that carry them (the toy; parton-level WBF).

A sample with an exact likelihood stores, in the morphing components of ``/morphing/components``:

- ``/truth/events/density_coefficients`` (N, C): dσ(x_e|θ)/dx = Σ_c α_c(θ)·a_ec (pb per unit x);
- ``/truth/sigma_coefficients`` (C,): σ(θ) = Σ_c α_c(θ)·s_c (pb).

Then log p(x_e|θ) = log Σ_c α_c(θ) a_ec − log Σ_c α_c(θ) s_c for every θ. The density coefficients may
carry a θ-independent factor per event (the WBF parton-level truth drops flux and phase-space factors): it
cancels in every ratio r(x|θ0, θ1) and in the Asimov q, which is all the limits use.
"""

from __future__ import annotations

import numpy as np

from lfi.errors import EventFileError
from lfi.events import EventSample
from lfi.morphing import Morpher

__all__ = ["has_exact_likelihood", "exact_log_likelihood", "exact_cross_section"]

DENSITY_KEY = "density_coefficients"
SIGMA_KEY = "sigma_coefficients"


def has_exact_likelihood(sample: EventSample) -> bool:
    """True if the sample carries the truth needed by :func:`exact_log_likelihood`."""
    return sample.can_morph and DENSITY_KEY in sample.truth_events and SIGMA_KEY in sample.truth


def _monomials(sample: EventSample, theta: np.ndarray) -> np.ndarray:
    if not has_exact_likelihood(sample):
        raise EventFileError(
            f"this sample has no exact likelihood (needs /truth/events/{DENSITY_KEY} and /truth/{SIGMA_KEY})"
        )
    return Morpher(sample.morphing_components, sample.benchmark_theta[sample.morphing_basis]).monomials(theta)


def exact_cross_section(sample: EventSample, theta: np.ndarray) -> np.ndarray:
    """Exact σ(θ) in pb, shape (T,) for θ of shape (T, D)."""
    return _monomials(sample, theta) @ np.asarray(sample.truth[SIGMA_KEY])


def exact_log_likelihood(sample: EventSample, theta: np.ndarray) -> np.ndarray:
    """log p(x_e|θ_t) (up to a θ-independent constant per event), shape (N, T); θ of shape (T, D).

    Differences between two θ give the exact log r(x|θ0, θ1).
    """
    alpha = _monomials(sample, theta)  # (T, C)
    density = np.asarray(sample.truth_events[DENSITY_KEY]) @ alpha.T  # (N, T)
    sigma = alpha @ np.asarray(sample.truth[SIGMA_KEY])
    with np.errstate(divide="ignore"):
        return np.log(density) - np.log(sigma)[None, :]
