"""Figures of the Fisher information: 68/95 % CL information ellipses (the linearised likelihood) over the
likelihood contours of the same sample, and where along an observable the information sits."""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lfi.limits import q_threshold
from lfi.limits.information import information_ellipse
from lfi.report import map_label, parameter_label

__all__ = ["plot_information_ellipses", "plot_information_histogram", "information_label"]

_CL = (0.6827, 0.9545)


def information_label(name: str) -> str:
    """Legend text of an information matrix: ``joint`` → joint likelihood (weights), ``rate`` → rate only,
    ``sally_<dir>`` → SALLY (<dir>); the others as for likelihood maps (:func:`lfi.report.map_label`)."""
    if name == "joint":
        return "joint likelihood (weights)"
    if name == "rate":
        return "rate only"
    if name.startswith("sally_"):
        return f"SALLY ({name[len('sally_'):]})"
    return map_label(name)


def _finish(fig, path: str | os.PathLike) -> Path:
    """Lay out, write PNG and PDF (:func:`lfi.roc_figure.finish_figure`) and close; returns the PNG."""
    from lfi.roc_figure import finish_figure

    return finish_figure(fig, path)[0]


def plot_information_ellipses(matrices: Mapping[str, np.ndarray], theta: Sequence[float], path: str | os.PathLike,
                              *, parameters: Sequence[str], units: str = "", lumi: float | None = None,
                              limits: Mapping | None = None, labels: Mapping[str, str] | None = None,
                              frame: Sequence[tuple[float, float]] | None = None) -> Path:
    """Information ellipses (θ − θ*)ᵀ I (θ − θ*) = q at 68.27 % (solid) and 95.45 % CL (dashed) per matrix, a
    ``<name>_profiled`` matrix thick and faint in the colour of ``<name>``; a matrix that does not constrain both
    directions (rate only, in two parameters) is listed as open. With
    ``limits`` (:func:`lfi.workflows.report.read_limits` of a ``lfi limits`` directory), the likelihood contours of
    the maps of the same names are drawn thick and faint in the same colour: where they part from the ellipse,
    the likelihood is not Gaussian. ``labels`` overrides :func:`information_label` per matrix; ``frame`` is the
    plotted range per parameter (ellipses beyond it are cut).

    Returns
    -------
    Path
        The figure written (atomically).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = [float(q_threshold(cl, dof=2)) for cl in _CL]
    palette = itertools.cycle(plt.cm.tab10.colors)
    colours: dict[str, tuple] = {}
    fig, ax = plt.subplots(figsize=(7.8, 5.0), dpi=130)
    maps = (limits or {}).get("maps", {})
    profiled_drawn = False
    for name, info in matrices.items():
        base = name.removesuffix("_profiled")
        profiled = base != name
        if base not in colours:
            colours[base] = (0.0, 0.0, 0.0) if base == "truth" else next(palette)
        colour = colours[base]
        label = (labels or {}).get(name) or information_label(name)
        try:
            curves = [information_ellipse(info, theta, level) for level in levels]
        except ValueError:
            ax.plot([], [], color=colour, lw=0, label=f"{label}: open (not shown)")
            continue
        width, alpha = (2.8, 0.55) if profiled else (1.3, 1.0)
        for curve, style in zip(curves, ("solid", "dashed")):
            ax.plot(curve[:, 0], curve[:, 1], color=colour, linestyle=style, linewidth=width, alpha=alpha)
        profiled_drawn |= profiled
        if not profiled:
            ax.plot([], [], color=colour, linewidth=width, label=label)
        if name in maps and not profiled:
            axes = limits["axes"]
            q = np.asarray(maps[name], dtype=float).reshape(len(axes[0]), len(axes[1]))
            if np.nanmin(q) < max(levels):
                ax.contour(axes[0], axes[1], q.T, levels=levels, colors=[colour], linestyles=["solid", "dashed"],
                           linewidths=5.0, alpha=0.2)
    if profiled_drawn:
        ax.plot([], [], color="grey", linewidth=2.8, alpha=0.55, label="thick: nuisances profiled")
    if maps:
        ax.plot([], [], color="grey", linewidth=5.0, alpha=0.2, label="likelihood contour (lfi limits)")
    for cl, style in zip(_CL, ("solid", "dashed")):
        ax.plot([], [], color="grey", linestyle=style, label=f"{100 * cl:.2f} % CL")
    ax.plot(*theta, marker="*", color="black", markersize=11, linestyle="none", label="θ*")
    if frame:
        ax.set_xlim(*frame[0])
        ax.set_ylim(*frame[1])
    ax.set_xlabel(parameter_label(parameters[0], units))
    ax.set_ylabel(parameter_label(parameters[1], units))
    lumi_text = f", L = {lumi / 1000:g} fb⁻¹" if lumi else ""
    ax.set_title(f"Fisher information ellipses (linearised expected likelihood){lumi_text}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    return _finish(fig, path)


def plot_information_histogram(histogram: Mapping[str, np.ndarray], observable: str, path: str | os.PathLike, *,
                               parameters: Sequence[str], units: str = "", lumi: float) -> Path:
    """Along one observable, in bins of equal cross section at θ* (the x axis counts bins, labelled with their
    edges): per parameter the diagonal information I_ii of the events in each bin (solid) and what the bin's count
    alone carries (dashed). Where the solid line stands far above the dashed one, a histogram of this observable
    with these bins loses information that an unbinned (learned) analysis keeps.

    Parameters
    ----------
    histogram : mapping
        ``edges`` (B + 1,), ``sigma`` (B,) in pb, ``full`` and ``rate`` (B, D, D), from
        :func:`lfi.fisher.observable_information_histogram`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    edges = np.asarray(histogram["edges"], dtype=float)
    full, rate = np.asarray(histogram["full"]), np.asarray(histogram["rate"])
    position = np.arange(len(edges))
    fig, ax = plt.subplots(figsize=(6.8, 4.4), dpi=130)
    colours = itertools.cycle(plt.cm.tab10.colors)
    for i, name in enumerate(parameters):
        colour = next(colours)
        ax.stairs(full[:, i, i], position, color=colour, linewidth=1.6,
                  label=f"{parameter_label(name, units)}: all events of the bin")
        ax.stairs(rate[:, i, i], position, color=colour, linestyle="dashed", linewidth=1.2,
                  label=f"{parameter_label(name, units)}: the bin's count")
    ax.set_yscale("log")
    ax.set_ylabel(r"information $I_{ii}$ per bin")
    ax.set_xticks(position, [f"{e:.3g}" for e in edges], rotation=45, fontsize=7)
    ax.set_xlabel(f"{observable} (bin edges; bins of equal cross section)")
    ax.legend(fontsize=7)
    events = lumi * float(np.mean(histogram["sigma"]))
    ax.set_title(f"where the information sits along {observable}: {events:.3g} expected events per bin, "
                 f"L = {lumi / 1000:g} fb⁻¹", fontsize=9)
    return _finish(fig, path)
