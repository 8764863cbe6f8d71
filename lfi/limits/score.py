"""Score-based limits: SALLY (linearised, local Fisher information) and SALLINO (1-D histogram of h).

SALLY (Brehmer, Cranmer, Louppe, Pavez, arXiv:1805.00020; docs/statistics.md §3): an estimator t̂(x) of the
score t(x|θ_ref) = ∇θ log p(x|θ)|θ_ref is the locally sufficient statistic. Linearised around θ_ref ≈ θ*,
the expected extended likelihood is Gaussian with the Fisher information of a Poisson process,
I_ij = L ∫dx ∂_i dσ(x) ∂_j dσ(x) / dσ(x) (Brehmer, Cranmer, Kling, Plehn, arXiv:1612.05261), which with
∂ log dσ = t + ∇ log σ and E[t] = 0 splits into a kinematic and a rate part:

    I_ij = L·σ*·E_{θ*}[t̂_i t̂_j]  +  L·∂_iσ ∂_jσ / σ*,        q(θ) = (θ − θ*)ᵀ I (θ − θ*).

SALLINO (arXiv:1805.00020): for each θ, the 1-D statistic h(x) = t̂(x)·(θ − θ_ref) is histogrammed
and q(θ) is the binned Poisson Asimov q of :mod:`lfi.limits.histogram` with bins filled with weights at θ.

Units: weights and σ in pb, ∂σ in pb per unit θ, luminosity in pb⁻¹. Shapes: N events, D parameters,
T grid points.
"""

from __future__ import annotations

import numpy as np

from lfi.errors import OptionError
from lfi.limits.checks import as_columns, check_lumi
from lfi.limits.histogram import _quantile_edges_1d, _scale_to_sigma, bin_sums, binned_asimov_q

__all__ = ["fisher_information", "fisher_from_moments", "sally_q", "sallino_q"]


def fisher_information(
    score: np.ndarray,
    weights_true: np.ndarray,
    lumi: float,
    *,
    sigma_true: float | None = None,
    sigma_gradient: np.ndarray | None = None,
) -> np.ndarray:
    """Expected Fisher information of the extended likelihood from an estimated score (SALLY).

    I = L·σ*·Σ_i w_i t̂_i t̂_iᵀ / Σ_i w_i  [+ L·∇σ ∇σᵀ / σ*]   (module docstring; arXiv:1612.05261).

    With ``sigma_true`` omitted, σ* = Σ_i w_i, i.e. I = L·Σ_i w_i t̂_i t̂_iᵀ. The rate term is added only when
    ``sigma_gradient`` is given: t̂ estimates the score of the normalised density, which carries no rate
    information.

    Parameters
    ----------
    score : array_like, shape (N, D)
        t̂(x_i) at θ_ref (take θ_ref = θ* for an expected limit around θ*).
    weights_true : array_like, shape (N,)
        Event weights at θ* in pb.
    lumi : float
        Luminosity in pb⁻¹.
    sigma_true : float, optional
        σ(θ*) in pb; default Σ_i w_i.
    sigma_gradient : array_like, shape (D,), optional
        ∇θ σ at θ* in pb per unit θ.

    Returns
    -------
    ndarray, shape (D, D)
        Symmetric Fisher information matrix (per unit θ²).

    Raises
    ------
    ValueError
        On shape mismatch, non-finite input, non-positive ``lumi``, ``sigma_true`` or sum of weights.

    Examples
    --------
    >>> fisher_information([[1.0], [-1.0]], [0.5, 0.5], lumi=10.0)
    array([[10.]])
    """
    t = as_columns(score, "score")
    w = np.asarray(weights_true, dtype=np.float64)
    if w.shape != (len(t),):
        raise ValueError(f"weights_true must have shape (N,) = ({len(t)},), got {w.shape}")
    if not np.all(np.isfinite(w)) or not w.sum() > 0.0:
        raise ValueError("weights_true must be finite and sum to a positive cross section")
    return fisher_from_moments((t.T * w) @ t, float(w.sum()), lumi, sigma_true=sigma_true,
                               sigma_gradient=sigma_gradient)


