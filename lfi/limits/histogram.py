"""Histogram baselines: binned Poisson Asimov q(θ) for 1-D and 2-D histograms of observables.

With expected yields ν_b(θ) = L·Σ_{i∈b} w_i(θ) (bins filled with morphed weights; the caller morphs) and
Asimov data n_b = ν_b(θ*), the binned Poisson likelihood gives (Asimov data set: Cowan et al.,
arXiv:1007.1727, Sec. 3.2; docs/statistics.md §4: the §2 formula with the densities replaced by bin fractions):

    q(θ) = 2 Σ_b [ ν_b(θ) − n_b − n_b·log(ν_b(θ)/n_b) ]  = 2 Σ_b n_b·[d_b − log(1 + d_b)],  d_b = ν_b(θ)/n_b − 1.

Writing ν_b = L·σ·f_b this is exactly the unbinned formula of :mod:`lfi.limits.asimov` with
r̂ → f_b(θ)/f_b(θ_ref), so one bin reduces it to the rate-only result. Every term is ≥ 0, so q ≥ 0 for any
sample, and q(θ*) = 0. Bins that hold no Asimov data (n_b ≤ 0, possible with fixed edges or negative
weights) contribute 2·(ν_b(θ) − ν_b(θ*)); a bin with n_b > 0 that θ predicts empty (ν_b(θ) ≤ 0) gives q = +inf.

Binning: quantiles of the distribution at θ* (each bin holds the same weight at θ*, outer edges ±inf, so
no bin is empty at θ*), ``DEFAULT_N_BINS`` per axis unless given; or explicit edges, e.g. the reference
binning of 1805.00020 from :func:`reference_edges` (docs/statistics.md §4).

Units: weights in pb, luminosity in pb⁻¹. Shapes: N events, K observables (axes), T grid points,
B = Π_k (len(edges_k) − 1) bins, flattened in C order (last axis fastest).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lfi.errors import OptionError
from lfi.limits.checks import as_columns, check_lumi

__all__ = [
    "DEFAULT_N_BINS",
    "REFERENCE_EDGES",
    "reference_edges",
    "quantile_edges",
    "bin_index",
    "bin_sums",
    "binned_asimov_q",
    "histogram_q",
]

#: Default number of quantile bins per axis, keyed by the number of observables K.
DEFAULT_N_BINS: dict[int, int] = {1: 20, 2: 10}

#: Reference binning of 1805.00020 (docs/statistics.md §4): p_T,j1 in GeV and Δφ_jj in rad on [0, π].
REFERENCE_EDGES: dict[str, np.ndarray] = {
    "pt_j1": np.array([0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 130.0, 160.0, 200.0, 250.0, 300.0, 400.0, 600.0, 1000.0, 14000.0]),
    "delta_phi_jj": np.linspace(0.0, np.pi, 11),
}


def reference_edges(names: Sequence[str] | str) -> list[np.ndarray]:
    """Bin edges of the reference histogram baseline for named observables (docs/statistics.md §4).

    Parameters
    ----------
    names : str or sequence of str
        Observable names, e.g. ``["pt_j1", "delta_phi_jj"]`` or ``"pt_j1,delta_phi_jj"``.

    Returns
    -------
    list of ndarray
        One edge array per name (copies).

    Raises
    ------
    lfi.errors.OptionError
        (a ValueError) For a name without a reference binning; the message lists the known names.

    Examples
    --------
    >>> [len(e) - 1 for e in reference_edges("pt_j1,delta_phi_jj")]
    [14, 10]
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out = []
    for name in names:
        if name not in REFERENCE_EDGES:
            raise OptionError(
                f"no reference binning for observable {name!r}; known: {sorted(REFERENCE_EDGES)} "
                "(or use quantile binning)"
            )
        out.append(REFERENCE_EDGES[name].copy())
    return out


