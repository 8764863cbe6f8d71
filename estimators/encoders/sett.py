"""Set Transformer with the pair/SM-interaction attention bias (``sett``; "SetT int. SM" of arXiv:2211.05143).

Lee et al., arXiv:1810.00825: self-attention blocks SAB(X) = MAB(X, X) with
MAB(X, Y) = LN(H + rFF(H)), H = LN(X + Attention(X, Y, Y)) (post-norm), here with the additive bias U from the pair
embedding (as in ParT) in every SAB, then pooling by multi-head attention PMA₁ with one learned seed vector,
which also carries the event globals (the seed is one of the keys, as ParT's class token). Permutation invariant;
padded slots are hidden from every attention, and the per-object layers (embedding, the SABs' qkv projections,
LayerNorms and rFFs, the pooling rFF, the PMA's key/value projection) run on the real objects only
(:class:`estimators.layers.TokenPacking`), so padding costs no compute there.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn

from estimators.encoders.base import PackedObjectEncoder
from estimators.features import OBJECT_FEATURES
from estimators.layers import BiasedAttention, PairEmbedding, TokenPacking, attention_bias, mlp, padding_bias

__all__ = ["SetTransformer"]


class _MAB(nn.Module):
    """Multihead attention block (post-norm); the first ``n_queries`` tokens ask, or all of them."""

    def __init__(self, dim: int, num_heads: int, ffn_ratio: int) -> None:
        super().__init__()
        self.attn = BiasedAttention(dim, num_heads)
        self.norm1 = nn.LayerNorm(dim)
        self.rff = mlp([dim, ffn_ratio * dim, dim])
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x: Tensor, bias: Tensor, n_queries: int | None = None,
                packing: TokenPacking | None = None) -> Tensor:
        """One MAB.

        Parameters
        ----------
        x : Tensor, shape (B, S, D), or (N, D) packed with ``packing``
        bias : Tensor, shape (B, H or 1, L, S)
            Additive logits bias (pair embedding and padding), L = ``n_queries`` or S.
        n_queries : int, optional
            Only the first ``n_queries`` tokens ask (PMA); not with ``packing``.
        packing : TokenPacking, optional
            x holds the real objects only (SAB); the output is packed the same way.

        Returns
        -------
        Tensor, shape (B, L, D), or (N, D) with ``packing``
        """
        query = x if n_queries is None else x[:, :n_queries]
        h = self.norm1(query + self.attn(x, bias, n_queries, packing))
        return self.norm2(h + self.rff(h))

    def pool(self, seed: Tensor, tokens: Tensor, bias: Tensor, packing: TokenPacking) -> Tensor:
        """PMA on packed tokens: the seed (B, D) asks, the seed and the real objects answer.

        ``tokens`` (N, D) and ``packing`` are as in :meth:`estimators.layers.BiasedAttention.class_token`;
        ``bias`` (B, 1, 1, 1 + P). Returns (B, D).
        """
        h = self.norm1(seed + self.attn.class_token(seed, tokens, bias, packing))
        return self.norm2(h + self.rff(h))


class SetTransformer(PackedObjectEncoder):
    """Set Transformer encoder.

    Parameters
    ----------
    n_objects : int
        P, object slots.
    n_globals : int
        G (enter through the PMA seed).
    pair : str
        Pair features for the bias: "none" (default), "mass,delta_r", "ln_kt,ln_z,ln_delta,ln_m2", ...
    interaction : str
        "none", "sm_ids", "sm_const", "sm_running".
    dim : int
        Model width D and ``embed_dim``.
    num_heads : int
    num_layers : int
        SAB blocks.
    pair_embed_dims : sequence of int
        Hidden widths of the pair embedding.
    ffn_ratio : int
    """

    def __init__(self, *, n_objects: int, n_globals: int, pair: str = "none", interaction: str = "none",
                 dim: int = 64, num_heads: int = 4, num_layers: int = 2, pair_embed_dims: Sequence[int] = (32, 32),
                 ffn_ratio: int = 2) -> None:
        config = dict(pair=pair, interaction=interaction, dim=dim, num_heads=num_heads, num_layers=num_layers,
                      pair_embed_dims=pair_embed_dims, ffn_ratio=ffn_ratio)
        super().__init__(n_objects=n_objects, n_globals=n_globals, pair=pair, interaction=interaction, config=config)
        self.embed_dim = int(dim)
        self.embed = nn.Linear(len(OBJECT_FEATURES), dim)
        self.pair_embed = PairEmbedding(self.n_pair_channels, pair_embed_dims, num_heads) if self.n_pair_channels else None
        self.sabs = nn.ModuleList(_MAB(dim, num_heads, ffn_ratio) for _ in range(num_layers))
        self.pool_rff = mlp([dim, ffn_ratio * dim, dim])
        self.seed = nn.Parameter(torch.zeros(1, 1, dim))
        nn.init.trunc_normal_(self.seed, std=0.02)
        self.global_embed = mlp([self.scaler.n_global_features, dim])
        self.pma = _MAB(dim, num_heads, ffn_ratio)

    def _particles(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> tuple[Tensor, TokenPacking, Tensor]:
        inp = self._inputs(momenta, types, globals_)
        packing = TokenPacking(inp.mask)  # per-object layers see the N real objects only
        x = self.embed(packing.gather(inp.x))  # (N, D)
        bias = attention_bias(inp.mask, self.pair_embed, inp.pairs)  # (B, H or 1, P or 1, P)
        for sab in self.sabs:
            x = sab(x, bias, packing=packing)
        return x, packing, inp.glob

    def _event(self, x: Tensor, packing: TokenPacking, glob: Tensor) -> Tensor:
        seed = self.seed.view(1, -1) + self.global_embed(glob)  # (B, D)
        # PMA: the seed asks; the objects and the seed itself answer (so an event without objects stays finite
        # and independent of the number of padded slots).
        pma_packing = packing.with_leading_token()
        tokens = pma_packing.join_leading(seed, self.pool_rff(x))  # (B + N, D)
        return self.pma.pool(seed, tokens, padding_bias(pma_packing.mask), pma_packing)
