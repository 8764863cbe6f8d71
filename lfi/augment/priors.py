"""Priors over the parameters θ from which training points are drawn.

Every prior has ``sample(n, rng) -> ndarray of shape (n, D)`` and ``n_parameters``. A prior that cannot work
(low ≥ high, a non-positive width, unreadable text) is an :class:`lfi.errors.OptionError` (a ValueError).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfi.errors import OptionError

__all__ = ["GridPrior", "UniformPrior", "GaussianPrior", "PointPrior", "parse_prior"]


@dataclass(frozen=True)
class PointPrior:
    """Always the same point θ, shape (D,)."""

    theta: tuple[float, ...]

    @property
    def n_parameters(self) -> int:
        return len(self.theta)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.tile(np.asarray(self.theta, float), (n, 1))


@dataclass(frozen=True)
class UniformPrior:
    """Uniform in the box [low, high], each of length D."""

    low: tuple[float, ...]
    high: tuple[float, ...]

    def __post_init__(self) -> None:
        if (len(self.low) != len(self.high) or any(h <= lo for lo, h in zip(self.low, self.high))
                or not np.all(np.isfinite(np.r_[self.low, self.high]))):
            raise OptionError(f"uniform prior needs low < high in every parameter, got {self.low}, {self.high}")

    @property
    def n_parameters(self) -> int:
        return len(self.low)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=(n, len(self.low)))


@dataclass(frozen=True)
class GaussianPrior:
    """Independent Gaussians with the given means and standard deviations (length D each)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        if (len(self.mean) != len(self.std) or any(s <= 0 for s in self.std)
                or not np.all(np.isfinite(np.r_[self.mean, self.std]))):
            raise OptionError(f"gaussian prior needs one positive std per mean, got {self.mean}, {self.std}")

    @property
    def n_parameters(self) -> int:
        return len(self.mean)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.normal(self.mean, self.std, size=(n, len(self.mean)))


@dataclass(frozen=True)
class GridPrior:
    """Uniform over the points of a regular grid: ``axes[d]`` lists the values of parameter d."""

    axes: tuple[tuple[float, ...], ...]

    @property
    def n_parameters(self) -> int:
        return len(self.axes)

    @property
    def points(self) -> np.ndarray:
        """All grid points, shape (prod len(axes[d]), D)."""
        mesh = np.meshgrid(*[np.asarray(a, float) for a in self.axes], indexing="ij")
        return np.stack(mesh, axis=-1).reshape(-1, len(self.axes))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        points = self.points
        return points[rng.integers(len(points), size=n)]


def parse_prior(spec: str, n_parameters: int):
    """A prior from a short text, as used on the command line.

    ``"uniform:-1:1"`` (same range for every parameter), ``"gaussian:0:0.5"``,
    ``"grid:-1:1:11"`` (11 points per axis), ``"point:0.5,-0.2"``.
    """
    kind, _, rest = spec.partition(":")
    try:
        values = [float(v) for v in rest.replace(",", ":").split(":")] if rest else []
        if kind == "uniform" and len(values) == 2:
            return UniformPrior((values[0],) * n_parameters, (values[1],) * n_parameters)
        if kind == "gaussian" and len(values) == 2:
            return GaussianPrior((values[0],) * n_parameters, (values[1],) * n_parameters)
        if (kind == "grid" and len(values) == 3 and np.all(np.isfinite(values)) and values[2] == int(values[2])
                and values[2] >= 1 and values[0] <= values[1]):
            axis = tuple(np.linspace(values[0], values[1], int(values[2])).tolist())
            return GridPrior((axis,) * n_parameters)
        if kind == "point" and len(values) == n_parameters and np.all(np.isfinite(values)):
            return PointPrior(tuple(values))
    except (ValueError, OverflowError):  # includes OptionError from the prior classes
        pass
    raise OptionError(
        f"cannot read prior {spec!r}; use uniform:LOW:HIGH, gaussian:MEAN:STD, grid:LOW:HIGH:N "
        f"or point:V1,...,V{n_parameters}"
    )
