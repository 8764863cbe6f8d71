"""One-parameter intervals from a q map with the other parameters profiled, and the map in forms other tools read:
contour lines and a HEPData-style table (docs/statistics.md §6).

The profile of parameter k is q_k(θ_k) = min over the other parameters of q (on the grid); an interval at
confidence level CL is where q_k − min q_k < F⁻¹_{χ²₁}(CL) (Wilks with one degree of freedom), its edges
interpolated linearly between grid points. A set that touches the grid edge is marked open (the edge is a bound
of the grid, not of the interval).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from lfi.limits.wilks import q_threshold

__all__ = ["profile", "profile_intervals", "contour_lines", "hepdata_table"]


def profile(q: np.ndarray, axes: Sequence[np.ndarray], k: int) -> np.ndarray:
    """q profiled over every parameter but ``k``: shape (len(axes[k]),); q in C order (last axis fastest)."""
    grid = np.asarray(q, float).reshape([len(a) for a in axes])
    others = tuple(i for i in range(grid.ndim) if i != k)
    return np.nanmin(grid, axis=others) if others else grid


def _crossing(x0: float, x1: float, v0: float, v1: float, level: float) -> float:
    return x0 + (level - v0) * (x1 - x0) / (v1 - v0)


def _intervals_1d(axis: np.ndarray, values: np.ndarray, level: float) -> list[dict]:
    inside = np.isfinite(values) & (values < level)
    out = []
    index = 0
    while index < len(axis):
        if not inside[index]:
            index += 1
            continue
        start = index
        while index + 1 < len(axis) and inside[index + 1]:
            index += 1
        stop = index
        low = axis[start] if start == 0 else _crossing(axis[start - 1], axis[start], values[start - 1],
                                                       values[start], level)
        high = axis[stop] if stop == len(axis) - 1 else _crossing(axis[stop], axis[stop + 1], values[stop],
                                                                  values[stop + 1], level)
        out.append({"low": float(low), "high": float(high), "open_low": start == 0,
                    "open_high": stop == len(axis) - 1})
        index += 1
    return out


def profile_intervals(q: np.ndarray, axes: Sequence[np.ndarray], parameters: Sequence[str],
                      cl: Sequence[float] = (0.6827, 0.9545)) -> dict[str, dict[str, list[dict]]]:
    """The 1-D intervals of every parameter with the others profiled.

    Parameters
    ----------
    q : ndarray, shape (T,) or the grid shape
        −2Δlog L on the grid (C order).
    axes : sequence of 1-D arrays
    parameters : sequence of str
        Their names.
    cl : sequence of float

    Returns
    -------
    dict
        ``{parameter: {"68.27": [{"low", "high", "open_low", "open_high"}, ...], ...}}``: possibly several
        disjoint intervals per level (a quadratic EFT dependence can give two).

    Examples
    --------
    >>> ax = np.linspace(-3, 3, 601)
    >>> q = ax[:, None] ** 2 + 4 * ax[None, :] ** 2
    >>> round(profile_intervals(q, [ax, ax], ["a", "b"])["b"]["68.27"][0]["high"], 3)
    0.5
    """
    out: dict[str, dict[str, list[dict]]] = {}
    for k, name in enumerate(parameters):
        values = profile(q, axes, k)
        values = values - np.nanmin(values)
        out[name] = {f"{100 * c:.2f}": _intervals_1d(np.asarray(axes[k], float), values, float(q_threshold(c, 1)))
                     for c in cl}
    return out


def contour_lines(q: np.ndarray, axes: Sequence[np.ndarray], level: float) -> list[np.ndarray]:
    """Lines where a 2-D q map crosses ``level``: a list of (M, 2) arrays of (θ_0, θ_1) points."""
    import contourpy

    grid = np.asarray(q, float).reshape(len(axes[0]), len(axes[1]))
    generator = contourpy.contour_generator(np.asarray(axes[0], float), np.asarray(axes[1], float), grid.T,
                                            line_type=contourpy.LineType.Separate)
    return [np.asarray(line) for line in generator.lines(level)]


def hepdata_table(q: np.ndarray, axes: Sequence[np.ndarray], parameters: Sequence[str], units: str,
                  *, description: str, quantity: str = "-2 Delta ln L (expected)") -> str:
    """A q map as a HEPData table in YAML (``independent_variables`` per parameter with units, one
    ``dependent_variables`` column), one row per grid point in C order."""
    points = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))
    values = np.asarray(q, float).ravel()
    lines = [f"# {description}", "independent_variables:"]
    for k, name in enumerate(parameters):
        lines += [f"- header: {{name: '{name}', units: '{units}'}}", "  values:"]
        lines += [f"  - {{value: {v:.8g}}}" for v in points[:, k]]
    lines += ["dependent_variables:", f"- header: {{name: '{quantity}'}}", "  values:"]
    lines += [f"  - {{value: {v:.8g}}}" if np.isfinite(v) else "  - {value: '-'}" for v in values]
    return "\n".join(lines) + "\n"