def fisher_from_moments(weighted_outer: np.ndarray, weight_sum: float, lumi: float, *,
                        sigma_true: float | None = None, sigma_gradient: np.ndarray | None = None) -> np.ndarray:
    """:func:`fisher_information` from the sums it needs, which add up over chunks of events.

    Parameters
    ----------
    weighted_outer : array_like, shape (D, D)
        Σ_i w_i t̂_i t̂_iᵀ in pb.
    weight_sum : float
        Σ_i w_i in pb.
    lumi, sigma_true, sigma_gradient
        As for :func:`fisher_information`.
    """
    lumi = check_lumi(lumi)
    moment = np.asarray(weighted_outer, dtype=np.float64)
    if not weight_sum > 0.0:
        raise ValueError("weights_true must be finite and sum to a positive cross section")
    sig = float(weight_sum) if sigma_true is None else float(sigma_true)
    if not (np.isfinite(sig) and sig > 0.0):
        raise ValueError(f"sigma_true must be a positive cross section in pb, got {sigma_true!r}")
    info = lumi * sig * moment / weight_sum
    if sigma_gradient is not None:
        g = np.asarray(sigma_gradient, dtype=np.float64)
        if g.shape != (moment.shape[0],):
            raise ValueError(f"sigma_gradient must have shape (D,) = ({moment.shape[0]},), got {g.shape}")
        info = info + lumi * np.outer(g, g) / sig
    return 0.5 * (info + info.T)


def sally_q(theta: np.ndarray, fisher: np.ndarray, theta_true: np.ndarray) -> np.ndarray:
    """Linearised (SALLY) Asimov q(θ) = (θ − θ*)ᵀ I (θ − θ*).

    Parameters
    ----------
    theta : array_like, shape (T, D)
        Grid points.
    fisher : array_like, shape (D, D)
        Fisher information from :func:`fisher_information`.
    theta_true : array_like, shape (D,)
        θ*.

    Returns
    -------
    ndarray, shape (T,)

    Examples
    --------
    >>> sally_q([[0.0, 0.0], [1.0, 2.0]], np.diag([2.0, 1.0]), [0.0, 0.0])
    array([0., 6.])
    """
    th = np.asarray(theta, dtype=np.float64)
    f = np.asarray(fisher, dtype=np.float64)
    if th.ndim == 1:
        th = th[:, None]
    d = th.shape[1]
    star = np.asarray(theta_true, dtype=np.float64).reshape(-1)
    if th.ndim != 2 or f.shape != (d, d) or star.shape != (d,):
        raise ValueError(
            f"need theta (T, D), fisher (D, D) and theta_true (D,); got {th.shape}, {f.shape}, {star.shape}"
        )
    delta = th - star
    return np.einsum("ti,ij,tj->t", delta, f, delta)


