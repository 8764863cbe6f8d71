"""Expected likelihood maps on a θ grid for trained estimators, histograms and the exact truth.

This module joins the pieces: it evaluates models and morphed weights on a test sample, in chunks of
grid points so that a 101 × 101 grid over 10⁵ events fits in memory, and hands plain arrays to the
pure statistics functions of :mod:`lfi.limits`. Shapes: N test events, T grid points, D parameters.
Units: weights and cross sections in pb, luminosity in pb⁻¹.
"""

from __future__ import annotations

import logging
from typing import Sequence

import numpy as np

from lfi import limits
from lfi.augment.joint import JointQuantities
from lfi.events import EventSample

__all__ = ["ratio_map", "bdt_ratio_map", "score_map", "histogram_map", "truth_map", "model_embeddings", "DEFAULT_CHUNK"]

log = logging.getLogger("lfi.limits")
DEFAULT_CHUNK = 128


def _true_weights(sample: EventSample, theta_true: np.ndarray) -> np.ndarray:
    return sample.weights_at(np.asarray(theta_true, float))


def model_embeddings(model, sample: EventSample, batch_size: int = 4096, device: str = "cpu"):
    """Event embeddings of a whole sample, shape (N, E), computed once in batches (no gradients)."""
    import torch

    model = model.to(device).eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(sample), batch_size):
            sl = slice(start, start + batch_size)
            out.append(
                model.embed(
                    torch.from_numpy(sample.momenta[sl]).to(device),
                    torch.from_numpy(sample.types[sl].astype(np.int64)).to(device),
                    torch.from_numpy(sample.globals_[sl]).to(device),
                )
            )
    return torch.cat(out)


def ratio_map(model, sample: EventSample, points: np.ndarray, theta_true: np.ndarray, lumi: float, *,
              chunk: int = DEFAULT_CHUNK, device: str = "cpu") -> np.ndarray:
    """Asimov q(θ) of a trained ratio estimator (parameterised or morphing-aware head), shape (T,).

    Embeddings (and the morphing heads' per-event outputs) are computed once; each grid point then costs
    only head evaluations (one matrix product for the morphing-aware heads). σ(θ) comes from the sample's morphed weights.
    """
    import torch

    if model.head.kind not in ("ratio", "morphing_ratio"):
        raise ValueError(f"ratio_map needs a ratio estimator, this one has a {model.head.kind} head")
    embedding = model_embeddings(model, sample, device=device)
    w_true = _true_weights(sample, theta_true)
    mean = np.empty(len(points))
    with torch.no_grad():
        state = model.head.grid_state(embedding)  # per-event quantities shared by every grid point
        for start in range(0, len(points), chunk):
            block = torch.as_tensor(points[start : start + chunk], dtype=torch.float32, device=device)
            log_p = model.head.grid_log_density(state, block).double().cpu().numpy()  # (N, Tc)
            mean[start : start + chunk] = limits.expected_log_r(log_p.T, w_true)
        true_point = torch.as_tensor(np.asarray(theta_true, float)[None], dtype=torch.float32, device=device)
        log_p_true = model.head.grid_log_density(state, true_point).double().cpu().numpy()[:, 0]
    joint = JointQuantities(sample)
    sigma, sigma_true = joint.sigma(points), float(joint.sigma(np.asarray(theta_true, float)[None])[0])
    return limits.extended_asimov_q(mean, sigma, lumi, sigma_true=sigma_true,
                                    mean_log_r_true=limits.expected_log_r(log_p_true, w_true))


