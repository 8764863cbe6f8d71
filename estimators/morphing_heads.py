"""Morphing-aware ratio heads: the θ-dependence of p(x|θ) is an exact polynomial, learnt per event.

Shapes: B (or N) events, E embedding width, D parameters, T parameter points, C morphing components.
Both heads return log p̂(x|θ)/p_ref(x) up to a θ-independent term per event (it cancels in every ratio),
normalised with the sample's exact morphed cross section σ(θ) = Σ_b w_b(θ) σ_b.

- :class:`MorphingRatioHead` (``morphing_ratio``) — MadMiner's construction (Brehmer et al.,
  arXiv:1805.00020, sect. 4.3): one output per basis benchmark, o_b(x) ≈ log p(x|θ_b)/p_ref(x), and
  p̂(x|θ) ∝ Σ_b w_b(θ) σ_b exp(o_b(x)). Morphing weights w_b(θ) can be negative, so the mixture can reach
  zero or below when the o_b are not yet consistent; it is clamped there.
- :class:`AmplitudeRatioHead` (``amplitude_ratio``) — positive by construction, like a squared amplitude:
  dσ(x|θ) ∝ Σ_j (Σ_i L_ij(x) v_i(θ̃))² = v(θ̃)ᵀ L Lᵀ v(θ̃), with v the monomials of degree ≤ k = ⌈deg/2⌉ of
  the scaled parameters θ̃ and L(x) a lower-triangular network output. Amplitudes linear in θ give exactly this
  form (``docs/eft.md`` §4: production × decay is a sum over helicities of |M_prod(θ)|²|M_dec(θ)|²), so nothing is lost,
  and r̂ is finite and positive for every θ — which keeps ROLR/RASCAL's squared ratios tame.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from estimators.layers import mlp
from lfi.morphing import Morpher, monomial_components
from lfi.errors import OptionError

__all__ = ["MorphingRatioHead", "AmplitudeRatioHead"]


class _MorphingHead(nn.Module):
    """Shared buffers: exact morphing weights and the sample's σ(θ) (float64)."""

    kind = "ratio"

    def __init__(self, components: Sequence[Sequence[int]], basis: Sequence[Sequence[float]],
                 basis_sigma: Sequence[float]):
        super().__init__()
        morpher = Morpher(np.asarray(components), np.asarray(basis))
        self.n_parameters = morpher.n_parameters
        self.register_buffer("components", torch.as_tensor(morpher.components, dtype=torch.float64))
        self.register_buffer("inverse", torch.tensor(morpher.inverse, dtype=torch.float64))
        self.register_buffer("basis_sigma", torch.as_tensor(list(basis_sigma), dtype=torch.float64))
        self.morphing_config = {
            "components": [list(map(int, c)) for c in components],
            "basis": [list(map(float, b)) for b in basis],
            "basis_sigma": list(map(float, basis_sigma)),
        }

    def morphing_weights(self, theta: Tensor) -> Tensor:
        """w_b(θ), shape (T, C), differentiable in θ (float64 for exact cancellations)."""
        theta = theta.to(torch.float64)
        monomials = torch.prod(theta[:, None, :] ** self.components[None], dim=-1)
        return monomials @ self.inverse

    def log_sigma(self, theta: Tensor) -> Tensor:
        """log σ(θ) with σ in pb from the training sample's basis cross sections, shape (T,)."""
        return torch.log(self.morphing_weights(theta) @ self.basis_sigma)

    def forward(self, embedding: Tensor, theta0: Tensor, theta1: Tensor) -> Tensor:
        """log r̂(x|θ0, θ1), shape (B,); θ0, θ1 of shape (B, D). The per-event state is computed once for both."""
        state = self.grid_state(embedding)
        return (self.state_log_density(state, theta0) - self.state_log_density(state, theta1)).to(embedding.dtype)

    def log_density(self, embedding: Tensor, theta: Tensor) -> Tensor:
        """log p̂(x|θ)/p_ref(x) + const(x), shape (B,); θ of shape (B, D), one point per event."""
        return self.state_log_density(self.grid_state(embedding), theta)

    def log_density_grid(self, embedding: Tensor, theta: Tensor) -> Tensor:
        """log p̂(x_n|θ_t)/p_ref(x_n) for all events and points, shape (N, T)."""
        return self.grid_log_density(self.grid_state(embedding), theta)


class MorphingRatioHead(_MorphingHead):
    """MadMiner's morphing-aware head: one output per basis benchmark (see the module docstring).

    Parameters
    ----------
    embed_dim : int
    components : (C, D) int
        Monomial exponents, as in the event file.
    basis : (C, D) float
        Basis points θ_b.
    basis_sigma : (C,) float
        σ_b in pb at the basis points (training sample).
    hidden : sequence of int
    """

    def __init__(self, *, embed_dim: int, components: Sequence[Sequence[int]], basis: Sequence[Sequence[float]],
                 basis_sigma: Sequence[float], hidden: Sequence[int] = (128, 128), dropout: float = 0.0):
        super().__init__(components, basis, basis_sigma)
        self.net = mlp([embed_dim, *hidden, len(basis)], dropout=dropout)
        self.config = {**self.morphing_config, "hidden": list(hidden), "dropout": dropout}

    def component_log_ratios(self, embedding: Tensor) -> Tensor:
        """o_b(x) ≈ log p(x|θ_b)/p_ref(x), shape (B, C)."""
        return self.net(embedding)

    def _scaled_exp(self, embedding: Tensor) -> tuple[Tensor, Tensor]:
        """exp(o_b − max_b o_b) in float64, shape (B, C), and the shift, shape (B, 1)."""
        outputs = self.component_log_ratios(embedding).to(torch.float64)
        shift = outputs.detach().max(dim=1, keepdim=True).values
        return torch.exp(outputs - shift), shift

    def state_log_density(self, state: tuple[Tensor, Tensor], theta: Tensor) -> Tensor:
        """log p̂(x|θ)/p_ref(x) from :meth:`grid_state`, shape (B,); θ of shape (B, D), one point per event."""
        scaled, shift = state
        mixture = (scaled * self.morphing_weights(theta) * self.basis_sigma).sum(dim=1)
        return torch.log(mixture.clamp_min(1e-300)) + shift[:, 0] - self.log_sigma(theta)

    def grid_state(self, embedding: Tensor) -> tuple[Tensor, Tensor]:
        """Per-event quantities that every grid point reuses: exp(o_b − shift) (N, C) and the shift (N, 1)."""
        return self._scaled_exp(embedding)

    def grid_log_density(self, state: tuple[Tensor, Tensor], theta: Tensor) -> Tensor:
        """log p̂(x_n|θ_t)/p_ref(x_n) from :meth:`grid_state`, shape (N, T): one matrix product."""
        scaled, shift = state
        mixture = scaled @ (self.morphing_weights(theta) * self.basis_sigma).T  # (N, T)
        return torch.log(mixture.clamp_min(1e-300)) + shift - self.log_sigma(theta)[None, :]


