"""Particle Transformer (ParT) with optional SM interaction matrix in the pair embedding.

Architecture (Qu, Li, Qian, arXiv:2202.03772; SM interaction term: arXiv:2211.05143, docs/method.md §7):
per-object embedding (LN → Linear → GELU per layer), pair embedding U = MLP(pair channels) computed once per
forward and shared by all particle-attention blocks (added to the attention logits per head), then
class-attention blocks (no U) on a class token that also carries the event globals, then LayerNorm.
Permutation invariant; padded slots are hidden from every attention, and the per-object layers run on the real
objects only (:class:`estimators.layers.TokenPacking`), so padding costs no per-object compute.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from estimators.encoders.base import PackedObjectEncoder
from estimators.features import OBJECT_FEATURES
from estimators.layers import (AttentionBlock, ClassAttentionBlock, PairEmbedding, TokenPacking, attention_bias,
                               class_attention, mlp)

__all__ = ["ParticleTransformer"]


class ParticleTransformer(PackedObjectEncoder):
    """ParT encoder (``part``).

    Parameters
    ----------
    n_objects : int
        P, object slots.
    n_globals : int
        G, event-level inputs (enter through the class token).
    pair : str
        Pair features for U: "none", "mass,delta_r", "ln_kt,ln_z,ln_delta,ln_m2" (ParT's, default) or any
        comma-separated subset of :data:`estimators.features.PAIR_FEATURES`.
    interaction : str
        "none" (default), "sm_ids", "sm_const" or "sm_running": an extra pair channel. With
        ``pair="mass,delta_r", interaction="sm_running"`` this is "ParT int. SM".
    embed_dims : sequence of int
        Widths of the per-object embedding; the last is the model width D and ``embed_dim``.
    pair_embed_dims : sequence of int
        Hidden widths of the pair embedding (its output has ``num_heads`` channels).
    num_heads : int
    num_layers : int
        Particle-attention blocks.
    num_cls_layers : int
        Class-attention blocks.
    ffn_ratio : int
    dropout : float
    normformer : bool
        ParT's extra scales and norms in each block.
    """

    def __init__(self, *, n_objects: int, n_globals: int, pair: str = "ln_kt,ln_z,ln_delta,ln_m2",
                 interaction: str = "none", embed_dims: Sequence[int] = (64, 64), pair_embed_dims: Sequence[int] = (32, 32),
                 num_heads: int = 4, num_layers: int = 3, num_cls_layers: int = 1, ffn_ratio: int = 4,
                 dropout: float = 0.0, normformer: bool = True) -> None:
        config = dict(pair=pair, interaction=interaction, embed_dims=embed_dims, pair_embed_dims=pair_embed_dims,
                      num_heads=num_heads, num_layers=num_layers, num_cls_layers=num_cls_layers,
                      ffn_ratio=ffn_ratio, dropout=dropout, normformer=normformer)
        super().__init__(n_objects=n_objects, n_globals=n_globals, pair=pair, interaction=interaction, config=config)
        dims = [len(OBJECT_FEATURES), *embed_dims]
        self.embed_dim = d = int(embed_dims[-1])
        self.embed = nn.Sequential(*[nn.Sequential(nn.LayerNorm(a), nn.Linear(a, b), nn.GELU())
                                     for a, b in zip(dims[:-1], dims[1:])])
        self.pair_embed = (PairEmbedding(self.n_pair_channels, pair_embed_dims, num_heads)
                           if self.n_pair_channels else None)
        block = dict(ffn_ratio=ffn_ratio, dropout=dropout, normformer=normformer)
        self.blocks = nn.ModuleList(AttentionBlock(d, num_heads, **block) for _ in range(num_layers))
        self.cls_blocks = nn.ModuleList(ClassAttentionBlock(d, num_heads, **block) for _ in range(num_cls_layers))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.global_embed = mlp([self.scaler.n_global_features, d])
        self.norm = nn.LayerNorm(d)

    def _particles(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> tuple[Tensor, TokenPacking, Tensor]:
        """The real objects after the particle-attention blocks (N, D), their packing, the scaled globals."""
        inp = self._inputs(momenta, types, globals_)
        packing = TokenPacking(inp.mask)  # per-object layers see the N real objects only
        x = self.embed(packing.gather(inp.x))  # (N, D)
        bias = attention_bias(inp.mask, self.pair_embed, inp.pairs)  # (B, H or 1, P or 1, P)
        for block in self.blocks:
            x = block(x, bias, packing)
        return x, packing, inp.glob

    def _event(self, x: Tensor, packing: TokenPacking, glob: Tensor) -> Tensor:
        cls = self.cls_token.view(1, -1) + self.global_embed(glob)  # (B, D)
        return self.norm(class_attention(self.cls_blocks, cls, x, packing))
