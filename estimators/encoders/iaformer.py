"""IAFormer: attention weights from pairwise boost-invariant features only, differential attention (``iaformer``).

Esmail, Hammad, Nojiri, arXiv:2505.03258 (seeds 002/003). There are no queries and keys: the logits of layer l are
I_l = MLP(pair channels), one set per head, computed once per forward from the pair features (by default ParT's
ln k_T, ln z, ln Δ, ln m², all invariant under boosts along the beam) and optionally the SM interaction matrix.
Differential attention (Ye et al., arXiv:2410.05258): α = softmax(I1) − β·softmax(I2), β learned per layer
(initialised at 0.8 − 0.6·exp(−0.3·l)), followed by a per-head LayerNorm. Unlike the public code's classifier
head, the aggregation here is permutation invariant: class-attention blocks on a class token carrying the globals.
Padded slots get no attention weight, and the per-object layers of the embedding and the differential blocks
(LayerNorms, value and output projections, per-head LayerNorm, feed-forward part) and of the class-attention
blocks run on the real objects only (:class:`estimators.layers.TokenPacking`), so padding costs no compute there.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import Tensor, nn

from estimators.encoders.base import ObjectEncoder
from estimators.features import OBJECT_FEATURES
from estimators.layers import ClassAttentionBlock, PairEmbedding, TokenPacking, class_attention, mlp, padding_bias
from lfi.errors import OptionError

__all__ = ["IAFormer"]


class _DifferentialBlock(nn.Module):
    """x ← x + W_o·LN_head((softmax(I1) − β softmax(I2))·V(LN(x))); x ← x + FFN(LN(x))."""

    def __init__(self, dim: int, num_heads: int, ffn_ratio: int, beta_init: float) -> None:
        super().__init__()
        self.num_heads, self.head_dim = num_heads, dim // num_heads
        self.norm_attn = nn.LayerNorm(dim)
        self.value = nn.Linear(dim, dim)
        self.head_norm = nn.LayerNorm(self.head_dim)
        self.proj = nn.Linear(dim, dim)
        self.beta = nn.Parameter(torch.tensor(float(beta_init)))
        self.norm_fc = nn.LayerNorm(dim)
        self.ffn = mlp([dim, ffn_ratio * dim, dim])

    def forward(self, x: Tensor, logits1: Tensor, logits2: Tensor, packing: TokenPacking) -> Tensor:
        """One differential-attention block on the packed real objects.

        Parameters
        ----------
        x : Tensor, shape (N, D)
            The real objects, packed by ``packing``.
        logits1, logits2 : Tensor, shape (B, H, P, P)
            Attention logits including the padding bias.
        packing : TokenPacking
            Real objects of the (B, P) slots.

        Returns
        -------
        Tensor, shape (N, D)
        """
        n, d = x.shape
        (v,) = packing.split_heads(self.value(self.norm_attn(x)), 1, self.num_heads)  # (B, H, P, hd), 0 for padding
        alpha = torch.softmax(logits1, dim=-1) - self.beta * torch.softmax(logits2, dim=-1)
        o = packing.merge_heads(alpha.to(v.dtype) @ v)  # (N, D)
        o = self.head_norm(o.view(n, self.num_heads, self.head_dim)).view(n, d)
        x = x + self.proj(o)
        return x + self.ffn(self.norm_fc(x))


class IAFormer(ObjectEncoder):
    """IAFormer encoder.

    Parameters
    ----------
    n_objects : int
        P, object slots.
    n_globals : int
        G (enter through the class token).
    pair : str
        Pair features that build the logits (must not be empty unless ``interaction`` is set); default
        "ln_kt,ln_z,ln_delta,ln_m2". ``delta_r`` uses η and is boost invariant for massless objects only.
    interaction : str
        "none" (default), "sm_ids", "sm_const", "sm_running".
    dim : int
        Model width D and ``embed_dim``.
    num_heads : int
    num_layers : int
    num_cls_layers : int
    pair_embed_dims : sequence of int
        Hidden widths of the shared pair MLP (its output has 2·num_heads·num_layers channels).
    ffn_ratio : int
    """

    def __init__(self, *, n_objects: int, n_globals: int, pair: str = "ln_kt,ln_z,ln_delta,ln_m2",
                 interaction: str = "none", dim: int = 64, num_heads: int = 4, num_layers: int = 3,
                 num_cls_layers: int = 1, pair_embed_dims: Sequence[int] = (32, 32), ffn_ratio: int = 4) -> None:
        config = dict(pair=pair, interaction=interaction, dim=dim, num_heads=num_heads, num_layers=num_layers,
                      num_cls_layers=num_cls_layers, pair_embed_dims=pair_embed_dims, ffn_ratio=ffn_ratio)
        super().__init__(n_objects=n_objects, n_globals=n_globals, pair=pair, interaction=interaction, config=config)
        if not self.n_pair_channels:
            raise OptionError("iaformer builds its attention from pair features only: set pair (e.g. "
                             "'ln_kt,ln_z,ln_delta,ln_m2') or interaction (e.g. 'sm_running')")
        if dim % num_heads:
            raise OptionError(f"dim {dim} is not divisible by num_heads={num_heads}")
        self.embed_dim, self.num_heads, self.num_layers = int(dim), int(num_heads), int(num_layers)
        self.embed = mlp([len(OBJECT_FEATURES), dim, dim], final_activation=True)
        self.pair_embed = PairEmbedding(self.n_pair_channels, pair_embed_dims, 2 * num_heads * num_layers)
        self.blocks = nn.ModuleList(_DifferentialBlock(dim, num_heads, ffn_ratio, 0.8 - 0.6 * math.exp(-0.3 * l))
                                    for l in range(num_layers))
        self.cls_blocks = nn.ModuleList(ClassAttentionBlock(dim, num_heads, ffn_ratio=ffn_ratio, normformer=False)
                                        for _ in range(num_cls_layers))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.global_embed = mlp([self.scaler.n_global_features, dim])
        self.norm = nn.LayerNorm(dim)

    def forward(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
        """Event embedding, shape (B, embed_dim)."""
        inp = self._inputs(momenta, types, globals_)
        packing = TokenPacking(inp.mask)  # per-object layers see the N real objects only
        x = self.embed(packing.gather(inp.x))  # (N, D)
        b, p = inp.mask.shape
        logits = self.pair_embed(inp.pairs, inp.mask).float() + padding_bias(inp.mask)  # (B, 2·H·L, P, P)
        logits = logits.view(b, self.num_layers, 2, self.num_heads, p, p)
        for l, block in enumerate(self.blocks):
            x = block(x, logits[:, l, 0], logits[:, l, 1], packing)
        cls = self.cls_token.view(1, -1) + self.global_embed(inp.glob)  # (B, D)
        return self.norm(class_attention(self.cls_blocks, cls, x, packing))
