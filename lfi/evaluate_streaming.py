"""Expected likelihood maps streamed over an event file chunk by chunk (``lfi limits --stream N``): memory set by the
chunk, not by the file.

Every expected map of :mod:`lfi.evaluate` except SALLINO is built from sums over the test events, and sums add up
over chunks:

- truth and ratio estimators: Σ_e w_e(θ*) log p̂(x_e|θ) and Σ_e w_e(θ*) at every grid point, and the basis cross
  sections S = Σ_e w_e(basis), so that σ(θ) = α(θ)·S (the truth takes σ(θ) from its own sample-level polynomial);
- SALLY: Σ_e w_e(θ*) t̂_e t̂_eᵀ (:func:`lfi.limits.fisher_from_moments`);
- histograms: each bin's sum of basis weights, so that ν_b(θ) = L·α(θ)·S_b.

The maps equal the in-memory ones to rounding, except histograms with automatic binning: their quantile edges come
from the first chunk instead of the whole sample (``binning="reference"`` has fixed edges and matches exactly).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from lfi import limits
from lfi.augment.joint import JointQuantities
from lfi.augment.streaming import EventChunks
from lfi.errors import OptionError
from lfi.events import EventSample
from lfi.evaluate import DEFAULT_CHUNK, histogram_binning

__all__ = ["StreamedMaps", "streamed_maps"]

log = logging.getLogger("lfi.limits")


@dataclass
class StreamedMaps:
    """The maps of one pass over a file, and the totals every later step needs.

    Attributes
    ----------
    maps : dict of str to ndarray, shape (T,)
        q(θ) per map name.
    basis_sigma : ndarray, shape (C,)
        σ at the morphing basis in pb (the whole file).
    events : int
        Events read.
    """

    maps: dict[str, np.ndarray] = field(default_factory=dict)
    basis_sigma: np.ndarray | None = None
    events: int = 0
    morpher: object = None

    def sigma(self, theta: np.ndarray) -> np.ndarray:
        """σ(θ) in pb from the streamed basis cross sections, shape (T,)."""
        return self.morpher.weights(np.atleast_2d(theta)) @ self.basis_sigma


def streamed_maps(data: str | os.PathLike, stream: int, *, points: np.ndarray, theta_true: np.ndarray, lumi: float,
                  models: Sequence[tuple[str, object]] = (), histograms: Sequence[Sequence[str]] = (),
                  truth: bool = False, binning: str = "auto", device: str = "cpu",
                  chunk: int = DEFAULT_CHUNK) -> StreamedMaps:
    """Asimov q maps of the truth, estimators and histograms from one pass over ``data`` in chunks of ``stream`` events.

    Parameters
    ----------
    data : path-like
        Test event file or sharded sample directory.
    stream : int
        Events per chunk.
    points : ndarray, shape (T, D)
    theta_true : ndarray, shape (D,)
    lumi : float
        pb⁻¹.
    models : sequence of (str, estimator)
        Map name and loaded estimator (ratio, or score trained with SALLY).
    histograms : sequence of sequence of str
        Observables of 1-D or 2-D histograms; maps ``histogram_<names>``.
    truth : bool
    binning : {"auto", "reference"}
    device : str
    chunk : int
        Grid points per block (memory of the (events × points) arrays).

    Raises
    ------
    OptionError
        A SALLINO estimator (its histograms of the score need every event at once).
    """
    from lfi.truth import exact_cross_section, exact_log_likelihood

    theta_true = np.asarray(theta_true, float)
    for name, estimator in models:
        if estimator.kind == "score" and estimator.metadata.get("method", "sally") != "sally":
            raise OptionError(f"--stream: {name} is a SALLINO estimator, whose map needs all events at once; "
                              "run lfi limits without --stream for it")
    n_events = EventSample.read_info(data)["events"]
    chunks = EventChunks(data, [(a, min(a + stream, n_events)) for a in range(0, n_events, stream)])
    first = chunks.load(0)
    edges = {}
    for names in histograms:
        _, edges[tuple(names)] = histogram_binning(first, names, first.weights_at(theta_true), binning=binning)
    n_points, result = len(points), StreamedMaps()
    weight_sum = 0.0
    log_sums = {name: (np.zeros(n_points), np.zeros(1)) for name, e in models if e.kind == "ratio"}
    if truth:
        log_sums["truth"] = (np.zeros(n_points), np.zeros(1))
    outer = {name: 0.0 for name, e in models if e.kind == "score"}
    binned = {}
    for k in range(len(chunks.ranges)):
        sample = first if k == 0 else chunks.load(k)
        joint = JointQuantities(sample)
        w_true = sample.weights_at(theta_true)
        result.basis_sigma = joint.basis_sigma + (0.0 if result.basis_sigma is None else result.basis_sigma)
        result.morpher, result.events = joint.morpher, result.events + len(sample)
        weight_sum += float(w_true.sum())
        for name, estimator in models:
            if estimator.kind == "score":
                score = estimator.score(sample, device=device)
                outer[name] = outer[name] + (score.T * w_true) @ score
                continue
            state = estimator.grid_state(sample, device=device)
            _add_log_sums(log_sums[name], lambda block: estimator.grid_log_density(state, block), w_true, points,
                          theta_true, chunk)
        if truth:
            _add_log_sums(log_sums["truth"], lambda block: exact_log_likelihood(sample, block), w_true, points,
                          theta_true, chunk)
        for names, hist_edges in edges.items():
            x = np.column_stack([sample.observables[n].astype(float) for n in names])
            index, n_bins = limits.bin_index(x, hist_edges)
            sums = (limits.bin_sums(index, joint.basis_weights, n_bins), limits.bin_sums(index, w_true, n_bins))
            binned[names] = sums if names not in binned else (binned[names][0] + sums[0], binned[names][1] + sums[1])
    sigma, sigma_true = result.sigma(points), float(result.sigma(theta_true)[0])
    for name, (total, at_true) in log_sums.items():
        if name == "truth":
            map_sigma, map_sigma_true = exact_cross_section(first, points), float(exact_cross_section(first, theta_true[None])[0])
        else:
            map_sigma, map_sigma_true = sigma, sigma_true
        result.maps[name] = limits.extended_asimov_q(total / weight_sum, map_sigma, lumi, sigma_true=map_sigma_true,
                                                     mean_log_r_true=float(at_true[0] / weight_sum))
    for name, estimator in models:
        if estimator.kind == "score":
            theta_ref = np.asarray(estimator.metadata.get("reference", np.zeros(len(theta_true))), float)
            gradient = result.morpher.weight_gradients(theta_ref[None])[0] @ result.basis_sigma
            fisher = limits.fisher_from_moments(outer[name], weight_sum, lumi,
                                                sigma_true=float(result.sigma(theta_ref)[0]), sigma_gradient=gradient)
            result.maps[name] = limits.sally_q(points, fisher, theta_true)
    alpha = result.morpher.weights(points)  # (T, C)
    for names, (basis_sums, true_sums) in binned.items():
        result.maps["histogram_" + "_".join(names)] = limits.binned_asimov_q(lumi * alpha @ basis_sums.T,
                                                                            lumi * true_sums)
    log.info("streamed %d events in %d chunks of %d", result.events, len(chunks.ranges), stream)
    return result


def _add_log_sums(sums: tuple[np.ndarray, np.ndarray], log_density, w_true: np.ndarray, points: np.ndarray,
                  theta_true: np.ndarray, chunk: int) -> None:
    """Add Σ_e w_e(θ*) log p(x_e|θ) over one chunk of events: at every grid point, and at θ*."""
    total, at_true = sums
    for start in range(0, len(points), chunk):
        total[start : start + chunk] += w_true @ log_density(points[start : start + chunk])
    at_true += w_true @ log_density(theta_true[None])
