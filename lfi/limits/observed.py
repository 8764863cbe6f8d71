"""Observed −2Δlog L on a θ grid from a given event sample (data or pseudo-data), docs/statistics.md §12.

Every event of the data counts ``c_i`` times (1 for real data; fractional counts L·w_i(θ*) turn weighted
simulation into the Asimov data set, which makes the observed map equal the expected one). Functions return
t(θ) = −2 log L(θ) up to θ-independent constants; :func:`q_from_t` subtracts the grid minimum, so the observed
q(θ) is −2 log L(θ)/L(θ̂) with θ̂ the best fit on the grid.
"""

from __future__ import annotations

import numpy as np

from lfi.limits.checks import check_lumi

__all__ = ["extended_observed_t", "sally_observed_q", "q_from_t"]


def extended_observed_t(sum_log_p: np.ndarray, sigma: np.ndarray, lumi: float, n_observed: float) -> np.ndarray:
    """−2 log L(θ) of the extended unbinned likelihood, up to a constant.

    t(θ) = 2[L·σ(θ) − n·log(L·σ(θ))] − 2·Σ_i c_i log p̂(x_i|θ); the density may carry any θ-independent factor
    per event (log p̂ + c(x), as ratio estimators give), which only shifts t by a constant.

    Parameters
    ----------
    sum_log_p : array_like, shape (T,)
        Σ_i c_i log p̂(x_i|θ_t) over the observed events.
    sigma : array_like, shape (T,)
        σ(θ_t) in pb.
    lumi : float
        Integrated luminosity in pb⁻¹.
    n_observed : float
        n = Σ_i c_i, the number of observed events.

    Returns
    -------
    ndarray, shape (T,)
        +inf where σ(θ_t) ≤ 0.

    Examples
    --------
    No events and no shape information: t = 2Lσ, smallest at the smallest cross section.

    >>> extended_observed_t(np.zeros(2), np.array([1.0, 2.0]), 1.0, 0.0)
    array([2., 4.])
    """
    lumi = check_lumi(lumi)
    s = np.asarray(sigma, dtype=np.float64)
    kinematic = np.asarray(sum_log_p, dtype=np.float64)
    if s.ndim != 1 or kinematic.shape != s.shape:
        raise ValueError(f"sum_log_p and sigma must both have shape (T,), got {kinematic.shape} and {s.shape}")
    positive = s > 0.0
    nu = lumi * np.where(positive, s, 1.0)
    return np.where(positive, 2.0 * (nu - float(n_observed) * np.log(nu)) - 2.0 * kinematic, np.inf)


def sally_observed_q(theta: np.ndarray, fisher: np.ndarray, theta_ref: np.ndarray, score_sum: np.ndarray) -> np.ndarray:
    """Observed q(θ) of SALLY's local (quadratic) likelihood around θ_ref.

    log L(θ) ≈ log L(θ_ref) + Δᵀu − ½ΔᵀIΔ with Δ = θ − θ_ref, u the observed score (kinematic plus rate) and I the
    expected Fisher information: θ̂ = θ_ref + I⁻¹u and q(θ) = (θ − θ̂)ᵀ I (θ − θ̂).

    Parameters
    ----------
    theta : array_like, shape (T, D)
    fisher : array_like, shape (D, D)
    theta_ref : array_like, shape (D,)
    score_sum : array_like, shape (D,)
        u = Σ_i c_i t̂(x_i) + (n/σ(θ_ref) − L)·∇σ(θ_ref).

    Examples
    --------
    >>> sally_observed_q([[0.0], [1.0]], [[4.0]], [0.0], [4.0])
    array([4., 0.])
    """
    f = np.asarray(fisher, dtype=np.float64)
    u = np.asarray(score_sum, dtype=np.float64).reshape(-1)
    th = np.asarray(theta, dtype=np.float64)
    th = th[:, None] if th.ndim == 1 else th
    if f.shape != (len(u), len(u)) or th.ndim != 2 or th.shape[1] != len(u):
        raise ValueError(f"need theta (T, D), fisher (D, D) and score_sum (D,); got {th.shape}, {f.shape}, {u.shape}")
    best = np.asarray(theta_ref, dtype=np.float64).reshape(-1) + np.linalg.solve(f, u)
    delta = th - best
    return np.einsum("ti,ij,tj->t", delta, f, delta)


def q_from_t(t: np.ndarray) -> np.ndarray:
    """q(θ) = t(θ) − min t over the grid (the best fit θ̂ on the grid has q = 0)."""
    t = np.asarray(t, dtype=np.float64)
    finite = t[np.isfinite(t)]
    if not finite.size:
        raise ValueError("the observed likelihood is zero at every grid point (no point predicts the observed events)")
    return t - finite.min()
