"""Expected (Asimov) −2Δlog L of the extended likelihood on a θ grid.

For luminosity L and true point θ*, with n = L·σ(θ*) expected events (docs/statistics.md §2; Brehmer, Cranmer,
Louppe, Pavez, arXiv:1805.00020; Asimov data set: Cowan et al., arXiv:1007.1727, Sec. 3.2):

    q(θ) = −2 { n·log[σ(θ)/σ(θ*)] − L·[σ(θ) − σ(θ*)]
                + n·E_{x∼p(x|θ*)}[ log r̂(x|θ, θ_ref) − log r̂(x|θ*, θ_ref) ] }           (docs/statistics.md §2)

The expectation is the weighted mean over test events with weights at θ*. The rate part equals
2n·[d − log(1 + d)] with d = σ(θ)/σ(θ*) − 1, which is ≥ 0 and is computed in that form (no cancellation
near θ*). With the exact ratio and an exact expectation q ≥ 0 and q(θ*) = 0; with a finite test sample the
kinematic part fluctuates by O(1/√N), so q can dip slightly below 0 next to θ*.

Units: cross sections and event weights in pb, luminosity in pb⁻¹ (1 fb⁻¹ = 1000 pb⁻¹), so n = L·σ is a
number of events. Shapes: T grid points, N test events.
"""

from __future__ import annotations

import numpy as np

from lfi.limits.checks import check_lumi

__all__ = ["expected_log_r", "extended_asimov_q", "asimov_q", "truth_q"]


def _as_weights(weights: np.ndarray, name: str, n_events: int | None = None) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim != 1:
        raise ValueError(f"{name} must have shape (N,), got {w.shape}")
    if n_events is not None and len(w) != n_events:
        raise ValueError(f"{name} has {len(w)} events but log_r has {n_events}")
    if not np.all(np.isfinite(w)):
        raise ValueError(f"{name} contains non-finite weights")
    total = w.sum()
    if not total > 0.0:
        raise ValueError(f"{name} must sum to a positive cross section, got {total:g} pb")
    return w


_BLOCK_ROWS = 256  # rows of log r converted to float64 at a time (bounds memory for float32 input)


def _weighted_means(lr: np.ndarray, w: np.ndarray, name: str) -> np.ndarray:
    """Σ_i w_i lr_ti / Σ_i w_i per row in float64, block by block; rejects non-finite values."""
    out = np.empty(lr.shape[0])
    for start in range(0, lr.shape[0], _BLOCK_ROWS):
        block = np.asarray(lr[start : start + _BLOCK_ROWS], dtype=np.float64)
        if not np.all(np.isfinite(block)):
            raise ValueError(f"{name} contains non-finite values")
        out[start : start + _BLOCK_ROWS] = block @ w
    return out / w.sum()


def expected_log_r(log_r: np.ndarray, weights_true: np.ndarray) -> np.ndarray:
    """Weighted mean of log r̂ over test events: E_{x∼p(x|θ*)}[log r̂(x|θ, θ_ref)].

    The weighted mean Σ_i w_i log r̂_i / Σ_i w_i; negative weights enter with their sign. Use this on
    chunks of the θ grid when the full (T, N) matrix would not fit in memory, then call
    :func:`extended_asimov_q`.

    Parameters
    ----------
    log_r : array_like, shape (T, N) or (N,)
        log r̂(x_i|θ_t, θ_ref) for N test events at T parameter points.
    weights_true : array_like, shape (N,)
        Event weights at the true point θ*, in pb (only their ratios matter here).

    Returns
    -------
    ndarray, shape (T,) or scalar float for 1-D input.

    Raises
    ------
    ValueError
        On shape mismatch, non-finite weights or a non-positive sum of weights.
    """
    lr = np.asarray(log_r)
    if lr.ndim not in (1, 2) or not np.issubdtype(lr.dtype, np.floating):
        raise ValueError(f"log_r must be a float array of shape (T, N) or (N,), got {lr.dtype} {lr.shape}")
    w = _as_weights(weights_true, "weights_true", lr.shape[-1])
    mean = _weighted_means(np.atleast_2d(lr), w, "log_r")
    return float(mean[0]) if lr.ndim == 1 else mean


