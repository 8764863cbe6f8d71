"""Morphing: exact interpolation of weights that are polynomials in the parameters θ.

If dσ(z|θ) = Σ_c α_c(θ) g_c(z) with monomials α_c(θ) = Π_d θ_d^{k_cd}, then weights stored at C basis
points θ_b with invertible A_bc = α_c(θ_b) give the weight at any θ as
w(z|θ) = Σ_b [α(θ)ᵀ A⁻¹]_b w(z|θ_b)  (docs/method.md §3; Brehmer et al., arXiv:1805.00020).

Shapes: T parameter points, D parameters, C components = C basis points.
"""

from __future__ import annotations

import itertools

import numpy as np

from lfi.errors import OptionError

__all__ = ["Morpher", "monomial_components"]


def monomial_components(n_parameters: int, max_degree: int) -> np.ndarray:
    """All monomial exponents with total degree ≤ ``max_degree``.

    Ordered by total degree, then lexicographically with the first parameter's power descending,
    e.g. for two parameters and degree 2: 1, θ0, θ1, θ0², θ0θ1, θ1².

    Returns
    -------
    ndarray, shape (C, D), int32
        C = binom(max_degree + D, D).
    """
    if n_parameters < 1 or max_degree < 0:
        raise ValueError(f"need n_parameters ≥ 1 and max_degree ≥ 0, got {n_parameters}, {max_degree}")
    rows = []
    for degree in range(max_degree + 1):
        for powers in itertools.product(range(degree, -1, -1), repeat=n_parameters):
            if sum(powers) == degree:
                rows.append(powers)
    return np.array(rows, dtype=np.int32)


