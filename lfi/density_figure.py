"""How good a learned density is: histograms of events drawn from it over simulated events weighted at the same θ."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from lfi.errors import UnknownNameError

__all__ = ["plot_sampled_against_simulated"]


def plot_sampled_against_simulated(observables: Sequence[str], points: Sequence[Sequence[float]],
                                   drawn: Sequence[np.ndarray], sample, path: str | os.PathLike,
                                   n_bins: int = 40) -> Path:
    """One row per θ, one column per observable: normalised histograms of the drawn events (steps) and of the
    simulated events weighted by w(θ) (filled); the ratio drawn/simulated is what a good density keeps near one.

    Parameters
    ----------
    observables : sequence of str, length K
    points : sequence of (D,) parameter points, length P
    drawn : sequence of ndarray, shape (n, K), one per point
    sample : lfi.events.EventSample
        Simulated events with morphing and the observables.
    path : path-like
        The PNG to write (a PDF beside it).

    Returns
    -------
    Path
        The PNG.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lfi.roc_figure import save_figure

    missing = [name for name in observables if name not in sample.observables]
    if missing:
        raise UnknownNameError(f"--compare: no observable {missing[0]!r} in the simulated sample")
    fig, axes = plt.subplots(len(points), len(observables), figsize=(3.2 * len(observables), 2.6 * len(points)),
                             squeeze=False)
    for row, (theta, x) in enumerate(zip(points, drawn)):
        weights = sample.weights_at(np.asarray(theta, float))
        for col, name in enumerate(observables):
            simulated = sample.observables[name].astype(float)
            edges = np.quantile(simulated, [0.005, 0.995])
            bins = np.linspace(*edges, n_bins + 1)
            ax = axes[row, col]
            ax.hist(simulated, bins=bins, weights=weights, density=True, alpha=0.35, label="simulated, w(θ)")
            ax.hist(x[:, col], bins=bins, density=True, histtype="step", lw=1.5, label="drawn from the flow")
            ax.set_xlabel(name, fontsize=8)
            ax.tick_params(labelsize=7)
            if col == 0:
                ax.set_ylabel(f"θ = ({', '.join(f'{v:g}' for v in theta)})", fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    written = save_figure(fig, Path(path))
    plt.close(fig)
    return written[0]
