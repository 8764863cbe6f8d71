"""Heads: event embedding (B, E) → classifier logits, log r̂(x|θ0, θ1) or score t̂(x).

Shapes: B events, E embedding width, D parameters, T parameter points, C morphing basis points.

- :class:`ClassifierHead` — n_classes logits (1 logit for two classes).
- :class:`RatioHead` — parameterised ratio: θ enters late, concatenated with the embedding, so a θ grid
  costs only head evaluations; log r̂(x|θ0, θ1) = f(x, θ0) − f(x, θ1).
- :class:`~estimators.morphing_heads.MorphingRatioHead` and
  :class:`~estimators.morphing_heads.AmplitudeRatioHead` — morphing-aware ratios (their own module): the
  θ-dependence is an exact polynomial, so a whole θ grid is one matrix product.
- :class:`ScoreHead` — t̂(x) with D outputs (SALLY).
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from estimators.layers import mlp
from estimators.morphing_heads import AmplitudeRatioHead, MorphingRatioHead

__all__ = ["ClassifierHead", "RatioHead", "ScoreHead", "HEADS"]


class ClassifierHead(nn.Module):
    """Logits of ``n_classes`` classes, shape (B, n_classes); (B, 1) for two classes."""

    kind = "classifier"

    def __init__(self, *, embed_dim: int, n_classes: int = 2, hidden: Sequence[int] = (64,), dropout: float = 0.0):
        super().__init__()
        if n_classes < 2:
            raise ValueError(f"a classifier needs n_classes ≥ 2, got {n_classes}")
        self.n_classes = n_classes
        self.net = mlp([embed_dim, *hidden, 1 if n_classes == 2 else n_classes], dropout=dropout)
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
        self.net = mlp([embed_dim + n_parameters, *hidden, 1], dropout=dropout)
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

    def grid_state(self, embedding: Tensor) -> Tensor:
        """What every grid point reuses: the embedding itself (θ enters the network)."""
        return embedding

    def grid_log_density(self, state: Tensor, theta: Tensor) -> Tensor:
        """f(x_n, θ_t), shape (N, T), from :meth:`grid_state`."""
        return self.log_density_grid(state, theta)

    def log_density_grid(self, embedding: Tensor, theta: Tensor, rows: int = 1 << 19) -> Tensor:
        """f(x_n, θ_t) for all events and points, shape (N, T); θ fed again for every point.

        At most ``rows`` (event, θ) pairs go through the network at once, bounding memory.
        """
        n, out = len(embedding), []
        chunk = max(1, rows // max(n, 1))
        for start in range(0, len(theta), chunk):
            block = theta[start : start + chunk]
            emb = embedding.repeat_interleave(len(block), dim=0)
            th = block.repeat(n, 1)
            out.append(self.log_density(emb, th).view(n, len(block)))
        return torch.cat(out, dim=1)


class ScoreHead(nn.Module):
    """Local score t̂(x) at the reference point, shape (B, D) (SALLY, SALLINO)."""

    kind = "score"

    def __init__(self, *, embed_dim: int, n_parameters: int, hidden: Sequence[int] = (128, 128), dropout: float = 0.0):
        super().__init__()
        self.n_parameters = n_parameters
        self.net = mlp([embed_dim, *hidden, n_parameters], dropout=dropout)
        self.config = {"n_parameters": n_parameters, "hidden": list(hidden), "dropout": dropout}

    def forward(self, embedding: Tensor) -> Tensor:
        return self.net(embedding)


#: Head classes by registry name; each class's ``kind`` says what it estimates: ``ratio`` (log r̂(x|θ0, θ1)),
#: ``score`` (t̂(x)) or ``classifier`` (logits).
HEADS: dict[str, type[nn.Module]] = {
    "classifier": ClassifierHead,
    "ratio": RatioHead,
    "morphing_ratio": MorphingRatioHead,
    "amplitude_ratio": AmplitudeRatioHead,
    "score": ScoreHead,
}
