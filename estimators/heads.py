"""Heads: event embedding (B, E) → classifier logits, log r̂(x|θ0, θ1) or score t̂(x).

Shapes: B events, E embedding width, D parameters, T parameter points, C morphing basis points.

- :class:`ClassifierHead` — n_classes logits (1 logit for two classes).
- :class:`RatioHead` — parameterised ratio: θ enters late, concatenated with the embedding, so a θ grid
  costs only head evaluations; log r̂(x|θ0, θ1) = f(x, θ0) − f(x, θ1).
- :class:`MorphingRatioHead` — morphing-aware ratio (Brehmer et al., arXiv:1805.00020, sect. 4.3): one
  output per basis benchmark, o_b(x) ≈ log p(x|θ_b)/p_ref(x); then
  p̂(x|θ)/p_ref(x) = Σ_b w_b(θ) σ_b exp(o_b(x)) / σ(θ), exact in structure because distributions morph
  like weights; a whole θ grid is one matrix product.
- :class:`ScoreHead` — t̂(x) with D outputs (SALLY).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

__all__ = ["ClassifierHead", "RatioHead", "MorphingRatioHead", "ScoreHead", "HEADS", "mlp_layers"]


def mlp_layers(n_in: int, hidden: Sequence[int], n_out: int, dropout: float = 0.0) -> nn.Sequential:
    """Linear → GELU (→ Dropout) blocks, then a linear output layer."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(n_in, width), nn.GELU()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        n_in = width
    layers.append(nn.Linear(n_in, n_out))
    return nn.Sequential(*layers)


class ClassifierHead(nn.Module):
    """Logits of ``n_classes`` classes, shape (B, n_classes); (B, 1) for two classes."""

    kind = "classifier"

    def __init__(self, *, embed_dim: int, n_classes: int = 2, hidden: Sequence[int] = (64,), dropout: float = 0.0):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"a classifier needs n_classes ≥ 2, got {n_classes}")
        self.n_classes = n_classes
        self.net = mlp_layers(embed_dim, hidden, 1 if n_classes == 2 else n_classes, dropout)
        self.config = {"n_classes": n_classes, "hidden": list(hidden), "dropout": dropout}

    def forward(self, embedding: Tensor) -> Tensor:
        return self.net(embedding)