def extended_asimov_q(
    mean_log_r: np.ndarray,
    sigma: np.ndarray,
    lumi: float,
    *,
    sigma_true: float,
    mean_log_r_true: float,
) -> np.ndarray:
    """The Asimov q(θ) of docs/statistics.md §2 from already averaged log r̂ (the formula itself).

    q(θ) = 2n·[d − log(1 + d)] − 2n·[E log r̂(θ) − E log r̂(θ*)], d = σ(θ)/σ(θ*) − 1, n = L·σ(θ*).

    Parameters
    ----------
    mean_log_r : array_like, shape (T,)
        E_{θ*}[log r̂(x|θ_t, θ_ref)], see :func:`expected_log_r`.
    sigma : array_like, shape (T,)
        Total cross section σ(θ_t) in pb.
    lumi : float
        Integrated luminosity L in pb⁻¹.
    sigma_true : float
        σ(θ*) in pb.
    mean_log_r_true : float
        E_{θ*}[log r̂(x|θ*, θ_ref)] (0 if θ_ref = θ*).

    Returns
    -------
    ndarray, shape (T,)
        q(θ_t); +inf where σ(θ_t) ≤ 0 (such a point predicts no events and is excluded).

    Raises
    ------
    ValueError
        On shape mismatch, non-positive ``lumi`` or ``sigma_true``.
    """
    lumi = check_lumi(lumi)
    m = np.asarray(mean_log_r, dtype=np.float64)
    s = np.asarray(sigma, dtype=np.float64)
    if m.ndim != 1 or s.shape != m.shape:
        raise ValueError(f"mean_log_r and sigma must both have shape (T,), got {m.shape} and {s.shape}")
    sigma_true = float(sigma_true)
    if not (np.isfinite(sigma_true) and sigma_true > 0.0):
        raise ValueError(f"sigma_true must be a positive cross section in pb, got {sigma_true!r}")
    n = lumi * sigma_true
    positive = s > 0.0
    d = np.where(positive, s / sigma_true - 1.0, 0.0)
    rate = 2.0 * n * (d - np.log1p(d))
    kinematic = -2.0 * n * (m - float(mean_log_r_true))
    return np.where(positive, rate + kinematic, np.inf)


