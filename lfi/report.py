"""Figures: expected-limit contours of several methods in one parameter plane.

The full report (contours beside ROC curves and classification tables, ``lfi report``) is planned; this
module draws what ``lfi limits`` computes. matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lfi.files import atomic_write
from lfi.limits import q_threshold

__all__ = ["plot_contours"]


def plot_contours(
    maps: Mapping[str, np.ndarray],
    axes: Sequence[np.ndarray],
    path: str | os.PathLike,
    *,
    parameters: Sequence[str] = ("theta_0", "theta_1"),
    units: str = "",
    theta_true: Sequence[float] | None = None,
    cl: Sequence[float] = (0.6827, 0.9545),
    title: str = "",
    members: Mapping[str, Sequence[np.ndarray]] | None = None,
) -> Path:
    """Draw the CL contours of every q map on one plane and save the figure atomically.

    Parameters
    ----------
    maps : dict of name → ndarray, shape (n_0, n_1)
        Expected −2Δlog L on the grid; a map called ``truth`` is drawn in black.
    axes : two 1-D arrays
        Grid axes (parameter values, in ``units``).
    path : path-like
        Output file; the format follows the suffix (``.png``, ``.pdf``).
    parameters, units : axis labels.
    theta_true : the true point, marked with a star.
    cl : confidence levels (solid line for the first, dashed for the second, dotted for a third).
    members : dict of name → list of ndarray, optional
        Ensemble members' maps of the map ``name``: their contours are drawn as thin, faint lines in the map's
        colour, a band that shows the members' spread.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [float(q_threshold(c, dof=2)) for c in cl]
    styles = ["solid", "dashed", "dotted"][: len(levels)]
    fig, ax = plt.subplots(figsize=(7.8, 5.0), dpi=130)
    colours = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"])
    for name, q in maps.items():
        colour = "black" if name == "truth" else next(colours)
        q = np.asarray(q, dtype=float).reshape(len(axes[0]), len(axes[1]))
        if np.nanmin(q) < max(levels):
            ax.contour(axes[0], axes[1], q.T, levels=levels, colors=colour, linestyles=styles, linewidths=1.4)
        band = (members or {}).get(name, [])
        for member in band:
            member = np.asarray(member, dtype=float).reshape(q.shape)
            if np.nanmin(member) < max(levels):
                ax.contour(axes[0], axes[1], member.T, levels=levels, colors=colour, linestyles=styles,
                           linewidths=0.6, alpha=0.35)
        ax.plot([], [], color=colour, label=name)
        if band:
            ax.plot([], [], color=colour, linewidth=0.6, alpha=0.35, label=f"{name}: {len(band)} members")
    for level_cl, style in zip(cl, styles):
        ax.plot([], [], color="grey", linestyle=style, label=f"{100 * level_cl:.2f} % CL")
    if theta_true is not None:
        ax.plot(*theta_true, marker="*", color="black", markersize=10, linestyle="none", label="true point")
    suffix = f" [{units}]" if units else ""
    ax.set_xlabel(parameters[0] + suffix)
    ax.set_ylabel(parameters[1] + suffix)
    ax.set_title(title or "expected limits (Asimov)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    path = Path(path)
    try:
        with atomic_write(path) as tmp:
            fig.savefig(tmp)
    finally:
        plt.close(fig)
    return path
