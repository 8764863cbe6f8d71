"""Expected likelihood maps on a θ grid for trained estimators, histograms and the exact truth.

This module joins the pieces: it evaluates estimators (through the protocols of :mod:`lfi.protocols`, so it
never needs to know what is inside them) and morphed weights on a test sample, in chunks of
grid points so that a 101 × 101 grid over 10⁵ events fits in memory, and hands plain arrays to the
pure statistics functions of :mod:`lfi.limits`. Shapes: N test events, T grid points, D parameters.
Every array that grows with both N and T is made one chunk of grid points at a time; the whole grid costs
only a few numbers per point (see :func:`lfi.workflows.limits.memory_estimate`).
Units: weights and cross sections in pb, luminosity in pb⁻¹.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from lfi import limits
from lfi.augment.joint import JointQuantities
from lfi.errors import EventFileError, OptionError, UnknownNameError
from lfi.events import EventSample
from lfi.protocols import RatioEstimator, ScoreEstimator

__all__ = ["ratio_map", "score_map", "estimator_map", "histogram_map", "histogram_binning", "truth_map",
           "DEFAULT_CHUNK"]

log = logging.getLogger("lfi.limits")
DEFAULT_CHUNK = 128


def _true_weights(sample: EventSample, theta_true: np.ndarray) -> np.ndarray:
    if not sample.can_morph:
        raise EventFileError("this sample carries no /morphing group: its weights are known only at the "
                             "benchmarks, and a likelihood map needs them at every θ of the grid")
    return sample.weights_at(np.asarray(theta_true, float))


def ratio_map(estimator: RatioEstimator, sample: EventSample, points: np.ndarray, theta_true: np.ndarray,
              lumi: float, *, chunk: int = DEFAULT_CHUNK, device: str = "cpu") -> np.ndarray:
    """Asimov q(θ) of a ratio estimator (any :class:`lfi.protocols.RatioEstimator`), shape (T,).

    The estimator's per-event state (embeddings, polynomial coefficients, flat columns) is computed once;
    each block of ``chunk`` grid points then costs only :meth:`~lfi.protocols.RatioEstimator.grid_log_density`.
    σ(θ) in pb comes from the sample's morphed weights; ``lumi`` is in pb⁻¹.
    """
    if estimator.kind != "ratio":
        raise ValueError(f"ratio_map needs a ratio estimator, this one is a {estimator.kind} estimator")
    theta_true = np.asarray(theta_true, float)
    w_true = _true_weights(sample, theta_true)
    state = estimator.grid_state(sample, device=device)
    joint = JointQuantities(sample)
    mean, sigma = np.empty(len(points)), np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        log_p = estimator.grid_log_density(state, block)  # (N, Tc)
        mean[start : start + chunk] = limits.expected_log_r(log_p.T, w_true)
        sigma[start : start + chunk] = joint.sigma(block)
    log_p_true = estimator.grid_log_density(state, theta_true[None])[:, 0]
    sigma_true = float(joint.sigma(theta_true[None])[0])
    return limits.extended_asimov_q(mean, sigma, lumi, sigma_true=sigma_true,
                                    mean_log_r_true=limits.expected_log_r(log_p_true, w_true))


def score_map(estimator: ScoreEstimator, sample: EventSample, points: np.ndarray, theta_true: np.ndarray,
              lumi: float, *, method: str = "sally", chunk: int = DEFAULT_CHUNK, n_bins: int = 20,
              device: str = "cpu", score: np.ndarray | None = None) -> np.ndarray:
    """Asimov q(θ) of a score estimator: SALLY (linearised, Fisher information) or SALLINO (1-D histograms).

    The score is the one learnt at the estimator's reference point θ_ref; SALLY's Fisher information adds the
    rate term ∇σ∇σᵀ/σ at θ_ref from the morphed cross section. ``score`` (N, D), if given, is the estimator's
    t̂(x) of the sample's events, already computed (one forward pass serves several maps).
    """
    if estimator.kind != "score":
        raise ValueError(f"score_map needs a score estimator, this one is a {estimator.kind} estimator")
    if method not in ("sally", "sallino"):
        raise OptionError(f"score method must be sally or sallino, got {method!r}")
    theta_ref = np.asarray(estimator.metadata.get("reference", np.zeros(sample.n_parameters)), float)
    score = estimator.score(sample, device=device) if score is None else np.asarray(score, dtype=np.float64)
    w_true = _true_weights(sample, theta_true)
    joint = JointQuantities(sample)
    if method == "sally":
        if not np.allclose(theta_ref, theta_true):
            log.warning("SALLY's linearised likelihood is expanded around θ_ref = %s, not θ* = %s",
                        theta_ref.tolist(), np.asarray(theta_true).tolist())
        grad_sigma = joint.morpher.weight_gradients(theta_ref[None])[0] @ joint.basis_sigma
        sigma_ref = float(joint.sigma(theta_ref[None])[0])
        fisher = limits.fisher_information(score, w_true, lumi, sigma_true=sigma_ref, sigma_gradient=grad_sigma)
        return limits.sally_q(points, fisher, np.asarray(theta_true, float))
    q = np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        q[start : start + chunk] = limits.sallino_q(score, block, theta_ref, joint.weights(block), w_true, lumi,
                                                    n_bins=n_bins)
    return q


def estimator_map(estimator: RatioEstimator | ScoreEstimator, sample: EventSample, points: np.ndarray,
                  theta_true: np.ndarray, lumi: float, *, device: str = "cpu", chunk: int = DEFAULT_CHUNK,
                  score: np.ndarray | None = None) -> np.ndarray:
    """Asimov q(θ) of any trained estimator, shape (T,): :func:`ratio_map` for ratio estimators,
    :func:`score_map` with the estimator's own method (``sally`` or ``sallino``) for score estimators (with
    ``score``, its t̂(x) already computed)."""
    if estimator.kind == "ratio":
        return ratio_map(estimator, sample, points, theta_true, lumi, device=device, chunk=chunk)
    if estimator.kind == "score":
        method = estimator.metadata.get("method", "sally")
        return score_map(estimator, sample, points, theta_true, lumi, method=method, device=device, chunk=chunk,
                         score=score)
    raise OptionError(f"a {estimator.kind} estimator gives no likelihood map (train a ratio or score method)")


def histogram_binning(sample: EventSample, observables: Sequence[str], weights_true: np.ndarray, *,
                      binning: str = "auto", n_bins: int | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
    """The named observables as columns, shape (N, K), and their bin edges (K arrays).

    Parameters
    ----------
    weights_true : ndarray, shape (N,)
        Weights at θ* in pb, for the automatic binning.
    binning : {"auto", "reference"}
        Weighted quantiles at θ* (``n_bins`` per axis), or the reference edges of ``docs/statistics.md`` §4
        (pt_j1, delta_phi_jj).
    """
    missing = [name for name in observables if name not in sample.observables]
    if missing:
        raise UnknownNameError(f"no observable {missing[0]!r} in the sample; it has {', '.join(sorted(sample.observables))}")
    if not observables:
        raise OptionError("a histogram needs at least one observable")
    x = np.column_stack([sample.observables[name].astype(float) for name in observables])
    if binning == "reference":
        return x, limits.reference_edges(list(observables))
    if binning == "auto":
        return x, limits.quantile_edges(x, weights_true, n_bins)
    raise OptionError(f"binning must be auto or reference, got {binning!r}")


def histogram_map(sample: EventSample, observables: Sequence[str], points: np.ndarray, theta_true: np.ndarray,
                  lumi: float, *, binning: str = "auto", n_bins: int | None = None,
                  chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    """Asimov q(θ) of a 1-D or 2-D histogram of named observables, bins filled with morphed weights.

    Parameters
    ----------
    binning : {"auto", "reference"}
        Weighted quantiles at θ* (``n_bins`` per axis), or the reference edges of ``docs/statistics.md`` §4 (pt_j1, delta_phi_jj).
    """
    w_true = _true_weights(sample, theta_true)
    x, edges = histogram_binning(sample, observables, w_true, binning=binning, n_bins=n_bins)
    joint = JointQuantities(sample)
    q = np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        q[start : start + chunk] = limits.histogram_q(x, joint.weights(block), w_true, lumi, edges=edges)
    return q


def truth_map(sample: EventSample, points: np.ndarray, theta_true: np.ndarray, lumi: float, *,
              chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    """Asimov q(θ) with the exact likelihood the sample carries (exact σ(θ) and exact log p(x|θ))."""
    from lfi.truth import exact_cross_section, exact_log_likelihood

    theta_true = np.asarray(theta_true, float)
    w_true = _true_weights(sample, theta_true)
    mean, sigma = np.empty(len(points)), np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        mean[start : start + chunk] = limits.expected_log_r(exact_log_likelihood(sample, block).T, w_true)
        sigma[start : start + chunk] = exact_cross_section(sample, block)
    log_p_true = exact_log_likelihood(sample, theta_true[None])[:, 0]
    sigma_true = float(exact_cross_section(sample, theta_true[None])[0])
    return limits.extended_asimov_q(mean, sigma, lumi, sigma_true=sigma_true,
                                    mean_log_r_true=limits.expected_log_r(log_p_true, w_true))
