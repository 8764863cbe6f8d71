"""Expected limits from files: load a test sample and trained estimators, compute every likelihood map on a
θ grid, summarise the contours, write maps, summary and figure. Callable from Python and notebooks;
``lfi limits`` only parses its arguments and prints :func:`format_table`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from lfi import limits
from lfi.evaluate import estimator_map, histogram_map, truth_map
from lfi.events import EventSample
from lfi.files import atomic_write, atomic_write_text

__all__ = ["LimitsResult", "expected_limits", "write_limits", "format_table"]


@dataclass
class LimitsResult:
    """Likelihood maps on one θ grid and their contour summary.

    Attributes
    ----------
    axes : list of ndarray
        Grid axes, one per parameter (in ``units``).
    maps : dict of str to ndarray, shape (T,)
        Expected q(θ) = −2Δlog L per map, T = product of the axis lengths.
    summary : dict
        JSON-able: data file, luminosity (pb⁻¹), θ*, grid, parameters, and per map the contour areas, open
        flags, best fit and (with a truth map) the comparison to the truth.
    parameters : list of str
    units : str
    theta_true : ndarray, shape (D,)
    lumi : float
        Integrated luminosity in pb⁻¹.
    """

    axes: list[np.ndarray]
    parameters: list[str]
    units: str
    theta_true: np.ndarray
    lumi: float
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)


def expected_limits(data: str | os.PathLike, *, models: Sequence[str | os.PathLike] = (),
                    histograms: Sequence[Sequence[str]] = (), truth: bool = False, lumi: float,
                    grid: str | Sequence[np.ndarray], theta_true: Sequence[float] | None = None,
                    binning: str = "auto", device: str = "cpu") -> LimitsResult:
    """Expected (Asimov) likelihood maps of estimators, histograms and the truth on a θ grid.

    Parameters
    ----------
    data : path-like
        Test event file (not the training file).
    models : sequence of path-like
        Saved estimator directories (any family: networks, ``bdt``); each map is named ``<method>_<dir name>``.
    histograms : sequence of sequence of str
        Observable names of 1-D or 2-D histogram baselines; each map is named ``histogram_<names>``.
    truth : bool
        Add the exact likelihood (needs a sample that carries it).
    lumi : float
        Integrated luminosity in pb⁻¹.
    grid : str or sequence of ndarray
        ``"low:high:n,low:high:n"`` or the axes themselves, one per parameter.
    theta_true : sequence of float, optional
        The true point θ* (default: the SM, all zeros).
    binning : {"auto", "reference"}
        Histogram bins (see :func:`lfi.evaluate.histogram_map`).
    device : str
        Where networks run.
    """
    import estimators

    if not (models or histograms or truth):
        raise ValueError("nothing to evaluate: give models, histograms or truth")
    sample = EventSample.load(data)
    axes = limits.grid_axes(grid) if isinstance(grid, str) else [np.asarray(a, float) for a in grid]
    if len(axes) != sample.n_parameters:
        raise ValueError(f"the grid has {len(axes)} axes but the sample has {sample.n_parameters} parameters")
    points = limits.grid_points(axes)
    theta_true = np.zeros(sample.n_parameters) if theta_true is None else np.asarray(theta_true, float)
    result = LimitsResult(axes, sample.parameters, sample.units, theta_true, float(lumi))
    if truth:
        result.maps["truth"] = truth_map(sample, points, theta_true, lumi)
    for names in histograms:
        result.maps["histogram_" + "_".join(names)] = histogram_map(sample, list(names), points, theta_true, lumi,
                                                                    binning=binning)
    for directory in models:
        estimator = estimators.load(directory)
        name = f"{estimator.metadata.get('method', 'model')}_{Path(directory).name}"
        result.maps[name] = estimator_map(estimator, sample, points, theta_true, lumi, device=device)
    result.summary = {"data": str(data), "lumi_pb": float(lumi), "theta_true": theta_true.tolist(),
                      "grid": grid if isinstance(grid, str) else [[float(a[0]), float(a[-1]), len(a)] for a in axes],
                      "parameters": sample.parameters, "maps": {}}
    for name, q in result.maps.items():
        entry = limits.contour_summary(q, axes)
        if "truth" in result.maps and name != "truth":
            entry["versus_truth"] = limits.map_difference(q, result.maps["truth"], axes)
        result.summary["maps"][name] = entry
    return result


def write_limits(result: LimitsResult, out: str | os.PathLike) -> list[Path]:
    """Write ``q_<name>.npy`` (q on the grid), ``p_<name>.npy`` (Wilks p-values), ``limits.json`` and, for two
    parameters, ``contours.png`` into ``out``; every file atomically. Returns the paths written."""
    out = Path(out)
    written = []
    for name, q in result.maps.items():
        p = limits.p_value(np.clip(q, 0.0, None), dof=len(result.axes))
        for prefix, values in (("q", q), ("p", p)):
            path = out / f"{prefix}_{name}.npy"
            with atomic_write(path) as tmp:
                np.save(tmp, values.reshape(result.shape))
            written.append(path)
    written.append(atomic_write_text(out / "limits.json", json.dumps(result.summary, indent=2)))
    if len(result.axes) == 2:
        from lfi.report import plot_contours

        written.append(plot_contours({k: v.reshape(result.shape) for k, v in result.maps.items()}, result.axes,
                                     out / "contours.png", parameters=result.parameters, units=result.units,
                                     theta_true=result.theta_true,
                                     title=f"expected limits, L = {result.lumi:g} pb⁻¹"))
    return written


def format_table(summary: dict) -> str:
    """Contour areas and best fit per map; "*" marks a region cut off by the grid edge (area = lower bound)."""
    lines, levels = [], None
    for name, entry in summary["maps"].items():
        if levels is None:
            levels = list(entry["areas"])
            lines.append(f"{'map':<32} " + " ".join(f"{'area ' + lv + '%':>15}" for lv in levels) + f"  {'best fit':>20}")
        cells = []
        for lv in levels:
            area = entry["areas"][lv]
            text = f"{area:.4g}" if area is not None else "nan"
            cells.append(f"{text + ('*' if entry['open'][lv] else ' '):>15}")
        best = ", ".join(f"{v:.3g}" for v in entry["best_fit"])
        lines.append(f"{name:<32} {' '.join(cells)}  {best:>20}")
    if any(any(e["open"].values()) for e in summary["maps"].values()):
        lines.append("* the region reaches the grid edge: its area is a lower bound (widen --grid)")
    return "\n".join(lines)