def asimov_q(
    log_r: np.ndarray,
    weights_true: np.ndarray,
    sigma: np.ndarray,
    lumi: float,
    *,
    sigma_true: float | None = None,
    log_r_true: np.ndarray | float | None = None,
    true_index: int | None = None,
) -> np.ndarray:
    """Expected (Asimov) q(θ) = −2Δlog L on a θ grid for a ratio estimator (docs/statistics.md §2).

    The extended-likelihood formula of the module docstring, with the expectation over the test events
    weighted at θ*. θ* is either a grid point (``true_index``) or given separately (``log_r_true`` with
    ``sigma_true``); exactly one of ``true_index`` and ``log_r_true`` must be given.

    Parameters
    ----------
    log_r : array_like, shape (T, N), float32 or float64
        log r̂(x_i|θ_t, θ_ref) for N test events and T grid points; θ_ref is arbitrary but fixed.
        Averaged in float64 in blocks of rows, so float32 input is not copied whole.
    weights_true : array_like, shape (N,)
        Event weights at θ* in pb (only their ratios enter the expectation; may be negative).
    sigma : array_like, shape (T,)
        Total cross section σ(θ_t) in pb.
    lumi : float
        Integrated luminosity L in pb⁻¹ (1 fb⁻¹ = 1000 pb⁻¹).
    sigma_true : float, optional
        σ(θ*) in pb. Defaults to ``sigma[true_index]``; required with ``log_r_true``.
    log_r_true : array_like, shape (N,) or scalar, optional
        log r̂(x_i|θ*, θ_ref); pass 0.0 when θ_ref = θ*.
    true_index : int, optional
        Index of θ* in the grid (then ``log_r[true_index]`` is used).

    Returns
    -------
    ndarray, shape (T,)
        q(θ_t); exactly 0 at ``true_index`` (unless a different ``sigma_true`` is given). +inf where σ(θ_t) ≤ 0.

    Raises
    ------
    ValueError
        On inconsistent shapes, non-finite ``log_r``, a missing or doubly specified θ*, non-positive
        ``lumi``/``sigma_true`` or weights that do not sum to a positive number.

    Examples
    --------
    Two events of equal weight, a flat ratio and a rate that doubles (σ* = 1 pb, L = 10 pb⁻¹, so n = 10):

    >>> q = asimov_q(np.zeros((2, 2)), [0.5, 0.5], [1.0, 2.0], 10.0, true_index=0)
    >>> np.round(q, 4)  # 2n(1 − log 2)
    array([0.    , 6.1371])
    """
    lr = np.asarray(log_r)
    if lr.ndim != 2 or not np.issubdtype(lr.dtype, np.floating):
        raise ValueError(f"log_r must be a float array of shape (T, N), got {lr.dtype} {lr.shape}")
    sig = np.asarray(sigma, dtype=np.float64)
    if sig.shape != (lr.shape[0],):
        raise ValueError(f"sigma must have shape (T,) = ({lr.shape[0]},), got {sig.shape}")
    if (true_index is None) == (log_r_true is None):
        raise ValueError("give exactly one of true_index (θ* on the grid) and log_r_true (θ* off the grid)")
    if true_index is not None:
        t = int(true_index)
        if not -lr.shape[0] <= t < lr.shape[0]:
            raise ValueError(f"true_index {true_index} is outside the grid of {lr.shape[0]} points")
        lr_true = np.asarray(lr[t], dtype=np.float64)
        exact_zero = sigma_true is None
        if sigma_true is None:
            sigma_true = float(sig[t])
    else:
        exact_zero = False
        if sigma_true is None:
            raise ValueError("sigma_true (pb) is required when θ* is given through log_r_true")
        lr_true = np.broadcast_to(np.asarray(log_r_true, dtype=np.float64), (lr.shape[1],))
    w = _as_weights(weights_true, "weights_true", lr.shape[1])
    mean = _weighted_means(lr, w, "log_r")
    mean_true = float(_weighted_means(lr_true[None], w, "log_r_true")[0])
    q = extended_asimov_q(mean, sig, lumi, sigma_true=sigma_true, mean_log_r_true=mean_true)
    if exact_zero:
        q[int(true_index)] = 0.0  # exact by construction; removes rounding between matrix and vector products
    return q


def truth_q(
    log_r_exact: np.ndarray,
    weights_true: np.ndarray,
    sigma: np.ndarray,
    lumi: float,
    *,
    sigma_true: float | None = None,
    log_r_true: np.ndarray | float | None = None,
    true_index: int | None = None,
) -> np.ndarray:
    """Asimov q(θ) with the exact likelihood ratio ("truth"); same formula and arguments as :func:`asimov_q`.

    Pass the exact log r(x|θ, θ_ref) where the sample carries it (the toy's exact density). Passing the
    joint (parton-level) ratio log r(x, z|θ, θ_ref) instead gives the q of the parton-level likelihood,
    which is ≥ the detector-level truth (it ignores the information lost in shower and detector).

    Returns
    -------
    ndarray, shape (T,)
    """
    return asimov_q(
        log_r_exact, weights_true, sigma, lumi, sigma_true=sigma_true, log_r_true=log_r_true, true_index=true_index
    )
