"""Comparing an estimated limit or ratio with the exact one (calibration metrics, docs/statistics.md §6–7).

- :func:`map_difference`: contour-area ratios per CL and the mean squared difference of two q maps over
  the region inside a CL contour of the reference map.
- :func:`log_r_mse`: MSE(log r̂) against the exact log r, averaged over events at θ* and over the grid
  weighted by a Gaussian prior (1805.00020; docs/statistics.md §7: width 0.2·√2 in units where θ = 1 is
  f/Λ² = 16.5 TeV⁻²), with the "trimmed" variant that drops the best and worst 5 % of events.

Shapes: T grid points (C order, :mod:`lfi.limits.grid`), N events, D parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lfi.errors import OptionError
from lfi.limits.contours import _cl_key, _json_float, _q_on_grid, contour_areas
from lfi.limits.wilks import DEFAULT_CL, q_threshold

__all__ = ["map_difference", "log_r_mse"]


def map_difference(
    q: np.ndarray,
    q_ref: np.ndarray,
    axes: Sequence[np.ndarray],
    *,
    cl: Sequence[float] = DEFAULT_CL,
    region_cl: float = 0.9545,
    dof: int = 2,
) -> dict:
    """How an estimated q map differs from a reference (exact) one on the same grid.

    Parameters
    ----------
    q, q_ref : array_like, shape (T,) or grid shape
        Estimated and reference q (same grid).
    axes : sequence of 1 or 2 arrays
    cl : sequence of float
        Levels for the area ratios.
    region_cl : float, default 0.9545
        The region {q_ref ≤ q_c(region_cl)} over which differences are averaged.
    dof : int, default 2

    Returns
    -------
    dict
        ``{"area_ratio": {"68.27": A/A_ref, ...}, "region_cl": float, "n_points": int,
        "mse": mean (q − q_ref)², "mean_difference": mean (q − q_ref), "max_abs_difference": float}``
        over grid points in the region (non-finite numbers → ``None``).

    Examples
    --------
    >>> ax = np.linspace(-3, 3, 61)
    >>> q_ref = ax[:, None] ** 2 + ax[None, :] ** 2
    >>> d = map_difference(2 * q_ref, q_ref, [ax, ax])
    >>> round(d["area_ratio"]["68.27"], 2)
    0.5
    """
    v, ax = _q_on_grid(q, axes)
    v_ref, _ = _q_on_grid(q_ref, axes)
    levels = [float(q_threshold(c, dof)) for c in cl]
    areas, areas_ref = contour_areas(v, ax, levels), contour_areas(v_ref, ax, levels)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = areas / areas_ref
    region = v_ref <= q_threshold(region_cl, dof)
    diff = (v - v_ref)[region]
    finite = diff[np.isfinite(diff)]
    return {
        "area_ratio": {_cl_key(c): _json_float(r) for c, r in zip(cl, ratios)},
        "region_cl": float(region_cl),
        "n_points": int(region.sum()),
        "mse": _json_float(np.mean(diff**2)) if diff.size else None,
        "mean_difference": _json_float(np.mean(diff)) if diff.size else None,
        "max_abs_difference": _json_float(np.max(np.abs(finite))) if finite.size else None,
    }


def log_r_mse(
    log_r: np.ndarray,
    log_r_exact: np.ndarray,
    theta: np.ndarray,
    *,
    prior_width: float,
    prior_center: np.ndarray | None = None,
    weights: np.ndarray | None = None,
    trim: float = 0.05,
) -> dict:
    """Prior-weighted MSE of log r̂ against the exact log r, full and trimmed (1805.00020; docs/statistics.md §7).

    Per event i: e_i = Σ_t π_t (log r̂_ti − log r_ti)² / Σ_t π_t with π_t ∝ exp(−|θ_t − θ_c|²/(2 w²));
    full MSE = Σ_i w_i e_i / Σ_i w_i; trimmed = the same over events whose e_i lies between the ``trim``
    and 1 − ``trim`` quantiles (the best and worst 5 % dropped by default).

    Parameters
    ----------
    log_r, log_r_exact : array_like, shape (T, N)
        Estimated and exact log r(x_i|θ_t, θ_ref) (same θ_ref, typically the SM), events drawn at θ*.
    theta : array_like, shape (T, D)
        Grid points.
    prior_width : float
        Gaussian prior width w in θ units (docs/statistics.md §7: 0.2·√2 in units of 16.5 TeV⁻², i.e. ≈ 4.67 TeV⁻²).
    prior_center : array_like, shape (D,), optional
        Default the origin (the SM).
    weights : array_like, shape (N,), optional
        Event weights at θ* (default equal).
    trim : float, default 0.05

    Returns
    -------
    dict
        ``{"mse": float, "mse_trimmed": float, "prior_width": float, "trim": float}``.

    Raises
    ------
    ValueError
        On inconsistent shapes, non-positive ``prior_width`` or ``trim`` outside [0, 0.5).
    """
    lr, lr_exact = np.asarray(log_r, dtype=np.float64), np.asarray(log_r_exact, dtype=np.float64)
    th = np.asarray(theta, dtype=np.float64)
    if th.ndim == 1:
        th = th[:, None]
    if lr.ndim != 2 or lr.shape != lr_exact.shape or th.shape[0] != lr.shape[0]:
        raise ValueError(f"need log_r and log_r_exact (T, N) and theta (T, D); got {lr.shape}, {lr_exact.shape}, {th.shape}")
    if not (np.isfinite(prior_width) and prior_width > 0):
        raise OptionError(f"prior_width must be positive, got {prior_width!r}")
    if not 0.0 <= trim < 0.5:
        raise OptionError(f"trim must lie in [0, 0.5), got {trim!r}")
    center = np.zeros(th.shape[1]) if prior_center is None else np.asarray(prior_center, dtype=np.float64).reshape(-1)
    prior = np.exp(-0.5 * ((th - center) ** 2).sum(1) / prior_width**2)
    per_event = prior @ (lr - lr_exact) ** 2 / prior.sum()  # (N,)
    w = np.ones(lr.shape[1]) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (lr.shape[1],) or not w.sum() > 0:
        raise ValueError(f"weights must have shape (N,) = ({lr.shape[1]},) and a positive sum")
    full = float(per_event @ w / w.sum())
    low, high = np.quantile(per_event, [trim, 1.0 - trim])
    keep = (per_event >= low) & (per_event <= high)
    trimmed = float(per_event[keep] @ w[keep] / w[keep].sum()) if w[keep].sum() > 0 else float("nan")
    return {"mse": full, "mse_trimmed": _json_float(trimmed), "prior_width": float(prior_width), "trim": float(trim)}
