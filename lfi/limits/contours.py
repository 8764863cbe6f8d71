"""Confidence regions from q on a regular grid: area inside each CL contour, best-fit point, JSON summary.

The region at confidence level CL is {θ : q(θ) ≤ q_c} with q_c from Wilks' theorem
(:func:`lfi.limits.wilks.q_threshold`). q between grid nodes is interpolated linearly along cell edges
(marching squares): in each cell the region is the polygon cut out by the contour's straight segments
between the edge crossings, its area by the shoelace formula; saddle cells are resolved by the value at
the cell centre (mean of the corners). Cells fully inside count fully. The estimate is exact for q linear
on each cell edge and converges as O(h²) with the grid spacing h for smooth q. For D = 1 the "area" is the
length of the interval(s) with q ≤ q_c.

A region that reaches the edge of the grid is cut off there; such levels are reported as open and their
area is a lower bound. Non-finite q (NaN or +inf) counts as outside every contour.

Shapes: grid in C order (see :mod:`lfi.limits.grid`); q of shape (T,) or (n_0, n_1). Areas are in units
of θ_0·θ_1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lfi.limits.wilks import DEFAULT_CL, q_threshold

__all__ = ["contour_areas", "contour_is_open", "best_fit", "contour_summary"]


def _q_on_grid(q: np.ndarray, axes: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    ax = [np.asarray(a, dtype=np.float64) for a in axes]
    if len(ax) not in (1, 2):
        raise ValueError(f"contours need a 1-D or 2-D grid, got {len(ax)} axes")
    for j, a in enumerate(ax):
        if a.ndim != 1 or len(a) < 2 or np.any(~np.isfinite(a)) or np.any(np.diff(a) <= 0):
            raise ValueError(f"axes[{j}] must be a strictly increasing 1-D array with ≥ 2 points")
    shape = tuple(len(a) for a in ax)
    v = np.asarray(q, dtype=np.float64)
    if v.size != int(np.prod(shape)):
        raise ValueError(f"q has {v.size} values but the grid {shape} has {int(np.prod(shape))} points")
    return v.reshape(shape), ax


def _finite_for_contours(v: np.ndarray, level: float) -> np.ndarray:
    finite = np.isfinite(v)
    top = max(float(np.max(v[finite])) if finite.any() else 0.0, level, 1.0)
    return np.where(finite, v, 1e6 * top)


def _length_1d(v: np.ndarray, axis: np.ndarray, level: float) -> float:
    a, b = v[:-1], v[1:]
    ina, inb = a <= level, b <= level
    h = np.diff(axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ina != inb, (level - a) / (b - a), 0.0)  # crossing position from the left node
    frac = np.where(ina & inb, 1.0, np.where(ina & ~inb, t, np.where(~ina & inb, 1.0 - t, 0.0)))
    return float(np.sum(frac * h))


def _area_2d(v: np.ndarray, ax0: np.ndarray, ax1: np.ndarray, level: float) -> float:
    # Corners counter-clockwise in unit-cell coordinates (u along axis 0, w along axis 1).
    corners = np.stack([v[:-1, :-1], v[1:, :-1], v[1:, 1:], v[:-1, 1:]], axis=-1).reshape(-1, 4)
    cell = np.outer(np.diff(ax0), np.diff(ax1)).reshape(-1)
    inside = corners <= level
    n_in = inside.sum(axis=1)
    frac = np.where(n_in == 4, 1.0, 0.0)
    partial = (n_in > 0) & (n_in < 4)
    if not partial.any():
        return float(np.sum(frac * cell))
    c, ins = corners[partial], inside[partial]
    unit = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    nxt = np.roll(np.arange(4), -1)
    c_next, ins_next = c[:, nxt], ins[:, nxt]
    crosses = ins != ins_next
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(crosses, (level - c) / (c_next - c), 0.0)  # (M, 4): crossing on edge k from corner k
    t = np.clip(t, 0.0, 1.0)
    cross_pts = unit[None, :, :] + t[:, :, None] * (unit[nxt] - unit)[None, :, :]  # (M, 4, 2)
    # Vertex slots: corner k (if inside), then crossing on edge k (if any): the clipped polygon in order.
    pts = np.empty((len(c), 8, 2))
    pts[:, 0::2] = unit[None]
    pts[:, 1::2] = cross_pts
    mask = np.empty((len(c), 8), dtype=bool)
    mask[:, 0::2] = ins
    mask[:, 1::2] = crosses
    order = np.argsort(~mask, axis=1, kind="stable")  # valid vertices first, order kept
    pts = np.take_along_axis(pts, order[:, :, None], axis=1)
    count = mask.sum(axis=1)
    slot = np.arange(8)[None, :]
    nxt_slot = np.where(slot + 1 < count[:, None], slot + 1, 0)
    pts_next = np.take_along_axis(pts, nxt_slot[:, :, None], axis=1)
    cross_z = pts[:, :, 0] * pts_next[:, :, 1] - pts_next[:, :, 0] * pts[:, :, 1]
    area = 0.5 * np.abs(np.sum(np.where(slot < count[:, None], cross_z, 0.0), axis=1))
    # Saddle cells (inside corners opposite each other): the walk above joins them through the centre;
    # if the centre is outside, the region is two separate corner triangles instead.
    saddle = (ins[:, 0] == ins[:, 2]) & (ins[:, 1] == ins[:, 3]) & (ins[:, 0] != ins[:, 1])
    centre_out = c.mean(axis=1) > level
    split = saddle & centre_out
    if split.any():
        t_prev = t[:, np.roll(np.arange(4), 1)]
        tri = 0.5 * t * (1.0 - t_prev)  # right triangle at corner k: legs t_k and 1 − t_{k−1}
        area = np.where(split, np.sum(np.where(ins, tri, 0.0), axis=1), area)
    frac[partial] = area
    return float(np.sum(frac * cell))


def contour_areas(q: np.ndarray, axes: Sequence[np.ndarray], levels: Sequence[float] | float) -> np.ndarray:
    """Area (D = 2) or length (D = 1) of the region q ≤ level, interpolated (module docstring).

    Parameters
    ----------
    q : array_like, shape (T,) or (n_0, n_1)
        Test statistic on the grid, C order.
    axes : sequence of 1 or 2 strictly increasing arrays
        Grid axes (need not be uniform).
    levels : float or sequence of float
        Thresholds q_c, e.g. from :func:`lfi.limits.wilks.q_threshold`.

    Returns
    -------
    ndarray, shape (len(levels),)
        Areas in units of θ_0·θ_1 (lengths in units of θ_0 for D = 1).

    Raises
    ------
    ValueError
        If q does not match the grid, an axis is not increasing, or D ∉ {1, 2}.

    Examples
    --------
    q = θ² on [−2, 2]: the interval q ≤ 1 is [−1, 1], length 2 (exact where q is linear between nodes).

    >>> ax = np.linspace(-2.0, 2.0, 5)
    >>> contour_areas(np.abs(ax) * 1.0, [ax], [1.0])
    array([2.])
    """
    v, ax = _q_on_grid(q, axes)
    out = []
    for level in np.atleast_1d(np.asarray(levels, dtype=np.float64)):
        vf = _finite_for_contours(v, float(level))
        out.append(_length_1d(vf, ax[0], level) if len(ax) == 1 else _area_2d(vf, ax[0], ax[1], level))
    return np.array(out)


def contour_is_open(q: np.ndarray, axes: Sequence[np.ndarray], level: float) -> bool:
    """Whether the region q ≤ level reaches the edge of the grid (then its area is a lower bound).

    Parameters
    ----------
    q : array_like, shape (T,) or grid shape
    axes : sequence of 1 or 2 arrays
    level : float

    Returns
    -------
    bool
    """
    v, _ = _q_on_grid(q, axes)
    edge = np.ones(v.shape, dtype=bool)
    edge[tuple(slice(1, -1) for _ in v.shape)] = False
    return bool(np.any(v[edge] <= level))


def best_fit(q: np.ndarray, axes: Sequence[np.ndarray], *, refine: bool = True) -> np.ndarray:
    """Point of minimal q on the grid, optionally refined by a parabola through the neighbours.

    Parameters
    ----------
    q : array_like, shape (T,) or grid shape
    axes : sequence of D arrays (any D ≥ 1)
    refine : bool, default True
        Along each axis where the minimum is interior, move to the vertex of the parabola through the
        minimum and its two neighbours (at most half a step). Off for the grid point itself.

    Returns
    -------
    ndarray, shape (D,)

    Raises
    ------
    ValueError
        If q does not match the grid or has no finite value.
    """
    ax = [np.asarray(a, dtype=np.float64) for a in axes]
    shape = tuple(len(a) for a in ax)
    v = np.asarray(q, dtype=np.float64)
    if v.size != int(np.prod(shape)):
        raise ValueError(f"q has {v.size} values but the grid {shape} has {int(np.prod(shape))} points")
    v = v.reshape(shape)
    if not np.isfinite(v).any():
        raise ValueError("q has no finite value: no best fit")
    idx = np.unravel_index(np.argmin(np.where(np.isfinite(v), v, np.inf)), shape)
    point = np.array([a[i] for a, i in zip(ax, idx)])
    if not refine:
        return point
    for d, (a, i) in enumerate(zip(ax, idx)):
        if 0 < i < len(a) - 1:
            lo, mid, hi = (v[idx[:d] + (k,) + idx[d + 1 :]] for k in (i - 1, i, i + 1))
            curvature = lo - 2.0 * mid + hi
            if np.isfinite(curvature) and curvature > 0.0:
                offset = float(np.clip(0.5 * (lo - hi) / curvature, -0.5, 0.5))
                step = a[i + 1] - a[i] if offset > 0 else a[i] - a[i - 1]
                point[d] = a[i] + offset * step
    return point


def _cl_key(cl: float) -> str:
    return f"{100.0 * cl:.2f}"


def _json_float(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def contour_summary(
    q: np.ndarray,
    axes: Sequence[np.ndarray],
    *,
    cl: Sequence[float] = DEFAULT_CL,
    dof: int = 2,
    subtract_minimum: bool = False,
) -> dict:
    """JSON-able summary of a q map: thresholds, area inside each CL contour, best fit.

    Parameters
    ----------
    q : array_like, shape (T,) or (n_0, n_1)
        Asimov q on the grid (C order).
    axes : sequence of 1 or 2 arrays
        Grid axes.
    cl : sequence of float, default (0.6827, 0.9545, 0.9973)
        Confidence levels.
    dof : int, default 2
        Degrees of freedom for Wilks' thresholds.
    subtract_minimum : bool, default False
        Use q − min(q) (the likelihood ratio against the best fit on the grid, as an estimated map with
        a spurious minimum off θ* would be profiled) instead of q against θ*.

    Returns
    -------
    dict
        ``{"cl": [...], "dof": D, "q_thresholds": [...], "areas": {"68.27": float, ...},
        "open": {"68.27": bool, ...}, "best_fit": [...], "q_min": float,
        "grid": [[low, high, n], ...], "subtract_minimum": bool}``; areas in units of θ_0·θ_1
        (or θ_0 for a 1-D grid), "open" marks regions cut off by the grid edge (area is a lower bound).
        Non-finite numbers become ``None``.

    Examples
    --------
    >>> ax = np.linspace(-3.0, 3.0, 61)
    >>> q = (ax[:, None] ** 2 + ax[None, :] ** 2)
    >>> s = contour_summary(q, [ax, ax])
    >>> round(s["areas"]["68.27"] / (np.pi * s["q_thresholds"][0]), 2)
    1.0
    """
    v, ax = _q_on_grid(q, axes)
    finite = np.isfinite(v)
    if not finite.any():
        raise ValueError("q has no finite value")
    q_min = float(v[finite].min())
    if subtract_minimum:
        v = v - q_min
    cls = [float(c) for c in cl]
    thresholds = [float(q_threshold(c, dof)) for c in cls]
    areas = contour_areas(v, ax, thresholds)
    return {
        "cl": cls,
        "dof": int(dof),
        "q_thresholds": thresholds,
        "areas": {_cl_key(c): _json_float(a) for c, a in zip(cls, areas)},
        "open": {_cl_key(c): contour_is_open(v, ax, t) for c, t in zip(cls, thresholds)},
        "best_fit": [float(x) for x in best_fit(v, ax)],
        "q_min": q_min,
        "grid": [[float(a[0]), float(a[-1]), len(a)] for a in ax],
        "subtract_minimum": bool(subtract_minimum),
    }
