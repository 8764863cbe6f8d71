"""Observed likelihood maps: −2Δlog L on a θ grid for an observed event sample (data or pseudo-data).

The companion of :mod:`lfi.evaluate` (expected maps). The simulated sample gives what the data cannot: σ(θ)
from its morphed weights, the histogram yields and bins, SALLY's Fisher information. Every observed event counts
once (the data file's weights are ignored) unless ``counts`` say otherwise: counts L·w_i(θ*) on weighted
simulation make the Asimov data set, on which each observed map equals the expected one. Each map is
q(θ) = t(θ) − min t on the grid (docs/statistics.md §12).
Shapes: N simulated events, M observed events, T grid points, D parameters; σ in pb, L in pb⁻¹.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from lfi import limits
from lfi.augment.joint import JointQuantities
from lfi.errors import OptionError, UnknownNameError
from lfi.evaluate import DEFAULT_CHUNK
from lfi.events import EventSample
from lfi.limits.observed import extended_observed_t, q_from_t, sally_observed_q
from lfi.protocols import RatioEstimator, ScoreEstimator

__all__ = ["observed_estimator_map", "observed_histogram_map", "observed_truth_map", "observed_truth_t",
           "observed_ratio_t", "observed_bins", "counts_or_ones"]

log = logging.getLogger("lfi.limits")


def observed_estimator_map(estimator: RatioEstimator | ScoreEstimator, sample: EventSample, data: EventSample,
                           points: np.ndarray, theta_ref: np.ndarray, lumi: float, *, device: str = "cpu",
                           chunk: int = DEFAULT_CHUNK, counts: np.ndarray | None = None) -> np.ndarray:
    """Observed q(θ) of a trained estimator, shape (T,): the extended likelihood with the learned density for
    ratio estimators; SALLY's local quadratic likelihood or SALLINO's binned score for score estimators.

    Parameters
    ----------
    sample : EventSample
        Simulated events (σ(θ), Fisher information, SALLINO bins).
    data : EventSample
        The observed events.
    theta_ref : ndarray, shape (D,)
        Where the SALLINO bins and the histogram-like parts are defined (the expected maps' θ*).
    counts : ndarray, shape (M,), optional
        How often each observed event counts (default 1).
    """
    if estimator.kind == "ratio":
        return q_from_t(observed_ratio_t(estimator, sample, data, points, lumi, device=device, chunk=chunk,
                                         counts=counts))
    counts = counts_or_ones(counts, data)
    joint = JointQuantities(sample)
    if estimator.kind != "score":
        raise OptionError(f"a {estimator.kind} estimator gives no likelihood map (train a ratio or score method)")
    score_ref = np.asarray(estimator.metadata.get("reference", np.zeros(sample.n_parameters)), float)
    data_score = estimator.score(data, device=device)
    if estimator.metadata.get("method", "sally") == "sally":
        w_ref = sample.weights_at(score_ref)
        grad_sigma = joint.morpher.weight_gradients(score_ref[None])[0] @ joint.basis_sigma
        sigma_ref = float(joint.sigma(score_ref[None])[0])
        score = estimator.score(sample, device=device)
        fisher = limits.fisher_information(score, w_ref, lumi, sigma_true=sigma_ref, sigma_gradient=grad_sigma)
        # The exact score has mean zero at θ_ref; a learned one's small bias b would move the fit by I⁻¹·n·b, so the
        # observed score is centred on its simulated mean (a no-op for an unbiased estimator)
        centre = w_ref @ score / w_ref.sum()
        observed_score = counts @ (data_score - centre) + (counts.sum() / sigma_ref - lumi) * grad_sigma
        return sally_observed_q(points, fisher, score_ref, observed_score)
    score = estimator.score(sample, device=device)
    w_ref = sample.weights_at(np.asarray(theta_ref, float))
    t = np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        t[start : start + chunk] = limits.sallino_q(score, block, score_ref, joint.weights(block), w_ref, lumi,
                                                    data_score=data_score, data_counts=counts)
    return q_from_t(t)


def observed_histogram_map(sample: EventSample, data: EventSample, observables: Sequence[str], points: np.ndarray,
                           theta_ref: np.ndarray, lumi: float, *, binning: str = "auto", n_bins: int | None = None,
                           chunk: int = DEFAULT_CHUNK, counts: np.ndarray | None = None) -> np.ndarray:
    """Observed q(θ) of a 1-D or 2-D histogram: observed counts per bin against the yields L·Σ_{i∈b} w_i(θ) of the
    simulated events; bins as for the expected map (weighted quantiles at ``theta_ref``, or the reference edges)."""
    index, n_bins_total, observed = observed_bins(sample, data, observables, theta_ref, binning=binning, n_bins=n_bins,
                                                  counts=counts)
    simulated = np.bincount(index, minlength=n_bins_total) > 0
    joint = JointQuantities(sample)
    t = np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        nu = lumi * limits.bin_sums(index, joint.weights(block), n_bins_total).T  # (Tc, B)
        t[start : start + chunk] = limits.binned_asimov_q(nu[:, simulated], observed[simulated])
    return q_from_t(t)


def observed_bins(sample: EventSample, data: EventSample, observables: Sequence[str], theta_ref: np.ndarray, *,
                  binning: str = "auto", n_bins: int | None = None,
                  counts: np.ndarray | None = None) -> tuple[np.ndarray, int, np.ndarray]:
    """The bin of every simulated event (N,), the number of bins and the observed counts per bin, zero in bins
    without simulated events (they predict nothing; a warning says how many observed events that leaves out)."""
    for source, events in (("sample", sample), ("data", data)):
        missing = [name for name in observables if name not in events.observables]
        if missing:
            raise UnknownNameError(f"no observable {missing[0]!r} in the {source}; it has "
                                   f"{', '.join(sorted(events.observables))}")
    x = np.column_stack([sample.observables[name].astype(float) for name in observables])
    x_data = np.column_stack([data.observables[name].astype(float) for name in observables])
    if binning == "reference":
        edges = limits.reference_edges(list(observables))
    else:
        edges = limits.quantile_edges(x, sample.weights_at(np.asarray(theta_ref, float)), n_bins)
    index, n_bins_total = limits.bin_index(x, edges)
    data_index, _ = limits.bin_index(x_data, edges)
    observed = np.bincount(data_index, weights=counts_or_ones(counts, data), minlength=n_bins_total)
    simulated = np.bincount(index, minlength=n_bins_total) > 0  # a bin without simulated events predicts nothing
    if np.any(observed[~simulated] > 0):
        log.warning("histogram %s: %g observed events fall in %d bins without simulated events and are left out; use "
                    "fewer bins or a larger simulated sample", ",".join(observables), observed[~simulated].sum(),
                    int(np.sum(~simulated & (observed > 0))))
    return index, n_bins_total, np.where(simulated, observed, 0.0)


def observed_ratio_t(estimator: RatioEstimator, sample: EventSample, data: EventSample, points: np.ndarray,
                     lumi: float, *, device: str = "cpu", chunk: int = DEFAULT_CHUNK,
                     counts: np.ndarray | None = None) -> np.ndarray:
    """The observed −2 log L(θ) of a ratio estimator before its minimum is subtracted, shape (T,): the learned
    log p̂(x|θ) of the observed events (up to a θ-independent constant) and the morphed σ(θ) of ``sample``."""
    counts = counts_or_ones(counts, data)
    joint = JointQuantities(sample)
    state = estimator.grid_state(data, device=device)
    sums, sigma = np.empty(len(points)), np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        sums[start : start + chunk] = counts @ estimator.grid_log_density(state, block)
        sigma[start : start + chunk] = joint.sigma(block)
    return extended_observed_t(sums, sigma, lumi, counts.sum())


def observed_truth_map(sample: EventSample, data: EventSample, points: np.ndarray, lumi: float, *,
                       chunk: int = DEFAULT_CHUNK, counts: np.ndarray | None = None) -> np.ndarray:
    """Observed q(θ) with the exact likelihood: exact log p(x|θ) of the observed events (the data must carry the
    parton-level truth, as pseudo-data drawn from a sample with truth does) and the exact σ(θ)."""
    return q_from_t(observed_truth_t(sample, data, points, lumi, chunk=chunk, counts=counts))


def observed_truth_t(sample: EventSample, data: EventSample, points: np.ndarray, lumi: float, *,
                     chunk: int = DEFAULT_CHUNK, counts: np.ndarray | None = None) -> np.ndarray:
    """The observed −2 log L(θ) of :func:`observed_truth_map` before its minimum is subtracted, shape (T,)."""
    from lfi.truth import exact_cross_section, exact_log_likelihood

    counts = counts_or_ones(counts, data)
    sums, sigma = np.empty(len(points)), np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        sums[start : start + chunk] = counts @ exact_log_likelihood(data, block)
        sigma[start : start + chunk] = exact_cross_section(sample, block)
    return extended_observed_t(sums, sigma, lumi, counts.sum())


def counts_or_ones(counts: np.ndarray | None, data: EventSample) -> np.ndarray:
    if counts is None:
        return np.ones(len(data))
    counts = np.asarray(counts, dtype=np.float64)
    if counts.shape != (len(data),) or not np.all(np.isfinite(counts)) or np.any(counts < 0):
        raise ValueError(f"counts must be {len(data)} finite non-negative numbers, got shape {counts.shape}")
    return counts
