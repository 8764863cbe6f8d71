"""Interpretation of trained encoders: linear centred kernel alignment (CKA) between layer representations
(Kornblith, Norouzi, Lee, Hinton, arXiv:1905.00414), as a matrix and a heat map.

For representations X (N, p) and Y (N, q) of the same N events, column-centred,
CKA(X, Y) = ‖Yᵀ X‖²_F / (‖Xᵀ X‖_F · ‖Yᵀ Y‖_F): 1 for representations equal up to rotation and isotropic
scaling, 0 for orthogonal ones; invariant under orthogonal transforms and scaling, not under arbitrary
invertible linear maps.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = ["linear_cka", "cka_matrix", "plot_cka"]


def _centred(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise ValueError(f"a representation must have shape (N, features), got {x.shape}")
    return x - x.mean(axis=0, keepdims=True)


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of two representations of the same events.

    Parameters
    ----------
    x : ndarray, shape (N, p)
    y : ndarray, shape (N, q)

    Returns
    -------
    float
        In [0, 1]; NaN if either representation is constant.
    """
    x, y = _centred(x), _centred(y)
    if len(x) != len(y):
        raise ValueError(f"representations of different events: {len(x)} and {len(y)} rows")
    cross = np.linalg.norm(y.T @ x) ** 2
    norm = np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)
    return float(cross / norm) if norm > 0 else float("nan")


def cka_matrix(rows: Sequence[np.ndarray], columns: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """CKA between every pair of representations, shape (len(rows), len(columns)); ``columns`` defaults to
    ``rows`` (a symmetric matrix with ones on the diagonal)."""
    columns = rows if columns is None else columns
    return np.array([[linear_cka(a, b) for b in columns] for a in rows])


def plot_cka(matrix: np.ndarray, path: str | os.PathLike, *, row_labels: Sequence[str],
             column_labels: Sequence[str] | None = None, title: str | None = None,
             xlabel: str = "layer", ylabel: str = "layer") -> list[Path]:
    """Heat map of a CKA matrix with the values written in the cells; PNG and PDF."""
    from lfi.roc_figure import _pyplot, finish_figure

    plt, mplhep = _pyplot()
    column_labels = list(row_labels if column_labels is None else column_labels)
    with plt.style.context(mplhep.style.ROOT):
        size = max(6.0, 1.5 + 0.8 * max(len(row_labels), len(column_labels)))
        fig, ax = plt.subplots(figsize=(size + 2, size))
        image = ax.imshow(matrix, vmin=0, vmax=1, cmap="viridis", origin="lower")
        bar = fig.colorbar(image, ax=ax)
        bar.set_label("linear CKA", fontsize=16)
        bar.ax.tick_params(labelsize=12)
        ax.minorticks_off()
        ax.tick_params(top=False, right=False)
        ax.set_xticks(range(len(column_labels)), column_labels, rotation=45, ha="right", fontsize=11)
        ax.set_yticks(range(len(row_labels)), row_labels, fontsize=11)
        for (i, j), value in np.ndenumerate(matrix):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=9,
                    color="black" if value > 0.6 else "white")
        ax.set_xlabel(xlabel, fontsize=16)
        ax.set_ylabel(ylabel, fontsize=16)
        return finish_figure(fig, path, ax=ax, title=title)