def bdt_ratio_map(model, sample: EventSample, points: np.ndarray, theta_true: np.ndarray, lumi: float, *,
                  chunk_rows: int = 2_000_000) -> np.ndarray:
    """Asimov q(θ) of a CARL :class:`estimators.bdt.BDTEstimator`, shape (T,).

    The flat input columns are computed once, but the trees take θ as an input, so the grid costs N·T tree
    predictions (no shared per-event state as for the networks' heads): slow for big grids (a 101 × 101 grid
    over 10⁵ events is 10⁹ predictions). Rows are predicted in chunks of about ``chunk_rows`` (N events × a few
    grid points) to bound memory. σ(θ) comes from the sample's morphed weights, as in :func:`ratio_map`.
    """
    if getattr(model, "task", None) != "carl":
        raise ValueError(f"bdt_ratio_map needs a CARL bdt, this one was fitted for {getattr(model, 'task', None)}")
    columns = model.columns(sample.momenta, sample.types, sample.globals_)  # (N, F)
    n = len(columns)
    w_true = _true_weights(sample, theta_true)
    points = np.asarray(points, float)
    per_chunk = max(1, chunk_rows // max(n, 1))
    mean = np.empty(len(points))
    tiled = np.tile(columns, (min(per_chunk, len(points)), 1))
    for start in range(0, len(points), per_chunk):
        block = points[start : start + per_chunk]
        rows = tiled[: n * len(block)]
        log_r = model.margin_from_columns(rows, np.repeat(block, n, axis=0)).reshape(len(block), n)
        mean[start : start + per_chunk] = limits.expected_log_r(-log_r, w_true)  # log r̂ = −margin
    log_r_true = -model.margin_from_columns(columns, np.asarray(theta_true, float))
    joint = JointQuantities(sample)
    sigma, sigma_true = joint.sigma(points), float(joint.sigma(np.asarray(theta_true, float)[None])[0])
    return limits.extended_asimov_q(mean, sigma, lumi, sigma_true=sigma_true,
                                    mean_log_r_true=limits.expected_log_r(log_r_true, w_true))


def score_map(model, sample: EventSample, points: np.ndarray, theta_true: np.ndarray, lumi: float, *,
              method: str = "sally", chunk: int = DEFAULT_CHUNK, n_bins: int = 20, device: str = "cpu") -> np.ndarray:
    """Asimov q(θ) of a score estimator: SALLY (linearised, Fisher information) or SALLINO (1-D histograms).

    The score is the one learnt at the model's reference point θ_ref; SALLY's Fisher information adds the
    rate term ∇σ∇σᵀ/σ at θ_ref from the morphed cross section.
    """
    import torch

    if model.head.kind != "score":
        raise ValueError(f"score_map needs a score estimator, this one has a {model.head.kind} head")
    theta_ref = np.asarray(model.metadata.get("reference", np.zeros(sample.n_parameters)), float)
    embedding = model_embeddings(model, sample, device=device)
    with torch.no_grad():
        score = model.head(embedding).double().cpu().numpy()
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
    if method != "sallino":
        raise ValueError(f"score method must be sally or sallino, got {method!r}")
    q = np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        q[start : start + chunk] = limits.sallino_q(score, block, theta_ref, joint.weights(block), w_true, lumi,
                                                    n_bins=n_bins)
    return q


def histogram_map(sample: EventSample, observables: Sequence[str], points: np.ndarray, theta_true: np.ndarray,
                  lumi: float, *, binning: str = "auto", n_bins: int | None = None,
                  chunk: int = DEFAULT_CHUNK) -> np.ndarray:
    """Asimov q(θ) of a 1-D or 2-D histogram of named observables, bins filled with morphed weights.

    Parameters
    ----------
    binning : {"auto", "reference"}
        Weighted quantiles at θ* (``n_bins`` per axis), or the PHYSICS §3 reference edges (pt_j1, delta_phi_jj).
    """
    missing = [name for name in observables if name not in sample.observables]
    if missing:
        raise KeyError(f"no observable {missing[0]!r} in the sample; it has {', '.join(sorted(sample.observables))}")
    x = np.column_stack([sample.observables[name].astype(float) for name in observables])
    w_true = _true_weights(sample, theta_true)
    if binning == "reference":
        edges = limits.reference_edges(list(observables))
    elif binning == "auto":
        edges = limits.quantile_edges(x, w_true, n_bins)
    else:
        raise ValueError(f"binning must be auto or reference, got {binning!r}")
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
    mean = np.empty(len(points))
    for start in range(0, len(points), chunk):
        block = points[start : start + chunk]
        mean[start : start + chunk] = limits.expected_log_r(exact_log_likelihood(sample, block).T, w_true)
    log_p_true = exact_log_likelihood(sample, theta_true[None])[:, 0]
    sigma, sigma_true = exact_cross_section(sample, points), float(exact_cross_section(sample, theta_true[None])[0])
    return limits.extended_asimov_q(mean, sigma, lumi, sigma_true=sigma_true,
                                    mean_log_r_true=limits.expected_log_r(log_p_true, w_true))