def _as_true_weights(weights_true: np.ndarray, n_events: int) -> np.ndarray:
    w = np.asarray(weights_true, dtype=np.float64)
    if w.shape != (n_events,):
        raise ValueError(f"weights_true must have shape (N,) = ({n_events},), got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights_true contains non-finite weights")
    if not w.sum() > 0.0:
        raise ValueError(f"weights_true must sum to a positive cross section, got {w.sum():g} pb")
    return w


def _quantile_edges_1d(values: np.ndarray, weights: np.ndarray, n_bins: int) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    v = values[order]
    cw = np.cumsum(weights[order])
    cw = np.maximum.accumulate(cw / cw[-1])  # negative weights can make the raw cumulative sum dip
    levels = np.arange(1, n_bins) / n_bins
    pos = np.minimum(np.searchsorted(cw, levels, side="left"), len(v) - 1)
    nxt = np.minimum(pos + 1, len(v) - 1)
    inner = np.unique(0.5 * (v[pos] + v[nxt]))
    inner = inner[(inner > v[0]) & (inner <= v[-1])] if len(v) > 1 and v[0] < v[-1] else inner[:0]
    return np.concatenate([[-np.inf], inner, [np.inf]])


def quantile_edges(
    observables: np.ndarray, weights_true: np.ndarray, n_bins: int | Sequence[int] | None = None
) -> list[np.ndarray]:
    """Automatic binning: weighted quantiles of each observable's distribution at θ*.

    Each axis gets up to ``n_bins`` bins of equal weight at θ* (fewer where ties make quantiles coincide,
    e.g. a discrete observable or a constant one, which gets a single bin). Outer edges are ±inf, so any
    value falls into a bin.

    Parameters
    ----------
    observables : array_like, shape (N, K) or (N,)
    weights_true : array_like, shape (N,)
        Event weights at θ* in pb; negative weights are allowed (the cumulative weight is made monotone).
    n_bins : int or sequence of K ints, optional
        Bins per axis; default ``DEFAULT_N_BINS[K]`` (20 for K = 1, 10 for K = 2, 5 otherwise).

    Returns
    -------
    list of K ndarrays
        Edge arrays, each starting at −inf and ending at +inf.

    Raises
    ------
    ValueError
        On shape mismatch, non-finite input, weights with a non-positive sum or ``n_bins`` < 1.
    """
    x = as_columns(observables, "observables")
    w = _as_true_weights(weights_true, len(x))
    k = x.shape[1]
    if n_bins is None:
        n_bins = DEFAULT_N_BINS.get(k, 5)
    per_axis = [n_bins] * k if np.ndim(n_bins) == 0 else list(n_bins)
    if len(per_axis) != k or any(int(b) != b or b < 1 for b in per_axis):
        raise OptionError(f"n_bins must be a positive integer or one per observable ({k}), got {n_bins!r}")
    return [_quantile_edges_1d(x[:, j], w, int(per_axis[j])) for j in range(k)]


