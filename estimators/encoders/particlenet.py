"""ParticleNet: EdgeConv blocks on a dynamic k-nearest-neighbour graph (``particlenet``).

Qu & Gouskos, arXiv:1902.08570; pair features and the SM interaction matrix as extra edge inputs ("PN int. SM",
arXiv:2211.05143). The first block finds neighbours by ΔR (wrapped in φ), later blocks by Euclidean distance in
their input features. Each edge (i, j) gets MLP([x_i, x_j − x_i, e_ij]) with e_ij a learned embedding of the pair
channels; edges are averaged over the *real* neighbours only (padding and self are never neighbours, so events
with fewer than k + 1 objects are handled exactly), plus a linear shortcut. Batch norm is replaced by a LayerNorm
per object so that padding never enters the statistics.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from estimators.encoders.base import ObjectEncoder
from estimators.features import OBJECT_FEATURES, pair_features
from estimators.layers import masked_mean, mlp
from lfi.errors import OptionError

__all__ = ["ParticleNet", "knn"]


@torch.no_grad()
def knn(dist: Tensor, mask: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """Indices of the k nearest real neighbours of every slot (self excluded).

    Parameters
    ----------
    dist : Tensor, shape (B, P, P)
        Any symmetric distance.
    mask : Tensor, shape (B, P), bool
    k : int

    Returns
    -------
    idx : Tensor, shape (B, P, k'), long
        k' = min(k, P).
    valid : Tensor, shape (B, P, k'), bool
        False where fewer than k real neighbours exist (those indices are arbitrary).
    """
    p = dist.shape[-1]
    eye = torch.eye(p, dtype=torch.bool, device=dist.device)
    dist = dist.float().masked_fill(~mask.unsqueeze(1) | eye, float("inf"))
    d, idx = dist.topk(min(k, p), dim=-1, largest=False)
    return idx, torch.isfinite(d)


def _gather_neighbours(x: Tensor, idx: Tensor) -> Tensor:
    """x (B, P, C), idx (B, P, k) → (B, P, k, C)."""
    b, p, k = idx.shape
    return torch.gather(x, 1, idx.reshape(b, p * k, 1).expand(-1, -1, x.shape[-1])).view(b, p, k, x.shape[-1])


class _EdgeConv(nn.Module):
    def __init__(self, n_in: int, dims: Sequence[int], n_pair: int) -> None:
        super().__init__()
        self.edge_mlp = mlp([2 * n_in + n_pair, *dims], final_activation=True)
        self.shortcut = nn.Linear(n_in, dims[-1])
        self.norm = nn.LayerNorm(dims[-1])

    def forward(self, x: Tensor, idx: Tensor, valid: Tensor, mask: Tensor, pair: Tensor | None) -> Tensor:
        """x (B, P, C), idx/valid (B, P, k), mask (B, P), pair (B, P, P, Cp) → (B, P, dims[-1])."""
        xj = _gather_neighbours(x, idx)
        xi = x.unsqueeze(2).expand_as(xj)
        parts = [xi, xj - xi]
        if pair is not None:
            parts.append(torch.gather(pair, 2, idx.unsqueeze(-1).expand(-1, -1, -1, pair.shape[-1])))
        w = valid.to(xj.dtype).unsqueeze(-1)
        edges = self.edge_mlp(torch.cat(parts, dim=-1))
        agg = (edges * w).sum(2) / w.sum(2).clamp(min=1.0)
        return F.gelu(self.norm(agg + self.shortcut(x))).masked_fill(~mask.unsqueeze(-1), 0.0)


class ParticleNet(ObjectEncoder):
    """ParticleNet encoder.

    Parameters
    ----------
    n_objects : int
        P, object slots.
    n_globals : int
        G.
    pair : str
        Pair features as edge inputs: "none" (default, plain PN), "mass,delta_r" ("PN int."), ...
    interaction : str
        "none", "sm_ids", "sm_const", "sm_running" ("PN int. SM" with ``pair="mass,delta_r"``).
    k : int
        Neighbours per object; choose it below the smallest object multiplicity of the sample.
    conv_dims : sequence of sequence of int
        Edge-MLP widths of each EdgeConv block.
    pair_dim : int
        Width of the learned pair-channel embedding appended to every edge (unused without pair channels).
    embed_dim : int
        Output width (after pooling and fusion with the globals).
    """

    def __init__(self, *, n_objects: int, n_globals: int, pair: str = "none", interaction: str = "none", k: int = 4,
                 conv_dims: Sequence[Sequence[int]] = ((32, 32, 32), (64, 64, 64)), pair_dim: int = 8,
                 embed_dim: int = 64) -> None:
        config = dict(pair=pair, interaction=interaction, k=k, conv_dims=conv_dims, pair_dim=pair_dim,
                      embed_dim=embed_dim)
        super().__init__(n_objects=n_objects, n_globals=n_globals, pair=pair, interaction=interaction, config=config)
        if k < 1:
            raise OptionError(f"k must be ≥ 1, got {k}")
        self.k = int(k)
        self.pair_proj = mlp([self.n_pair_channels, pair_dim], final_activation=True) if self.n_pair_channels else None
        n_pair = pair_dim if self.n_pair_channels else 0
        blocks, n_in = [], len(OBJECT_FEATURES)
        for dims in conv_dims:
            blocks.append(_EdgeConv(n_in, dims, n_pair))
            n_in = dims[-1]
        self.blocks = nn.ModuleList(blocks)
        self.embed_dim = int(embed_dim)
        self._object_width = n_in
        self.head = mlp([n_in + self.scaler.n_global_features, embed_dim], final_activation=True)

    @property
    def object_dim(self) -> int:
        """Width of the per-object embeddings: the last EdgeConv block's."""
        return self._object_width

    def forward(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
        """Event embedding, shape (B, embed_dim)."""
        return self.encode_objects(momenta, types, globals_, all_slots=False)[1]

    def encode_objects(self, momenta: Tensor, types: Tensor, globals_: Tensor,
                       all_slots: bool = True) -> tuple[Tensor, Tensor]:
        """Per-object embeddings after the EdgeConv blocks (B, P, object_dim) and the event embedding (B, embed_dim)."""
        if all_slots:
            self._require_all_slots(momenta)
        inp = self._inputs(momenta, types, globals_)
        pair = self.pair_proj(inp.pairs) if self.pair_proj is not None else None  # (B, P, P, pair_dim)
        dist = pair_features(inp.momenta, inp.types, ("delta_r",))[..., 0]
        x = inp.x
        for i, block in enumerate(self.blocks):
            if i:
                dist = torch.cdist(x.detach().float(), x.detach().float())
            idx, valid = knn(dist, inp.mask, self.k)
            x = block(x, idx, valid, inp.mask, pair)
        return x, self.head(torch.cat([masked_mean(x, inp.mask), inp.glob], dim=1))