class _ThetaScaling(nn.Module):
    """Standardises θ with fixed centre and scale (buffers, saved with the model)."""

    def __init__(self, centre: Sequence[float], scale: Sequence[float]):
        super().__init__()
        self.register_buffer("centre", torch.tensor(list(centre), dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(list(scale), dtype=torch.float32))

    def forward(self, theta: Tensor) -> Tensor:
        return (theta - self.centre) / self.scale


class RatioHead(nn.Module):
    """Parameterised log-ratio head: f(x, θ) = MLP([embedding, scaled θ]); log r̂(x|θ0, θ1) = f(x,θ0) − f(x,θ1).

    Parameters
    ----------
    embed_dim : int
    n_parameters : int
        D.
    theta_centre, theta_scale : sequence of float, length D
        θ is fed to the network as (θ − centre)/scale.
    hidden : sequence of int
    """

    kind = "ratio"

    def __init__(
        self,
        *,
        embed_dim: int,
        n_parameters: int,
        theta_centre: Sequence[float] | None = None,
        theta_scale: Sequence[float] | None = None,
        hidden: Sequence[int] = (128, 128),
        dropout: float = 0.0,
    ):
        super().__init__()
        theta_centre = list(theta_centre or [0.0] * n_parameters)
        theta_scale = list(theta_scale or [1.0] * n_parameters)
        self.n_parameters = n_parameters
        self.theta_scaling = _ThetaScaling(theta_centre, theta_scale)
        self.net = mlp_layers(embed_dim + n_parameters, hidden, 1, dropout)
        self.config = {
            "n_parameters": n_parameters,
            "theta_centre": theta_centre,
            "theta_scale": theta_scale,
            "hidden": list(hidden),
            "dropout": dropout,
        }

    def log_density(self, embedding: Tensor, theta: Tensor) -> Tensor:
        """f(x, θ) ≈ log p(x|θ) + const(x), shape (B,); θ of shape (B, D)."""
        return self.net(torch.cat([embedding, self.theta_scaling(theta).to(embedding.dtype)], dim=-1))[:, 0]

    def forward(self, embedding: Tensor, theta0: Tensor, theta1: Tensor) -> Tensor:
        """log r̂(x|θ0, θ1), shape (B,)."""
        return self.log_density(embedding, theta0) - self.log_density(embedding, theta1)

    def log_density_grid(self, embedding: Tensor, theta: Tensor, chunk: int = 64) -> Tensor:
        """f(x_n, θ_t) for all events and points, shape (N, T); θ fed again for every point."""
        n, out = len(embedding), []
        for start in range(0, len(theta), chunk):
            block = theta[start : start + chunk]
            emb = embedding.repeat_interleave(len(block), dim=0)
            th = block.repeat(n, 1)
            out.append(self.log_density(emb, th).view(n, len(block)))
        return torch.cat(out, dim=1)


class MorphingRatioHead(nn.Module):
    """Morphing-aware log-ratio head (one output per basis benchmark).

    Parameters
    ----------
    embed_dim : int
    components : list of list of int, shape (C, D)
        Monomial exponents (as in the event file).
    basis : list of list of float, shape (C, D)
        Basis points θ_b.
    basis_sigma : list of float, length C
        Cross sections σ_b in pb at the basis points (from the training sample).
    hidden : sequence of int
    """

    kind = "morphing_ratio"

    def __init__(
        self,
        *,
        embed_dim: int,
        components: Sequence[Sequence[int]],
        basis: Sequence[Sequence[float]],
        basis_sigma: Sequence[float],
        hidden: Sequence[int] = (128, 128),
        dropout: float = 0.0,
    ):
        super().__init__()
        import numpy as np

        from lfi.morphing import Morpher

        morpher = Morpher(np.asarray(components), np.asarray(basis))
        self.n_parameters = morpher.n_parameters
        self.register_buffer("components", torch.as_tensor(morpher.components, dtype=torch.float64))
        self.register_buffer("inverse", torch.as_tensor(morpher._inverse, dtype=torch.float64))
        self.register_buffer("log_sigma", torch.log(torch.as_tensor(list(basis_sigma), dtype=torch.float64)))
        self.net = mlp_layers(embed_dim, hidden, len(basis), dropout)
        self.config = {
            "components": [list(map(int, c)) for c in components],
            "basis": [list(map(float, b)) for b in basis],
            "basis_sigma": list(map(float, basis_sigma)),
            "hidden": list(hidden),
            "dropout": dropout,
        }

    def morphing_weights(self, theta: Tensor) -> Tensor:
        """w_b(θ), shape (T, C), differentiable in θ (float64 for exact cancellations)."""
        theta = theta.to(torch.float64)
        monomials = torch.prod(theta[:, None, :] ** self.components[None], dim=-1)
        return monomials @ self.inverse

    def component_log_ratios(self, embedding: Tensor) -> Tensor:
        """o_b(x) ≈ log p(x|θ_b)/p_ref(x), shape (B, C)."""
        return self.net(embedding)

    def _log_density(self, outputs: Tensor, weights: Tensor) -> Tensor:
        """log Σ_b w_b σ_b e^{o_b} − log Σ_b w_b σ_b for matched rows (B, C) × (B, C) → (B,)."""
        sigma_w = weights * torch.exp(self.log_sigma)
        shift = outputs.detach().max(dim=1, keepdim=True).values
        mixture = (sigma_w * torch.exp(outputs.to(torch.float64) - shift)).sum(dim=1)
        return torch.log(mixture.clamp_min(1e-300)) + shift[:, 0] - torch.log(sigma_w.sum(dim=1))

    def log_density(self, embedding: Tensor, theta: Tensor) -> Tensor:
        """log p̂(x|θ)/p_ref(x), shape (B,); θ of shape (B, D)."""
        return self._log_density(self.component_log_ratios(embedding), self.morphing_weights(theta)).to(embedding.dtype)

    def forward(self, embedding: Tensor, theta0: Tensor, theta1: Tensor) -> Tensor:
        """log r̂(x|θ0, θ1), shape (B,)."""
        outputs = self.component_log_ratios(embedding)
        w0, w1 = self.morphing_weights(theta0), self.morphing_weights(theta1)
        return (self._log_density(outputs, w0) - self._log_density(outputs, w1)).to(embedding.dtype)

    def log_density_grid(self, embedding: Tensor, theta: Tensor) -> Tensor:
        """log p̂(x_n|θ_t)/p_ref(x_n) for all events and points, shape (N, T): one matrix product."""
        outputs = self.component_log_ratios(embedding).to(torch.float64)
        shift = outputs.max(dim=1, keepdim=True).values
        sigma_w = self.morphing_weights(theta) * torch.exp(self.log_sigma)  # (T, C)
        mixture = torch.exp(outputs - shift) @ sigma_w.T  # (N, T)
        return torch.log(mixture.clamp_min(1e-300)) + shift - torch.log(sigma_w.sum(dim=1))[None, :]


class ScoreHead(nn.Module):
    """Local score t̂(x) at the reference point, shape (B, D) (SALLY, SALLINO)."""

    kind = "score"

    def __init__(self, *, embed_dim: int, n_parameters: int, hidden: Sequence[int] = (128, 128), dropout: float = 0.0):
        super().__init__()
        self.n_parameters = n_parameters
        self.net = mlp_layers(embed_dim, hidden, n_parameters, dropout)
        self.config = {"n_parameters": n_parameters, "hidden": list(hidden), "dropout": dropout}

    def forward(self, embedding: Tensor) -> Tensor:
        return self.net(embedding)


HEADS = {
    "classifier": ClassifierHead,
    "ratio": RatioHead,
    "morphing_ratio": MorphingRatioHead,
    "score": ScoreHead,
}
