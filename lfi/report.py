"""Figures of expected limits: CL contours of several methods in one parameter plane, alone (``lfi limits``) or
beside the ROC curves of the classifiers (``lfi report``). Labels a reader understands: parameters with their
units rendered (f_W/Λ² [TeV⁻²]), methods by name and estimator, the luminosity. matplotlib (and mplhep for the
report) load only when a figure is drawn.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lfi.files import atomic_write
from lfi.limits import q_threshold

__all__ = ["plot_contours", "draw_contours", "plot_report", "parameter_label", "map_label", "map_labels"]

_METHOD_NAMES = {"alices": "ALICES", "alice": "ALICE", "rascal": "RASCAL", "rolr": "ROLR", "carl": "CARL",
                 "cascal": "CASCAL", "sally": "SALLY", "sallino": "SALLINO", "nde": "NDE", "scandal": "SCANDAL"}
_ESTIMATOR_NAMES = {"mlp": "MLP", "part": "ParT", "particlenet": "ParticleNet", "mixer": "Mixer",
                    "iaformer": "IAFormer", "sett": "Set Transformer", "cnn1d": "CNN", "bdt": "BDT",
                    "flow": "flow"}


def parameter_label(name: str, units: str = "") -> str:
    """Axis label with the unit rendered: ``f_W`` in ``TeV^-2`` → ``$f_{W}/\\Lambda^2$ [TeV$^{-2}$]`` (the EFT
    convention of docs/eft.md §2); other names as ``$name$``."""
    match = re.fullmatch(r"f_(\w+)", name)
    if match and units.replace(" ", "") in ("TeV^-2", "TeV-2"):
        symbol = rf"$f_{{{match.group(1)}}}/\Lambda^2$"
    else:
        symbol = rf"${name}$" if re.fullmatch(r"[A-Za-z]+(_\w+)?", name) else name
    unit = re.sub(r"\^(-?\d+)", r"$^{\1}$", units)
    return f"{symbol} [{unit}]" if unit else symbol


def map_label(name: str, entry: Mapping | None = None) -> str:
    """Legend text of a likelihood map: ``truth`` → exact likelihood, ``histogram_a_b`` → 2-D histogram (a, b),
    a model → method (estimator), from the ``model`` record ``lfi limits`` stores (SALLY and SALLINO say "local":
    they approximate the likelihood around the score's reference point); an observed map adds ", observed"; else
    the map name."""
    if (entry or {}).get("profiled"):
        base = {k: v for k, v in entry.items() if k != "profiled"}
        return f"{map_label(name.removesuffix('_profiled'), base)}, ν profiled"
    if (entry or {}).get("observed"):
        expected = {k: v for k, v in entry.items() if k != "observed"}
        return f"{map_label(name.removesuffix('_observed'), expected)}, observed"
    if name == "truth":
        return "exact likelihood"
    if name.startswith("histogram_"):
        observables = (entry or {}).get("observables") or name[len("histogram_"):].split("_", 1)
        return f"{len(observables)}-D histogram ({', '.join(observables)})"
    model = (entry or {}).get("model") or {}
    method = _METHOD_NAMES.get(str(model.get("method", "")).lower())
    if method is None:
        return name
    estimator = _ESTIMATOR_NAMES.get(str(model.get("estimator", "")), model.get("estimator"))
    members = model.get("members")
    if method in ("SALLY", "SALLINO"):
        method += " local"  # a local approximation around the score's reference point, not a global likelihood
    detail = ", ".join(x for x in (estimator, f"ensemble of {members}" if members else None) if x)
    return f"{method} ({detail})" if detail else method


def map_labels(entries: Mapping[str, Mapping | None]) -> dict[str, str]:
    """:func:`map_label` of every map; maps whose labels coincide (two trainings of one method and estimator) get
    their own map name in brackets, so that no two legend entries or table rows read alike."""
    labels = {name: map_label(name, entry) for name, entry in entries.items()}
    counts = Counter(labels.values())
    return {name: f"{label} [{name}]" if counts[label] > 1 else label for name, label in labels.items()}


def draw_contours(ax, maps: Mapping[str, np.ndarray], axes: Sequence[np.ndarray], *,
                  labels: Mapping[str, str] | None = None, cl: Sequence[float] = (0.6827, 0.9545),
                  members: Mapping[str, Sequence[np.ndarray]] | None = None,
                  theta_true: Sequence[float] | None = None, best_fits: Mapping[str, Sequence[float]] | None = None,
                  true_label: str = "true point") -> None:
    """Draw the CL contours of every q map on ``ax`` (exact likelihood in black, thick), the members of an
    ensemble as a faint band, best fits as small crosses and the true point as a star; legend entries included."""
    import matplotlib.pyplot as plt

    levels = [float(q_threshold(c, dof=2)) for c in cl]
    styles = ["solid", "dashed", "dotted"][: len(levels)]
    colours = itertools.cycle(plt.cm.tab10.colors)  # any number of maps (a style's own cycle may be short)
    for name, q in maps.items():
        colour = "black" if name == "truth" else next(colours)
        width = 2.2 if name == "truth" else 1.6
        q = np.asarray(q, dtype=float).reshape(len(axes[0]), len(axes[1]))
        if np.nanmin(q) < max(levels):
            ax.contour(axes[0], axes[1], q.T, levels=levels, colors=colour, linestyles=styles, linewidths=width)
        band = (members or {}).get(name, [])
        for member in band:
            member = np.asarray(member, dtype=float).reshape(q.shape)
            if np.nanmin(member) < max(levels):
                ax.contour(axes[0], axes[1], member.T, levels=levels, colors=colour, linestyles=styles,
                           linewidths=0.6, alpha=0.35)
        ax.plot([], [], color=colour, lw=width, label=(labels or {}).get(name, name))
        if band:
            ax.plot([], [], color=colour, linewidth=0.6, alpha=0.35, label=f"  its {len(band)} members")
        if best_fits and name in best_fits and best_fits[name] is not None:
            ax.plot(*best_fits[name], marker="x", color=colour, markersize=6, linestyle="none")
    for level_cl, style in zip(cl, styles):
        ax.plot([], [], color="grey", linestyle=style, label=f"{100 * level_cl:.2f} % CL")
    if theta_true is not None:
        ax.plot(*theta_true, marker="*", color="black", markersize=11, linestyle="none", label=true_label)


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
    labels: Mapping[str, str] | None = None,
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
    parameters, units : axis labels (rendered by :func:`parameter_label`).
    theta_true : the true point, marked with a star.
    cl : confidence levels (solid line for the first, dashed for the second, dotted for a third).
    members : dict of name → list of ndarray, optional
        Ensemble members' maps of the map ``name``: their contours are drawn as thin, faint lines in the map's
        colour, a band that shows the members' spread.
    labels : dict of name → str, optional
        Legend text per map (default: the map name).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.8, 5.0), dpi=130)
    draw_contours(ax, maps, axes, labels=labels, cl=cl, members=members, theta_true=theta_true)
    ax.set_xlabel(parameter_label(parameters[0], units))
    ax.set_ylabel(parameter_label(parameters[1], units))
    ax.set_title(title or "expected limits (Asimov)", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    path = Path(path)
    try:
        with atomic_write(path) as tmp:
            fig.savefig(tmp, format=path.suffix[1:] or "png")
    finally:
        plt.close(fig)
    return path


def plot_report(contours: Mapping | None, roc: Mapping | None, path: str | os.PathLike) -> list[Path]:
    """The report figure: expected contours (left) beside the classifiers' ROC curves (right); either panel
    may be absent. PNG and PDF, mplhep style.

    Parameters
    ----------
    contours : dict, optional
        ``maps``, ``axes``, ``parameters``, ``units``, ``labels``, ``members``, ``best_fits``, ``theta_true``,
        ``title`` (keyword arguments of :func:`draw_contours` plus the axis texts).
    roc : dict, optional
        ``curves`` (label → (ε_S, ε_B)), ``title``.
    path : path-like
        Output PNG; the PDF is written beside it.
    """
    from lfi.roc_figure import _plain_log_ticks, _pyplot, finish_figure, line_styles

    plt, mplhep = _pyplot()
    panels = [p for p in (contours, roc) if p]
    if not panels:
        raise ValueError("nothing to draw: no limits and no classification results")
    with plt.style.context(mplhep.style.ROOT):
        widths = [13.0 if p is contours else 9.0 for p in panels]  # the contour legend sits beside its panel
        fig, axs = plt.subplots(1, len(panels), figsize=(sum(widths), 8), gridspec_kw={"width_ratios": widths})
        axs = np.atleast_1d(axs)
        ax_iter = iter(axs)
        if contours:
            ax = next(ax_iter)
            draw_contours(ax, contours["maps"], contours["axes"], labels=contours.get("labels"),
                          members=contours.get("members"), best_fits=contours.get("best_fits"),
                          theta_true=contours.get("theta_true"), true_label="true point (Asimov data)")
            ax.set_xlabel(parameter_label(contours["parameters"][0], contours.get("units", "")))
            ax.set_ylabel(parameter_label(contours["parameters"][1], contours.get("units", "")))
            ax.set_box_aspect(1)  # a square plane, the legend in the space beside it
            ax.legend(fontsize=11, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
            ax.set_title(contours.get("title", ""), fontsize=13)
        if roc:
            ax = next(ax_iter)
            for (label, (eps_s, eps_b)), style in zip(roc["curves"].items(), line_styles(len(roc["curves"]))):
                eps_b = np.asarray(eps_b, float)
                with np.errstate(divide="ignore", invalid="ignore"):
                    ax.plot(eps_s, np.where(eps_b > 0, 1.0 / eps_b, np.nan), lw=1.8, label=label, **style)
            ax.set_yscale("log")
            _plain_log_ticks(ax)
            ax.set_xlim(0, 1)
            ax.set_xlabel(r"Signal efficiency $\varepsilon_S$")
            ax.set_ylabel(r"Background rejection $1/\varepsilon_B$")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=11, loc="upper right")
            ax.set_title(roc.get("title", ""), fontsize=13)
        return finish_figure(fig, path)