class AmplitudeRatioHead(_MorphingHead):
    """Positive sum-of-squares polynomial head (see the module docstring).

    Parameters
    ----------
    embed_dim : int
    components, basis, basis_sigma
        As for :class:`MorphingRatioHead` (they fix σ(θ) and the polynomial degree).
    theta_scale : sequence of float, length D, optional
        θ̃ = θ / theta_scale inside the polynomial (default: the largest |θ_b| per parameter), so that the
        network's O(1) outputs meet O(1) monomials.
    hidden : sequence of int
    """

    def __init__(self, *, embed_dim: int, components: Sequence[Sequence[int]], basis: Sequence[Sequence[float]],
                 basis_sigma: Sequence[float], theta_scale: Sequence[float] | None = None,
                 hidden: Sequence[int] = (128, 128), dropout: float = 0.0):
        super().__init__(components, basis, basis_sigma)
        comps = np.asarray(components, dtype=int)
        degree = int(comps.sum(axis=1).max())
        half = monomial_components(comps.shape[1], (degree + 1) // 2)  # (K, D)
        k = len(half)
        lookup = {tuple(c): i for i, c in enumerate(comps)}
        products = np.zeros((k * k, len(comps)))
        for i in range(k):
            for j in range(k):
                key = tuple(half[i] + half[j])
                if key not in lookup:
                    if sum(key) <= degree:
                        raise OptionError(f"amplitude_ratio needs every monomial up to degree {degree}; {key} is missing")
                    continue
                products[i * k + j, lookup[key]] = 1.0
        if theta_scale is None:
            theta_scale = np.maximum(np.abs(np.asarray(basis, float)).max(axis=0), 1e-12).tolist()
        self.k = k
        self.register_buffer("half_components", torch.as_tensor(half, dtype=torch.float64))
        self.register_buffer("products", torch.as_tensor(products, dtype=torch.float64))
        self.register_buffer("theta_scale", torch.as_tensor(list(theta_scale), dtype=torch.float64))
        self.register_buffer("tril", torch.tril_indices(k, k), persistent=False)
        self.net = mlp([embed_dim, *hidden, k * (k + 1) // 2], dropout=dropout)
        self.config = {**self.morphing_config, "theta_scale": list(map(float, theta_scale)), "hidden": list(hidden),
                       "dropout": dropout}

    def _scaled_monomials(self, theta: Tensor) -> Tensor:
        """α_c(θ̃) of the sample's components at the scaled parameters, shape (T, C)."""
        scaled = theta.to(torch.float64) / self.theta_scale
        return torch.prod(scaled[:, None, :] ** self.components[None], dim=-1)

    def polynomial_coefficients(self, embedding: Tensor) -> Tensor:
        """a_c(x) with p̃(x|θ) = Σ_c a_c(x) α_c(θ̃) ≥ 0 for every θ, shape (B, C), float64."""
        out = self.net(embedding).to(torch.float64)
        lower = out.new_zeros(len(out), self.k, self.k)
        lower[:, self.tril[0], self.tril[1]] = out
        gram = lower @ lower.transpose(1, 2)  # (B, K, K), positive semi-definite
        return gram.reshape(len(out), -1) @ self.products

    def _floor(self, coefficients: Tensor) -> Tensor:
        """A tiny positive floor, relative to the event's constant term, keeps log p̃ finite."""
        return 1e-12 * coefficients[:, :1].abs() + 1e-300

    def state_log_density(self, a: Tensor, theta: Tensor) -> Tensor:
        """log p̂(x|θ)/p_ref(x) + const(x) from :meth:`grid_state`, shape (B,); θ of shape (B, D), one point per event."""
        value = (a * self._scaled_monomials(theta)).sum(dim=1, keepdim=True)
        return torch.log(value + self._floor(a))[:, 0] - self.log_sigma(theta)

    def grid_state(self, embedding: Tensor) -> Tensor:
        """Per-event polynomial coefficients a_c(x), shape (N, C), reused by every grid point."""
        return self.polynomial_coefficients(embedding)

    def grid_log_density(self, state: Tensor, theta: Tensor) -> Tensor:
        """log p̂(x_n|θ_t)/p_ref(x_n) + const(x_n) from :meth:`grid_state`, shape (N, T): one matrix product."""
        return torch.log(state @ self._scaled_monomials(theta).T + self._floor(state)) - self.log_sigma(theta)[None, :]