class Morpher:
    """Morphing weights w_b(θ) and their gradients for a fixed set of components and basis points.

    Parameters
    ----------
    components : array_like, shape (C, D), int
        Monomial exponents.
    basis : array_like, shape (C, D), float
        Basis points θ_b (same units as the θ passed later).

    Examples
    --------
    >>> m = Morpher(monomial_components(1, 2), [[-1.0], [0.0], [1.0]])
    >>> m.weights([[0.5]]).round(3)
    array([[-0.125,  0.75 ,  0.375]])
    """

    def __init__(self, components: np.ndarray, basis: np.ndarray):
        self.components = np.asarray(components, dtype=np.int32)
        if self.components.ndim != 2:
            raise ValueError(f"components must have shape (C, D), got {self.components.shape}")
        self.basis = np.asarray(basis, dtype=np.float64).reshape(len(self.components), -1)
        if self.basis.shape != self.components.shape:
            raise ValueError(
                f"need one basis point per component: components {self.components.shape}, basis {self.basis.shape}"
            )
        matrix = self.monomials(self.basis)  # A_bc
        self.condition_number = float(np.linalg.cond(matrix))
        if not np.isfinite(self.condition_number) or self.condition_number > 1e14:
            # The basis points are chosen by a user (benchmarks of a simulation, an import, a file).
            raise OptionError(f"morphing basis is singular (condition number {self.condition_number:.3g}); pick other points")
        self._inverse = np.linalg.inv(matrix)  # (C components, C basis)
        self._inverse.setflags(write=False)

    @property
    def inverse(self) -> np.ndarray:
        """Inverse of the basis monomial matrix A_bc = α_c(θ_b), shape (C components, C basis), read-only.

        The morphing weights are w(θ) = α(θ) @ inverse, so a whole θ grid morphs with one matrix product.
        """
        return self._inverse

    @property
    def n_components(self) -> int:
        return len(self.components)

    @property
    def n_parameters(self) -> int:
        return self.components.shape[1]

    def _theta(self, theta: np.ndarray) -> np.ndarray:
        theta = np.asarray(theta, dtype=np.float64)
        theta = theta.reshape(-1, self.n_parameters) if theta.ndim < 2 else theta
        if theta.shape[-1] != self.n_parameters:
            raise ValueError(f"θ has {theta.shape[-1]} parameters, the morphing has {self.n_parameters}")
        return theta

    def monomials(self, theta: np.ndarray) -> np.ndarray:
        """α_c(θ), shape (T, C)."""
        theta = self._theta(theta)
        return np.prod(theta[:, None, :] ** self.components[None, :, :], axis=-1)

    def monomial_gradients(self, theta: np.ndarray) -> np.ndarray:
        """∂α_c/∂θ_d, shape (T, D, C)."""
        theta = self._theta(theta)
        k = self.components
        out = np.empty((len(theta), self.n_parameters, self.n_components))
        for d in range(self.n_parameters):
            lowered = k.copy()
            lowered[:, d] = np.maximum(k[:, d] - 1, 0)
            out[:, d, :] = k[:, d] * np.prod(theta[:, None, :] ** lowered[None], axis=-1)
        return out

    def monomial_hessians(self, theta: np.ndarray) -> np.ndarray:
        """∂²α_c/∂θ_d∂θ_e, shape (T, D, D, C)."""
        theta = self._theta(theta)
        k = self.components
        out = np.empty((len(theta), self.n_parameters, self.n_parameters, self.n_components))
        for d in range(self.n_parameters):
            for e in range(self.n_parameters):
                factor = k[:, d] * (k[:, e] - (d == e))
                lowered = k.copy()
                lowered[:, d] -= 1
                lowered[:, e] -= 1
                power = np.prod(theta[:, None, :] ** np.maximum(lowered, 0)[None], axis=-1)
                out[:, d, e, :] = np.where(factor != 0, factor * power, 0.0)
        return out

    def weights(self, theta: np.ndarray) -> np.ndarray:
        """Morphing weights w_b(θ) with w(z|θ) = Σ_b w_b(θ) w(z|θ_b), shape (T, C)."""
        return self.monomials(theta) @ self._inverse

    def weight_gradients(self, theta: np.ndarray) -> np.ndarray:
        """∂w_b/∂θ_d, shape (T, D, C)."""
        return self.monomial_gradients(theta) @ self._inverse

    def coefficients(self, basis_values: np.ndarray) -> np.ndarray:
        """Polynomial coefficients from values at the basis points.

        Parameters
        ----------
        basis_values : ndarray, shape (..., C)
            E.g. event weights at the basis benchmarks, shape (N, C).

        Returns
        -------
        ndarray, shape (..., C)
            Coefficients a_c with value(θ) = Σ_c a_c α_c(θ).
        """
        return np.asarray(basis_values) @ self._inverse.T

    def max_squared_weight_sum(self, low: np.ndarray, high: np.ndarray, n_grid: int = 21) -> float:
        """max over a regular grid in the box [low, high] of Σ_b w_b(θ)²."""
        return float((self.weights(_box_grid(low, high, n_grid)) ** 2).sum(axis=1).max())

    @classmethod
    def optimized(
        cls,
        components: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        n_trials: int = 400,
        seed: int = 0,
        n_grid: int = 11,
    ) -> "Morpher":
        """A basis inside the box [low, high] that keeps max Σ_b w_b(θ)² over the box small.

        Random search over basis points drawn uniformly in the box (MadMiner does the same), plus
        a local refinement that moves one point at a time. Smaller Σw² means smaller statistical
        fluctuations of morphed weights. ``condition_number`` of the result reports A's conditioning.
        """
        components = np.asarray(components, dtype=np.int32)
        low, high = np.asarray(low, float), np.asarray(high, float)
        rng = np.random.default_rng(seed)
        grid = _box_grid(low, high, n_grid)
        mono_grid = None

        def score(points: np.ndarray) -> float:
            nonlocal mono_grid
            matrix = np.prod(points[:, None, :] ** components[None], axis=-1)
            if np.linalg.cond(matrix) > 1e12:
                return np.inf
            if mono_grid is None:
                mono_grid = np.prod(grid[:, None, :] ** components[None], axis=-1)
            w = np.linalg.solve(matrix.T, mono_grid.T)  # (C, T)
            return float((w**2).sum(axis=0).max())

        best = rng.uniform(low, high, size=components.shape)
        best_score = score(best)
        for _ in range(n_trials):
            trial = rng.uniform(low, high, size=components.shape)
            s = score(trial)
            if s < best_score:
                best, best_score = trial, s
        scale = (high - low) / 4
        for _ in range(n_trials):
            trial = best.copy()
            i = rng.integers(len(trial))
            trial[i] = np.clip(trial[i] + rng.normal(0, 1, len(low)) * scale, low, high)
            s = score(trial)
            if s < best_score:
                best, best_score = trial, s
            else:
                scale = scale * 0.995
        return cls(components, best)


def _box_grid(low: np.ndarray, high: np.ndarray, n_grid: int) -> np.ndarray:
    """Regular grid with n_grid points per axis in the box [low, high], shape (n_grid**D, D)."""
    axes = [np.linspace(lo, hi, n_grid) for lo, hi in zip(np.atleast_1d(low), np.atleast_1d(high))]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))
