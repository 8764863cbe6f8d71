"""Fisher information of an event sample at a parameter point: the truth, the parton-level (joint) information,
rate only, histograms of observables and a learned score (SALLY) (docs/statistics.md §13).

Each function returns the expected information matrix I (D, D) in (unit θ)⁻² for luminosity L at θ*; the
linearised expected −2Δlog L is (θ − θ*)ᵀ I (θ − θ*), and √[(I⁻¹)_ii] is the expected 1σ error on θ_i with the
others profiled. The matrix algebra (projection, profiling, ellipses, ensembles) is in
:mod:`lfi.limits.information`; this module only reads the sample.

=================  =================================================================================================
``truth``          the curvature of the sample's exact expected log-likelihood (toy; parton-level WBF): half
                   the Hessian of the truth Asimov map
``joint``          L Σ_e ∂w_e ∂w_eᵀ / w_e from the morphed weights: the information of the joint likelihood
                   p(x, z|θ); equal to the truth at parton level, an upper bound at detector level
``rate``           L ∇σ ∇σᵀ / σ: a counting experiment
``histogram``      L Σ_b ∂σ_b ∂σ_bᵀ / σ_b for 1-D or 2-D histograms of named observables
``score``          L σ E[t̂ t̂ᵀ] + rate term, from an estimated score t̂(x) at θ* (SALLY)
=================  =================================================================================================

With ``nuisances`` (a :class:`lfi.limits.nuisance.NuisanceModel` of the sample's events) the joint, rate,
histogram and score informations are over (θ, ν): D + K parameters, the derivative of w_e with respect to ν_k at
ν = 0 being w_e·a_ek, plus 1 on the ν diagonal from the standard-normal constraints; profile ν with
:func:`lfi.limits.information.profile_information`.

Units: weights and cross sections in pb, luminosity in pb⁻¹.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from lfi.augment.joint import JointQuantities
from lfi.events import EventSample
from lfi.limits import bin_index, fisher_information
from lfi.limits.checks import check_lumi
from lfi.limits.information import binned_information, information_histogram, rate_information, weighted_information
from lfi.limits.nuisance import NuisanceModel

__all__ = [
    "joint_information",
    "truth_information",
    "rate_only_information",
    "histogram_information",
    "score_information",
    "observable_information_histogram",
]


def _point(sample: EventSample, theta: Sequence[float] | None) -> np.ndarray:
    point = np.zeros(sample.n_parameters) if theta is None else np.asarray(theta, dtype=np.float64).reshape(-1)
    if point.shape != (sample.n_parameters,):
        raise ValueError(f"θ must have {sample.n_parameters} values ({', '.join(sample.parameters)}), "
                         f"got {point.tolist()}")
    return point


def _weights_and_gradients(sample: EventSample, theta, nuisances: NuisanceModel | None):
    """w_e (N,) at θ and ∂w_e/∂(θ, ν) (N, D [+ K])."""
    w, grad = JointQuantities(sample).weights_and_gradients(_point(sample, theta))
    if nuisances is None:
        return w, grad
    if nuisances.linear.shape[0] != len(w):
        raise ValueError(f"the nuisance model has {nuisances.linear.shape[0]} events, the sample {len(w)}")
    return w, np.hstack([grad, w[:, None] * nuisances.linear])


def _constrained(info: np.ndarray, nuisances: NuisanceModel | None) -> np.ndarray:
    if nuisances is None:
        return info
    k = nuisances.n_nuisances
    info = info.copy()
    info[-k:, -k:] += np.eye(k)  # the standard-normal constraint of every ν
    return info


def joint_information(sample: EventSample, lumi: float, theta: Sequence[float] | None = None, *,
                      nuisances: NuisanceModel | None = None) -> np.ndarray:
    """Information of the joint likelihood, L Σ_e ∂w_e ∂w_eᵀ / w_e with morphed weights at θ (default: the SM).

    Returns
    -------
    ndarray, shape (D, D), or (D + K, D + K) with ``nuisances``
    """
    w, grad = _weights_and_gradients(sample, theta, nuisances)
    return _constrained(weighted_information(w, grad, lumi), nuisances)


def rate_only_information(sample: EventSample, lumi: float, theta: Sequence[float] | None = None, *,
                          nuisances: NuisanceModel | None = None) -> np.ndarray:
    """Information of the total rate alone, L ∇σ ∇σᵀ / σ, shape (D, D) (or (D + K, D + K))."""
    w, grad = _weights_and_gradients(sample, theta, nuisances)
    return _constrained(rate_information(w.sum(), grad.sum(axis=0), lumi), nuisances)


def histogram_information(sample: EventSample, observables: Sequence[str], lumi: float,
                          theta: Sequence[float] | None = None, *, binning: str = "auto",
                          n_bins: int | None = None, nuisances: NuisanceModel | None = None) -> np.ndarray:
    """Information of a 1-D or 2-D histogram of named observables, bins filled with the morphed weights.

    Parameters
    ----------
    binning : {"auto", "reference"}
        Bins of equal weight at θ (``n_bins`` per axis; default 20 in 1-D, 10 in 2-D), or the reference
        binning (docs/statistics.md §4), as for the histogram likelihood maps.

    Returns
    -------
    ndarray, shape (D, D), or (D + K, D + K) with ``nuisances``
    """
    from lfi.evaluate import histogram_binning

    w, grad = _weights_and_gradients(sample, theta, nuisances)
    x, edges = histogram_binning(sample, observables, w, binning=binning, n_bins=n_bins)
    bins, n = bin_index(x, edges)
    return _constrained(binned_information(bins, n, w, grad, lumi), nuisances)


def truth_information(sample: EventSample, lumi: float, theta: Sequence[float] | None = None, *,
                      nuisances: NuisanceModel | None = None) -> np.ndarray:
    """Information of the sample's exact likelihood: the curvature of the truth's expected −Δlog L at θ,

        I = L ∇∇ᵀσ(θ) − L σ(θ) E_θ[∇∇ᵀ log dσ(x|θ)],

    with the exact density polynomial dσ(x|θ) and the exact σ(θ) (:mod:`lfi.truth`), the expectation over the
    sample's events weighted at θ. This is exactly half the Hessian of the truth Asimov map at θ* = θ, so its
    ellipses are the linearisation of the truth contours. In expectation it equals the outer-product form
    L σ E[t tᵀ] + L ∇σ ∇σᵀ/σ of :func:`joint_information` and :func:`score_information`; on a finite sample the two
    differ at O(1/√N).

    With ``nuisances`` the density is dσ(x|θ)·f(x, ν), log f = aν + bν² per event (exact at parton level, where
    the factors depend on x alone), and σ(θ, ν) = Σ_e w_e(θ) f_e(ν). At ν = 0 the b terms of ∂²σ and of
    E[∂² log f] cancel, which leaves the blocks

        I_θν = L Σ_e ∂_θ w_e a_eᵀ,    I_νν = L Σ_e w_e a_e a_eᵀ + 1 (the standard-normal constraints),

    exactly half the Hessian of the truth Asimov q(θ, ν) of :func:`lfi.limits.nuisance.profiled_unbinned_q` at
    (θ*, 0); profiling ν (:func:`lfi.limits.information.profile_information`) gives the curvature of the profiled
    truth map.

    Returns
    -------
    ndarray, shape (D, D), or (D + K, D + K) with ``nuisances``

    Raises
    ------
    lfi.errors.EventFileError
        If the sample carries no exact likelihood.
    """
    from lfi.truth import DENSITY_KEY, SIGMA_KEY, exact_cross_section

    point = _point(sample, theta)
    exact_cross_section(sample, point[None])  # refuses a sample without the truth, in one line
    morpher = sample.morpher()
    alpha = morpher.monomials(point[None])[0]  # (C,)
    d_alpha, dd_alpha = morpher.monomial_gradients(point[None])[0], morpher.monomial_hessians(point[None])[0]
    density = np.asarray(sample.truth_events[DENSITY_KEY], dtype=np.float64)  # (N, C)
    sigma_coefficients = np.asarray(sample.truth[SIGMA_KEY], dtype=np.float64)
    w_all, grad = _weights_and_gradients(sample, point, nuisances)  # with nuisances ∂w/∂ν_k = w·a_k at ν = 0
    keep = w_all != 0.0
    density, w = density[keep], w_all[keep]
    value, gradient, hessian = density @ alpha, density @ d_alpha.T, np.einsum("nc,dec->nde", density, dd_alpha)
    curvature = hessian / value[:, None, None] - np.einsum("nd,ne->nde", gradient, gradient) / value[:, None, None] ** 2
    sigma = float(alpha @ sigma_coefficients)
    expected_curvature = np.einsum("n,nde->de", w, curvature) / w.sum()
    info = check_lumi(lumi) * (dd_alpha @ sigma_coefficients - sigma * expected_curvature)
    info = 0.5 * (info + info.T)
    if nuisances is None:
        return info
    full = weighted_information(w_all, grad, lumi)  # L Σ ∂w ∂wᵀ/w: its θν and νν blocks are the ones above
    full[: sample.n_parameters, : sample.n_parameters] = info
    return _constrained(full, nuisances)


def score_information(sample: EventSample, score: np.ndarray, lumi: float,
                      theta: Sequence[float] | None = None, *, nuisances: NuisanceModel | None = None) -> np.ndarray:
    """SALLY's information: L σ E_θ[t̂ t̂ᵀ] + L ∇σ ∇σᵀ / σ from an estimated score t̂(x) at θ.

    With ``nuisances`` the score of ν_k at ν = 0, a_ek − E[a_k], is known per event and joins t̂.

    Parameters
    ----------
    score : array_like, shape (N, D)
        t̂(x_e) of every event of the sample, estimated at θ.

    Returns
    -------
    ndarray, shape (D, D), or (D + K, D + K) with ``nuisances``
    """
    w, grad = _weights_and_gradients(sample, theta, nuisances)
    score = np.asarray(score, dtype=np.float64)
    if score.shape != (len(w), sample.n_parameters):
        raise ValueError(f"score must have shape (N, D) = ({len(w)}, {sample.n_parameters}), got {score.shape}")
    if nuisances is not None:
        score = np.hstack([score, nuisances.linear - (w @ nuisances.linear) / w.sum()])
    info = fisher_information(score, w, lumi, sigma_true=float(w.sum()), sigma_gradient=grad.sum(axis=0))
    return _constrained(info, nuisances)


def observable_information_histogram(sample: EventSample, observable: str, lumi: float,
                                     theta: Sequence[float] | None = None, *, n_bins: int = 10
                                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Where the joint information sits along one observable: bins of equal cross section at θ.

    Returns
    -------
    edges : ndarray, shape (B + 1,)
        Finite edges: the outer ones are the smallest and largest value of the observable.
    sigma : ndarray, shape (B,)
        Cross section per bin in pb.
    full : ndarray, shape (B, D, D)
        Joint information of the events in each bin.
    rate : ndarray, shape (B, D, D)
        Information of each bin's rate alone (what a histogram with these bins sees).
    """
    from lfi.evaluate import histogram_binning

    w, grad = JointQuantities(sample).weights_and_gradients(_point(sample, theta))
    x, (edges,) = histogram_binning(sample, [observable], w, n_bins=n_bins)
    bins, n = bin_index(x, [edges])
    sigma, full, rate = information_histogram(bins, n, w, grad, lumi)
    finite = edges.copy()
    finite[0], finite[-1] = x.min(), x.max()
    return finite, sigma, full, rate
