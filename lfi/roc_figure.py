"""ROC figures in the HEP convention: background rejection 1/ε_B (log scale) against signal efficiency ε_S,
optionally with a ratio panel to a reference classifier; and a line figure of one metric against a scanned
quantity (AUC against training-set size). mplhep style; PNG and PDF side by side."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from lfi.files import atomic_write

__all__ = ["plot_roc", "plot_metric_curves", "save_figure", "finish_figure", "line_styles"]


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    return plt, mplhep


def save_figure(fig, path: str | os.PathLike) -> list[Path]:
    """Write ``fig`` as ``path`` (PNG) and the same name with ``.pdf``, each atomically; returns both paths."""
    path = Path(path)
    written = []
    for target in (path.with_suffix(".png"), path.with_suffix(".pdf")):
        with atomic_write(target) as tmp:
            fig.savefig(tmp, format=target.suffix[1:], dpi=150, bbox_inches="tight")
        written.append(target)
    return written


def finish_figure(fig, path: str | os.PathLike, *, ax=None, title: str | None = None) -> list[Path]:
    """Set ``title`` on ``ax``, lay out, write PNG and PDF (:func:`save_figure`) and close the figure."""
    import matplotlib.pyplot as plt

    if title and ax is not None:
        ax.set_title(title, fontsize=13)
    fig.tight_layout()
    try:
        return save_figure(fig, path)
    finally:
        plt.close(fig)


def line_styles(n: int) -> list[dict]:
    """``n`` distinguishable line styles: the ten tab10 colours, then the same with dashed, dotted … lines."""
    import matplotlib.pyplot as plt

    colours = plt.cm.tab10.colors
    dashes = ["-", "--", ":", "-."]
    return [{"color": colours[i % 10], "linestyle": dashes[(i // 10) % 4]} for i in range(n)]


def _plain_log_ticks(ax, axis: str = "y") -> None:
    """Log-axis tick labels as plain numbers (1, 10, 100, 1000 …) instead of 5 × 10⁰, no minor labels."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())


def plot_roc(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], path: str | os.PathLike, *,
             reference: str | None = None, bands: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
             title: str | None = None, label: str | None = None) -> list[Path]:
    """Rejection 1/ε_B against ε_S for each curve, log y; with ``reference``, a lower panel with each
    curve's rejection divided by the reference's.

    Parameters
    ----------
    curves : mapping of str to (eps_s, eps_b)
        Legend label → arrays of equal length (ε_B may hold NaN where a working point is not reached).
    path : path-like
        Output PNG; a PDF of the same name is written beside it.
    reference : str, optional
        The key of ``curves`` that the ratio panel divides by.
    bands : mapping of str to (low, high), optional
        Rejection band (e.g. ± one standard deviation over seeds) drawn around the curve of the same key.
    title : str, optional
    label : str, optional
        Experiment-style label text in the corner (e.g. the sample and √s).

    Returns
    -------
    list of Path
        The PNG and the PDF.
    """
    plt, mplhep = _pyplot()
    with plt.style.context(mplhep.style.ROOT):
        if reference is not None:
            fig, (ax, ratio) = plt.subplots(2, 1, figsize=(8, 8), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        else:
            fig, ax = plt.subplots(figsize=(8, 6.5))
            ratio = None
        for (key, (eps_s, eps_b)), style in zip(curves.items(), line_styles(len(curves))):
            eps_s, eps_b = np.asarray(eps_s, float), np.asarray(eps_b, float)
            with np.errstate(divide="ignore", invalid="ignore"):
                rejection = np.where(eps_b > 0, 1.0 / eps_b, np.nan)
            line, = ax.plot(eps_s, rejection, label=key, lw=1.8, **style)
            if bands and key in bands:
                low, high = bands[key]
                ax.fill_between(eps_s, low, high, color=line.get_color(), alpha=0.25, lw=0)
            if ratio is not None:
                ref_s, ref_b = (np.asarray(a, float) for a in curves[reference])
                with np.errstate(divide="ignore", invalid="ignore"):
                    ref_rejection = np.interp(eps_s, ref_s, np.where(ref_b > 0, 1.0 / ref_b, np.nan))
                    ratio.plot(eps_s, rejection / ref_rejection, lw=1.5, **style)
        ax.set_yscale("log")
        _plain_log_ticks(ax)
        ax.set_ylabel(r"Background rejection $1/\varepsilon_B$")
        ax.legend(fontsize=11, ncol=2 if len(curves) > 6 else 1, loc="upper right")
        ax.grid(True, which="both", alpha=0.3)
        if label:
            ax.text(0.03, 0.04, label, transform=ax.transAxes, fontsize=11)
        bottom = ratio if ratio is not None else ax
        bottom.set_xlabel(r"Signal efficiency $\varepsilon_S$")
        bottom.set_xlim(0, 1)
        if ratio is not None:
            ratio.axhline(1.0, color="grey", lw=1, ls="--")
            ratio.set_ylim(0.5, 1.5)
            ratio.set_ylabel(f"ratio to\n{reference}", fontsize=12)
            ratio.grid(True, alpha=0.3)
        return finish_figure(fig, path, ax=ax, title=title)


def plot_metric_curves(curves: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float] | None]],
                       path: str | os.PathLike, *, xlabel: str, ylabel: str, logx: bool = True,
                       title: str | None = None) -> list[Path]:
    """One metric against a scanned quantity (e.g. AUC against training events), one line per model.

    Parameters
    ----------
    curves : mapping of str to (x, y, yerr or None)
    path : path-like
        Output PNG (and PDF beside it).
    """
    plt, mplhep = _pyplot()
    with plt.style.context(mplhep.style.ROOT):
        fig, ax = plt.subplots(figsize=(8, 6))
        for key, (x, y, err) in curves.items():
            ax.errorbar(x, y, yerr=err, marker="o", capsize=3, lw=1.8, label=key)
        if logx:
            ax.set_xscale("log")
            _plain_log_ticks(ax, "x")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=12)
        return finish_figure(fig, path, ax=ax, title=title)