def bin_index(observables: np.ndarray, edges: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """Flat bin index of every event.

    Bins are half-open [e_j, e_{j+1}) except the last, which is closed (``numpy.histogram`` convention).

    Parameters
    ----------
    observables : array_like, shape (N, K) or (N,)
    edges : sequence of K array_like
        Strictly increasing edges per axis (±inf allowed).

    Returns
    -------
    index : ndarray, shape (N,), int64
        Flat bin index in C order (last axis fastest).
    n_bins : int
        Total number of bins B.

    Raises
    ------
    ValueError
        If the number of edge arrays differs from K, edges are not increasing, or a value lies outside the
        edges (the message names the axis; e.g. a signed Δφ_jj against the [0, π] reference edges).
    """
    x = as_columns(observables, "observables")
    if len(edges) != x.shape[1]:
        raise ValueError(f"need one edge array per observable: {x.shape[1]} observables, {len(edges)} edge arrays")
    indices, shape = [], []
    for j, e in enumerate(edges):
        e = np.asarray(e, dtype=np.float64)
        if e.ndim != 1 or len(e) < 2 or np.any(np.isnan(e)) or np.any(np.diff(e) <= 0):
            raise ValueError(f"edges[{j}] must be a strictly increasing 1-D array of ≥ 2 edges, got {e!r}")
        col = x[:, j]
        outside = (col < e[0]) | (col > e[-1])
        if np.any(outside):  # fixed edges a user chose that do not fit the data
            raise OptionError(
                f"observable {j}: {outside.mean():.1%} of the values lie outside the edges [{e[0]:g}, {e[-1]:g}] "
                f"(range of the values [{col.min():g}, {col.max():g}]); widen the edges or transform the observable"
            )
        nb = len(e) - 1
        indices.append(np.clip(np.searchsorted(e, col, side="right") - 1, 0, nb - 1))
        shape.append(nb)
    flat = np.ravel_multi_index(indices, shape) if len(shape) > 1 else indices[0]
    return flat.astype(np.int64), int(np.prod(shape))


def bin_sums(index: np.ndarray, weights: np.ndarray, n_bins: int) -> np.ndarray:
    """Sum of event weights per bin, for one or many weight columns.

    Useful with weights at the morphing benchmarks: ``bin_sums(index, w_bench, B)`` (B_bins, C) then a
    matrix product with the morphing coefficients gives the yields on a whole θ grid.

    Parameters
    ----------
    index : array_like, shape (N,), int
        Flat bin index from :func:`bin_index`, in [0, n_bins).
    weights : array_like, shape (N,) or (N, M)
        Event weights (pb), e.g. at M grid points.
    n_bins : int

    Returns
    -------
    ndarray, shape (n_bins,) or (n_bins, M)
    """
    idx = np.asarray(index)
    w = np.asarray(weights, dtype=np.float64)
    if idx.ndim != 1 or w.shape[:1] != idx.shape or w.ndim not in (1, 2):
        raise ValueError(f"index must have shape (N,) and weights (N,) or (N, M); got {idx.shape} and {w.shape}")
    if len(idx) and (idx.min() < 0 or idx.max() >= n_bins):
        raise ValueError(f"index must lie in [0, {n_bins}), got [{idx.min()}, {idx.max()}]")
    columns = w.reshape(len(w), -1)
    out = np.zeros((n_bins, columns.shape[1]))
    if len(idx):
        # One summation order for every column, so a column equal to the true weights reproduces ν(θ*) bit
        # for bit (q(θ*) = 0 exactly).
        order = np.argsort(idx, kind="stable")
        sorted_idx = idx[order]
        starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
        out[sorted_idx[starts]] = np.add.reduceat(columns[order], starts, axis=0)
    return out[:, 0] if w.ndim == 1 else out


def _scale_to_sigma(sums: np.ndarray, sigma: np.ndarray | float | None, name: str) -> np.ndarray:
    """Rescale bin sums (B,) or (B, M) so each column sums to ``sigma`` (pb): ν ∝ σ(θ)·f_b(θ)."""
    if sigma is None:
        return sums
    target = np.asarray(sigma, dtype=np.float64)
    totals = sums.sum(axis=0)
    if target.shape != np.shape(totals):
        raise ValueError(f"{name} must have shape {np.shape(totals)}, got {target.shape}")
    if not (np.all(np.isfinite(target)) and np.all(totals > 0)):
        raise ValueError(f"{name} must be finite and the weights must have a positive sum at every point")
    return sums * (target / totals)


def binned_asimov_q(nu: np.ndarray, nu_true: np.ndarray) -> np.ndarray:
    """Binned Poisson Asimov q(θ) from expected yields (module docstring; arXiv:1007.1727, Sec. 3.2).

    Parameters
    ----------
    nu : array_like, shape (T, B)
        Expected events per bin at each grid point, ν_b(θ_t) = L·Σ_{i∈b} w_i(θ_t).
    nu_true : array_like, shape (B,)
        Expected events per bin at θ* (the Asimov data).

    Returns
    -------
    ndarray, shape (T,)
        q ≥ 0; +inf where θ_t predicts ν_b ≤ 0 in a bin with Asimov data.

    Examples
    --------
    One bin, 10 expected events at θ*, 20 at θ: q = 2(20 − 10 − 10·log 2).

    >>> np.round(binned_asimov_q([[10.0], [20.0]], [10.0]), 4)
    array([0.    , 6.1371])
    """
    nu = np.asarray(nu, dtype=np.float64)
    n = np.asarray(nu_true, dtype=np.float64)
    if nu.ndim != 2 or n.shape != (nu.shape[1],):
        raise ValueError(f"nu must have shape (T, B) and nu_true (B,), got {nu.shape} and {n.shape}")
    if not (np.all(np.isfinite(nu)) and np.all(np.isfinite(n))):
        raise ValueError("nu and nu_true must be finite")
    data = n > 0.0
    safe_n = np.where(data, n, 1.0)
    d = np.where(data, nu / safe_n - 1.0, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        poisson = np.where(data, safe_n * (d - np.log1p(np.maximum(d, -1.0))), nu - n)
    excluded = np.any(data & (nu <= 0.0), axis=1)
    q = 2.0 * poisson.sum(axis=1)
    return np.where(excluded, np.inf, q)


def histogram_q(
    observables: np.ndarray,
    weights: np.ndarray,
    weights_true: np.ndarray,
    lumi: float,
    *,
    edges: Sequence[np.ndarray] | None = None,
    n_bins: int | Sequence[int] | None = None,
    sigma: np.ndarray | None = None,
    sigma_true: float | None = None,
) -> np.ndarray:
    """Asimov q(θ) of a 1-D or 2-D histogram of observables, bins filled with weights at every grid point.

    The rate enters through the bin yields: by default ν_b(θ) = L·Σ_{i∈b} w_i(θ), so the weights must sum to
    the cross section. For a test subsample pass ``sigma`` and ``sigma_true``: then ν_b(θ) = L·σ(θ)·f_b(θ)
    with the bin fractions f_b from the weights (the docs/statistics.md §2 formula with densities → bin fractions, §4).

    Parameters
    ----------
    observables : array_like, shape (N, K) or (N,)
        Observable values, e.g. columns ``pt_j1`` (GeV) and ``delta_phi_jj`` (rad).
    weights : array_like, shape (N, T)
        Event weights (pb) at each grid point θ_t (morphed by the caller). For large grids call this on
        chunks of grid points with fixed ``edges``: each column is independent.
    weights_true : array_like, shape (N,)
        Event weights (pb) at θ*; they define the Asimov data and the automatic binning.
    lumi : float
        Integrated luminosity in pb⁻¹.
    edges : sequence of K array_like, optional
        Explicit bin edges (e.g. :func:`reference_edges`); default :func:`quantile_edges`.
    n_bins : int or sequence of int, optional
        Bins per axis for the automatic binning; not allowed together with ``edges``.
    sigma : array_like, shape (T,), optional
        σ(θ_t) in pb; rescales each column's yields to it.
    sigma_true : float, optional
        σ(θ*) in pb; rescales the Asimov data to it (give it together with ``sigma``).

    Returns
    -------
    ndarray, shape (T,)

    Raises
    ------
    ValueError
        On inconsistent shapes, both ``edges`` and ``n_bins``, values outside explicit edges or
        non-positive ``lumi``.
    """
    lumi = check_lumi(lumi)
    x = as_columns(observables, "observables")
    w_true = _as_true_weights(weights_true, len(x))
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 2 or len(w) != len(x):
        raise ValueError(f"weights must have shape (N, T) with N = {len(x)}, got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contain non-finite values")
    if edges is None:
        edges = quantile_edges(x, w_true, n_bins)
    elif n_bins is not None:
        raise ValueError("give either edges or n_bins, not both")
    if (sigma is None) != (sigma_true is None):
        raise ValueError("give sigma and sigma_true together (or neither, when the weights sum to σ)")
    index, n_total = bin_index(x, edges)
    nu = lumi * _scale_to_sigma(bin_sums(index, w, n_total), sigma, "sigma").T
    nu_true = lumi * _scale_to_sigma(bin_sums(index, w_true, n_total), sigma_true, "sigma_true")
    return binned_asimov_q(nu, nu_true)
