"""Regular parameter grids: parse ``"low:high:n,low:high:n"``, build axes and the flattened point list.

Convention (used by every function of :mod:`lfi.limits`): a grid with axes a_0 (n_0 points), …, a_{D−1}
is flattened in C order, i.e. the last parameter varies fastest; q of shape (T,) with T = Π n_d reshapes
to (n_0, …, n_{D−1}).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lfi.errors import OptionError

__all__ = ["parse_grid", "grid_axes", "grid_points"]

GridSpec = str | Sequence[tuple[float, float, int]]


def parse_grid(spec: str) -> list[tuple[float, float, int]]:
    """Parse a grid specification ``"low:high:n[,low:high:n...]"``, one triple per parameter.

    Parameters
    ----------
    spec : str
        E.g. ``"-16.5:16.5:101,-16.5:16.5:101"`` (θ in the sample's units).

    Returns
    -------
    list of (low, high, n)

    Raises
    ------
    lfi.errors.OptionError
        (a ValueError) For a malformed triple, low ≥ high or n < 2; the message quotes the offending part.

    Examples
    --------
    >>> parse_grid("-1:1:3, 0:2:5")
    [(-1.0, 1.0, 3), (0.0, 2.0, 5)]
    """
    if not isinstance(spec, str) or not spec.strip():
        raise OptionError(f"grid spec must be a string like '-16.5:16.5:101,-16.5:16.5:101', got {spec!r}")
    out = []
    for part in spec.split(","):
        fields = part.strip().split(":")
        try:
            if len(fields) != 3:
                raise ValueError
            low, high, n_float = float(fields[0]), float(fields[1]), float(fields[2])
        except ValueError:
            raise OptionError(f"grid spec part {part.strip()!r} is not 'low:high:n' (in {spec!r})") from None
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise OptionError(f"grid spec part {part.strip()!r} needs finite low < high")
        if not np.isfinite(n_float) or n_float != int(n_float) or n_float < 2:
            raise OptionError(f"grid spec part {part.strip()!r} needs an integer number of points n ≥ 2")
        out.append((low, high, int(n_float)))
    return out


def grid_axes(spec: GridSpec) -> list[np.ndarray]:
    """Axes of a regular grid from a spec string or a sequence of ``(low, high, n)``.

    Returns
    -------
    list of D ndarrays
        ``numpy.linspace(low, high, n)`` per parameter.

    Examples
    --------
    >>> [a.tolist() for a in grid_axes("-1:1:3")]
    [[-1.0, 0.0, 1.0]]
    """
    triples = parse_grid(spec) if isinstance(spec, str) else [tuple(t) for t in spec]
    axes = []
    for j, t in enumerate(triples):
        if len(t) != 3:
            raise OptionError(f"grid axis {j} must be (low, high, n), got {t!r}")
        low, high, n = float(t[0]), float(t[1]), t[2]
        if (not (np.isfinite(low) and np.isfinite(high) and low < high) or not np.isfinite(n) or int(n) != n
                or n < 2):
            raise OptionError(f"grid axis {j} must have finite low < high and integer n ≥ 2, got {t!r}")
        axes.append(np.linspace(low, high, int(n)))
    return axes


def grid_points(axes: Sequence[np.ndarray]) -> np.ndarray:
    """All grid points, flattened in C order (last parameter fastest).

    Parameters
    ----------
    axes : sequence of D 1-D arrays

    Returns
    -------
    ndarray, shape (T, D), T = Π len(axes[d])

    Examples
    --------
    >>> grid_points([np.array([0.0, 1.0]), np.array([5.0, 6.0])]).tolist()
    [[0.0, 5.0], [0.0, 6.0], [1.0, 5.0], [1.0, 6.0]]
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in axes]
    if not arrays or any(a.ndim != 1 or len(a) < 1 for a in arrays):
        raise ValueError("axes must be a non-empty sequence of non-empty 1-D arrays")
    mesh = np.meshgrid(*arrays, indexing="ij")
    return np.stack([m.reshape(-1) for m in mesh], axis=1)