def sallino_q(
    score: np.ndarray,
    theta: np.ndarray,
    theta_ref: np.ndarray,
    weights: np.ndarray,
    weights_true: np.ndarray,
    lumi: float,
    *,
    n_bins: int = 20,
    sigma: np.ndarray | None = None,
    sigma_true: float | None = None,
    data_score: np.ndarray | None = None,
    data_counts: np.ndarray | None = None,
) -> np.ndarray:
    """SALLINO Asimov q(θ): binned Poisson likelihood of h(x) = t̂(x)·(θ − θ_ref), one histogram per θ.

    For each grid point the 1-D statistic h is binned at the weighted quantiles of its distribution at θ*
    (``n_bins`` bins of equal weight), filled with the weights at θ, and scored with
    :func:`lfi.limits.histogram.binned_asimov_q`. At θ = θ_ref, h ≡ 0 and only the rate remains.
    Weights must sum to σ(θ) so that the rate enters. Grid points on one line through θ_ref share the
    same partition, so the cost is O(L·N log N + T·N) for L distinct lines; call on chunks of the grid when
    the (N, T) weights do not fit in memory.

    Parameters
    ----------
    score : array_like, shape (N, D)
        Estimated score t̂(x_i) at θ_ref.
    theta : array_like, shape (T, D)
        Grid points.
    theta_ref : array_like, shape (D,)
        Point where the score was estimated.
    weights : array_like, shape (N, T)
        Event weights in pb at each grid point.
    weights_true : array_like, shape (N,)
        Event weights in pb at θ* (Asimov data and binning).
    lumi : float
        Luminosity in pb⁻¹.
    n_bins : int, default 20
    sigma, sigma_true : optional
        σ(θ_t) (T,) and σ(θ*) in pb, to rescale the yields of a test subsample (see
        :func:`lfi.limits.histogram.histogram_q`).
    data_score : array_like, shape (M, D), optional
        t̂ of M observed events: their counts per bin replace the Asimov data (each event counts once), and q is
        −2 log L(θ)/L_saturated, to be shifted by its minimum (:func:`lfi.limits.observed.q_from_t`).
    data_counts : array_like, shape (M,), optional
        How often each observed event counts (default 1).

    Returns
    -------
    ndarray, shape (T,)

    Raises
    ------
    ValueError
        On inconsistent shapes, non-finite input, non-positive ``lumi`` or ``n_bins`` < 1.
    """
    t = as_columns(score, "score")
    lumi = check_lumi(lumi)
    th = np.asarray(theta, dtype=np.float64)
    if th.ndim == 1:
        th = th[:, None]
    ref = np.asarray(theta_ref, dtype=np.float64).reshape(-1)
    n_events, dim = t.shape
    if th.ndim != 2 or th.shape[1] != dim or ref.shape != (dim,):
        raise ValueError(f"need theta (T, {dim}) and theta_ref ({dim},) to match score (N, {dim}); got {th.shape}, {ref.shape}")
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_events, len(th)):
        raise ValueError(f"weights must have shape (N, T) = ({n_events}, {len(th)}), got {w.shape}")
    w_true = np.asarray(weights_true, dtype=np.float64)
    if w_true.shape != (n_events,):
        raise ValueError(f"weights_true must have shape (N,) = ({n_events},), got {w_true.shape}")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(w_true))):
        raise ValueError("weights and weights_true must be finite")
    if not w_true.sum() > 0.0:
        raise ValueError("weights_true must sum to a positive cross section")
    if int(n_bins) != n_bins or n_bins < 1:
        raise OptionError(f"n_bins must be a positive integer, got {n_bins!r}")
    if (sigma is None) != (sigma_true is None):
        raise ValueError("give sigma and sigma_true together (or neither, when the weights sum to σ)")
    sig = None if sigma is None else np.asarray(sigma, dtype=np.float64)
    if sig is not None and sig.shape != (len(th),):
        raise ValueError(f"sigma must have shape (T,) = ({len(th)},), got {sig.shape}")
    # The equal-weight partition of h = t̂·(θ − θ_ref) depends only on the line through θ_ref (scaling h by
    # c > 0 scales its quantiles, c < 0 mirrors them), so grid points on one line share one binning.
    q = np.empty(len(th))
    groups: dict[tuple, list[int]] = {}
    directions: dict[tuple, np.ndarray] = {}
    for j, u in enumerate(th - ref):
        norm = float(np.sqrt(u @ u))
        if norm == 0.0:
            key = ()
            direction = np.zeros(dim)
        else:
            direction = u / norm
            lead = direction[np.flatnonzero(np.abs(direction) > 1e-12)[0]]
            direction = direction * np.sign(lead)
            key = tuple(np.round(direction, 12))
        groups.setdefault(key, []).append(j)
        directions.setdefault(key, direction)
    for key, members in groups.items():
        h = t @ directions[key]
        edges = _quantile_edges_1d(h, w_true, int(n_bins))
        nb = len(edges) - 1
        idx = np.clip(np.searchsorted(edges, h, side="right") - 1, 0, nb - 1)
        if data_score is None:
            nu_true = lumi * _scale_to_sigma(bin_sums(idx, w_true, nb), sigma_true, "sigma_true")
        else:
            h_data = as_columns(data_score, "data_score") @ directions[key]
            nu_true = np.bincount(np.clip(np.searchsorted(edges, h_data, side="right") - 1, 0, nb - 1),
                                  weights=data_counts, minlength=nb)
        nu = lumi * _scale_to_sigma(bin_sums(idx, w[:, members], nb), None if sig is None else sig[members], "sigma").T
        q[members] = binned_asimov_q(nu, nu_true)
    return q
