"""Figure of a coverage study: the toys' q at the test point against the χ² density Wilks' theorem predicts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


__all__ = ["plot_coverage"]


def plot_coverage(result: dict, path: str | os.PathLike) -> Path:
    """One panel per map and test point: the normalised histogram of the toys' q(θ), the χ² density with D degrees
    of freedom, the Wilks thresholds (dashed) and the Neyman critical values (solid) at each CL. Writes the PNG and a
    PDF beside it; returns the PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import chi2

    from lfi.report import map_label
    from lfi.roc_figure import finish_figure

    panels = [(entry, name, m) for entry in result["points"] for name, m in entry["maps"].items()]
    dof = len(result["points"][0]["theta"])
    columns = min(3, len(panels))
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.4 * rows), dpi=120, squeeze=False)
    for ax, (entry, name, m) in zip(axes.flat, panels):
        q = np.clip(np.asarray(m["q"]), 0.0, None)
        top = max(float(np.quantile(q, 0.995)), 2.0 * max(result["wilks_thresholds"].values()))
        ax.hist(q, bins=np.linspace(0.0, top, 31), density=True, color="grey", alpha=0.5, label=f"{len(q)} toys")
        grid = np.linspace(0.0, top, 300)
        ax.plot(grid, chi2.pdf(grid, dof), color="black", lw=1.4, label=f"χ² ({dof} d.o.f.)")
        for (level, wilks), colour in zip(result["wilks_thresholds"].items(), plt.cm.tab10.colors):
            ax.axvline(wilks, color=colour, ls="dashed", lw=1.0)
            ax.axvline(m["neyman_critical_value"][level], color=colour, lw=1.4,
                       label=f"{level} %: covered {m['covered'][level]:.3f} ± {m['binomial_error'][level]:.3f}")
        ax.set_title(f"{result.get('labels', {}).get(name) or map_label(name)} at θ = ({', '.join(f'{v:g}' for v in entry['theta'])})", fontsize=8)
        ax.set_xlabel("q(θ) of each toy")
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("coverage of the Wilks contours: dashed Wilks thresholds, solid Neyman critical values", fontsize=9)
    return finish_figure(fig, path)[0]
