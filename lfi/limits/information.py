"""Fisher information of a Poisson process of weighted events: full, binned, rate-only; projection, profiling,
ellipses and ensembles (docs/statistics.md §13).

For luminosity L and events whose weights w_e(θ) (pb) are known as functions of θ (morphing), the expected
information about θ at θ* is (Brehmer, Cranmer, Kling, Plehn, arXiv:1612.05261, Eq. 7)

    I_ij = L Σ_e ∂_i w_e ∂_j w_e / w_e                              (every event its own "bin": full information)
    I_ij = L Σ_b ∂_i σ_b ∂_j σ_b / σ_b,  σ_b = Σ_{e∈b} w_e          (a histogram: only the bins are seen)

and the rate-only information is the histogram with a single bin, L ∂_iσ ∂_jσ / σ. Binning loses information:
I_full − I_binned is positive semi-definite (the Cauchy–Schwarz inequality inside each bin), and so is
I_binned − I_rate. An expected linearised −2Δlog L is q(θ) = (θ − θ*)ᵀ I (θ − θ*), so the q = c contour is an
ellipse: the "information ellipse" drawn beside the likelihood contours.

Pure functions of arrays: no I/O, no torch. Units: weights and σ in pb, their gradients in pb per unit θ,
L in pb⁻¹; information in (unit θ)⁻². Shapes: N events, D parameters, B bins, K ensemble members.
"""

from __future__ import annotations

import numpy as np

from lfi.errors import EventFileError
from lfi.limits.checks import as_columns, check_lumi

__all__ = [
    "weighted_information",
    "binned_information",
    "rate_information",
    "information_histogram",
    "project_information",
    "profile_information",
    "information_ellipse",
    "ensemble_information",
]


def _weights_and_gradients(weights: np.ndarray, weight_gradients: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError(f"weights must have shape (N,), got {w.shape}")
    g = as_columns(weight_gradients, "weight_gradients")
    if len(g) != len(w):
        raise ValueError(f"weight_gradients has {len(g)} events but weights has {len(w)}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contains non-finite values")
    return w, g


def _bins(bins: np.ndarray, n_bins: int, n_events: int) -> np.ndarray:
    index = np.asarray(bins)
    if index.shape != (n_events,) or not np.issubdtype(index.dtype, np.integer):
        raise ValueError(f"bins must be integers of shape (N,) = ({n_events},), got {index.dtype} {index.shape}")
    if len(index) and (index.min() < 0 or index.max() >= n_bins):
        raise ValueError(f"bins must lie in [0, {n_bins}), got [{index.min()}, {index.max()}]")
    return index


def _sum_over_positive(sigma: np.ndarray, gradient: np.ndarray, what: str) -> np.ndarray:
    """Σ_k ∂σ_k ∂σ_kᵀ / σ_k over entries with σ_k > 0; entries with σ_k < 0 are an error (no Poisson mean): an
    :class:`lfi.errors.EventFileError` (a ValueError), as the weights come from the events."""
    if np.any(sigma < 0.0):
        raise EventFileError(f"{int(np.sum(sigma < 0.0))} {what} have a negative weight at θ*: the Poisson information "
                         "needs non-negative expected yields")
    keep = sigma > 0.0
    vanishing = (~keep) & np.any(gradient != 0.0, axis=1)
    if np.any(vanishing):
        raise EventFileError(f"{int(vanishing.sum())} {what} have zero weight but a non-zero gradient at θ*: "
                         "their information is infinite")
    g = gradient[keep]
    info = (g.T / sigma[keep]) @ g
    return 0.5 * (info + info.T)


def weighted_information(weights: np.ndarray, weight_gradients: np.ndarray, lumi: float) -> np.ndarray:
    """Full information of weighted events, I = L Σ_e ∂w_e ∂w_eᵀ / w_e.

    With weights proportional to the parton-level density (reweighting), this is the information of the joint
    likelihood p(x, z|θ): the truth at parton level, an upper bound on any detector-level analysis.

    Parameters
    ----------
    weights : array_like, shape (N,)
        w_e(θ*) in pb, ≥ 0.
    weight_gradients : array_like, shape (N, D) or (N,)
        ∂w_e/∂θ at θ* in pb per unit θ.
    lumi : float
        Luminosity in pb⁻¹.

    Returns
    -------
    ndarray, shape (D, D)

    Raises
    ------
    ValueError
        On shape mismatch, non-finite input, negative weights, or a zero weight with a non-zero gradient.

    Examples
    --------
    One event whose weight doubles per unit θ: I = L·(2 pb)²/(1 pb).

    >>> weighted_information([1.0], [[2.0]], lumi=10.0)
    array([[40.]])
    """
    w, g = _weights_and_gradients(weights, weight_gradients)
    return check_lumi(lumi) * _sum_over_positive(w, g, "events")


def binned_information(bins: np.ndarray, n_bins: int, weights: np.ndarray, weight_gradients: np.ndarray,
                       lumi: float) -> np.ndarray:
    """Information of a histogram, I = L Σ_b ∂σ_b ∂σ_bᵀ / σ_b with σ_b = Σ_{e∈b} w_e.

    Parameters
    ----------
    bins : array_like of int, shape (N,)
        Bin of every event in [0, n_bins), e.g. from :func:`lfi.limits.histogram.bin_index`.
    n_bins : int
    weights, weight_gradients, lumi
        As in :func:`weighted_information`; negative event weights are allowed as long as every bin's
        σ_b ≥ 0.

    Returns
    -------
    ndarray, shape (D, D)
    """
    w, g = _weights_and_gradients(weights, weight_gradients)
    index = _bins(bins, n_bins, len(w))
    sigma = np.bincount(index, weights=w, minlength=n_bins)
    gradient = np.stack([np.bincount(index, weights=g[:, d], minlength=n_bins) for d in range(g.shape[1])], axis=1)
    return check_lumi(lumi) * _sum_over_positive(sigma, gradient, "bins")


def rate_information(sigma: float, sigma_gradient: np.ndarray, lumi: float) -> np.ndarray:
    """Rate-only information L ∇σ ∇σᵀ / σ (a counting experiment), shape (D, D).

    Examples
    --------
    >>> rate_information(2.0, [1.0, 0.0], lumi=4.0)
    array([[2., 0.],
           [0., 0.]])
    """
    g = np.atleast_1d(np.asarray(sigma_gradient, dtype=np.float64))
    return binned_information(np.zeros(1, dtype=np.int64), 1, np.array([float(sigma)]), g[None], lumi)


def information_histogram(bins: np.ndarray, n_bins: int, weights: np.ndarray, weight_gradients: np.ndarray,
                          lumi: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the information sits: per bin of an observable, its cross section, its full and its rate-only
    information.

    The full information of the events in bin b is L Σ_{e∈b} ∂w_e ∂w_eᵀ / w_e; its rate-only part is
    L ∂σ_b ∂σ_bᵀ / σ_b. Summed over bins they give :func:`weighted_information` and
    :func:`binned_information`.

    Returns
    -------
    sigma : ndarray, shape (B,)
        σ_b in pb.
    full : ndarray, shape (B, D, D)
    rate : ndarray, shape (B, D, D)
    """
    w, g = _weights_and_gradients(weights, weight_gradients)
    index = _bins(bins, n_bins, len(w))
    dim = g.shape[1]
    sigma = np.bincount(index, weights=w, minlength=n_bins)
    full, rate = np.zeros((n_bins, dim, dim)), np.zeros((n_bins, dim, dim))
    for b in range(n_bins):
        members = index == b
        if np.any(members):
            full[b] = weighted_information(w[members], g[members], lumi)
            rate[b] = rate_information(sigma[b], g[members].sum(axis=0), lumi)
    return sigma, full, rate


def _square(info: np.ndarray) -> np.ndarray:
    f = np.asarray(info, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] != f.shape[1] or not np.all(np.isfinite(f)):
        raise ValueError(f"information must be a finite square matrix, got shape {f.shape}")
    return f


def _indices(keep, dim: int) -> np.ndarray:
    keep = np.atleast_1d(np.asarray(keep, dtype=np.int64))
    if len(keep) == 0 or keep.min() < -dim or keep.max() >= dim or len(set(keep % dim)) != len(keep):
        raise ValueError(f"parameters to keep must be distinct indices in [0, {dim}), got {keep.tolist()}")
    return keep % dim


def project_information(info: np.ndarray, keep) -> np.ndarray:
    """Information on the kept parameters with all others fixed at their true values: the sub-matrix I_kk."""
    f = _square(info)
    k = _indices(keep, len(f))
    return f[np.ix_(k, k)]


def profile_information(info: np.ndarray, keep) -> np.ndarray:
    """Information on the kept parameters with all others profiled (free): the Schur complement
    I_kk − I_ko I_oo⁻¹ I_ok, equal to [(I⁻¹)_kk]⁻¹ where I is invertible.

    Never larger than :func:`project_information` (the difference is positive semi-definite); equal to it
    when the other parameters are uncorrelated with the kept ones (I_ko = 0). A singular I_oo (a parameter the
    data cannot measure at all) is handled with the pseudo-inverse.
    """
    f = _square(info)
    k = _indices(keep, len(f))
    others = np.setdiff1d(np.arange(len(f)), k)
    if len(others) == 0:
        return f[np.ix_(k, k)]
    f_ko = f[np.ix_(k, others)]
    out = f[np.ix_(k, k)] - f_ko @ np.linalg.pinv(f[np.ix_(others, others)], hermitian=True) @ f_ko.T
    return 0.5 * (out + out.T)


def information_ellipse(info: np.ndarray, center: np.ndarray, q: float, n_points: int = 200) -> np.ndarray:
    """Points of the ellipse (θ − θ*)ᵀ I (θ − θ*) = q for a 2 × 2 information matrix.

    Parameters
    ----------
    info : array_like, shape (2, 2)
        Positive definite information (a singular direction has no closed ellipse).
    center : array_like, shape (2,)
        θ*.
    q : float
        The level, e.g. :func:`lfi.limits.q_threshold` of a confidence level.
    n_points : int

    Returns
    -------
    ndarray, shape (n_points + 1, 2)
        A closed curve (the last point repeats the first).

    Raises
    ------
    ValueError
        If ``info`` is not 2 × 2 positive definite or ``q`` ≤ 0.
    """
    f = _square(info)
    c = np.asarray(center, dtype=np.float64).reshape(-1)
    if f.shape != (2, 2) or c.shape != (2,):
        raise ValueError(f"need a 2 × 2 information and a centre of 2 values, got {f.shape} and {c.shape}")
    if not q > 0.0:
        raise ValueError(f"q must be positive, got {q!r}")
    values, vectors = np.linalg.eigh(0.5 * (f + f.T))
    if values.min() <= 0.0:
        raise ValueError(f"the information is not positive definite (eigenvalues {values.tolist()}): "
                         "one direction is not constrained and the ellipse is open")
    angle = np.linspace(0.0, 2.0 * np.pi, n_points + 1)
    unit = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return c + (unit * np.sqrt(q / values)) @ vectors.T


def ensemble_information(members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of the information matrices of K ensemble members.

    Parameters
    ----------
    members : array_like, shape (K, D, D)

    Returns
    -------
    mean : ndarray, shape (D, D)
    covariance : ndarray, shape (D, D, D, D)
        cov[i, j, k, l] = Cov(I_ij, I_kl) over the members (ddof = 1; zeros for K = 1).
    """
    m = np.asarray(members, dtype=np.float64)
    if m.ndim != 3 or m.shape[1] != m.shape[2] or len(m) == 0:
        raise ValueError(f"members must have shape (K, D, D), got {m.shape}")
    mean = m.mean(axis=0)
    centred = m - mean
    dof = max(len(m) - 1, 1)
    return mean, np.einsum("kij,kab->ijab", centred, centred) / dof
