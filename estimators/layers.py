"""Neural-network building blocks shared by the encoders: MLPs, pair embedding, biased attention, pooling.

Shape convention: ``B`` events, ``P`` object slots, ``D`` channels, ``H`` attention heads, ``C`` pair channels.
Attention uses :func:`torch.nn.functional.scaled_dot_product_attention` with one additive float bias of shape
(B, H or 1, L, S) that carries both the pair embedding U and the padding (a large negative number on padded
keys, never −inf, so that an event without objects gives finite outputs).
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "MASK_VALUE", "padding_bias", "masked_mean", "mlp", "PairEmbedding", "BiasedAttention",
    "AttentionBlock", "ClassAttentionBlock",
]

#: Added to the attention logits of padded keys (finite: a row with only padded keys becomes uniform).
MASK_VALUE = -1.0e9


def padding_bias(mask: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
    """Additive attention bias that hides padded keys.

    Parameters
    ----------
    mask : Tensor, shape (B, S), bool
        True for real objects.

    Returns
    -------
    Tensor, shape (B, 1, 1, S)
        0 for real keys, :data:`MASK_VALUE` for padding.
    """
    return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(~mask, MASK_VALUE)[:, None, None, :]


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of x over the real slots, shape (B, P, D) → (B, D); 0 for an event without objects."""
    w = mask.to(x.dtype).unsqueeze(-1)
    return (x * w).sum(1) / w.sum(1).clamp(min=1.0)


def mlp(sizes: Sequence[int], *, final_activation: bool = False, norm_input: bool = False) -> nn.Sequential:
    """Linear layers with GELU between them: sizes (n_in, h1, ..., n_out).

    ``norm_input`` prepends a LayerNorm over n_in; ``final_activation`` appends a GELU after the last layer.
    """
    layers: list[nn.Module] = [nn.LayerNorm(sizes[0])] if norm_input else []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2 or final_activation:
            layers.append(nn.GELU())
    return nn.Sequential(*layers)


def _pair_index(n: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """Upper-triangle rows/cols (T = n(n+1)/2 each) and the (n·n,) map from (i, j) to its triangle index."""
    rows, cols = torch.triu_indices(n, n, device=device)
    full = torch.empty(n, n, dtype=torch.long, device=device)
    t = torch.arange(rows.numel(), device=device)
    full[rows, cols] = t
    full[cols, rows] = t
    return rows, cols, full.reshape(-1)


class PairEmbedding(nn.Module):
    """Per-pair MLP (ParT's 1×1 convolutions) from C pair channels to n_out, evaluated on i ≤ j only.

    Parameters
    ----------
    n_in : int
        C, pair input channels (already standardised).
    dims : sequence of int
        Hidden widths, GELU after each.
    n_out : int
        Output channels (e.g. H, one bias per head).
    """

    def __init__(self, n_in: int, dims: Sequence[int], n_out: int) -> None:
        super().__init__()
        self.net = mlp([n_in, *dims, n_out])

    def forward(self, pairs: Tensor) -> Tensor:
        """Embed symmetric pair features.

        Parameters
        ----------
        pairs : Tensor, shape (B, P, P, C)
            Symmetric in the two slot indices.

        Returns
        -------
        Tensor, shape (B, n_out, P, P)
            Symmetric; computed once per unordered pair and mirrored.
        """
        b, p = pairs.shape[:2]
        rows, cols, full = _pair_index(p, pairs.device)
        u = self.net(pairs[:, rows, cols])  # (B, T, n_out)
        return u[:, full].view(b, p, p, -1).permute(0, 3, 1, 2)


class BiasedAttention(nn.Module):
    """Multi-head attention softmax(QKᵀ/√d + bias)·V through SDPA, with a learned per-head output scale.

    Parameters
    ----------
    dim : int
        D, model width (divisible by ``num_heads``).
    num_heads : int
    dropout : float
        Attention-probability dropout (training only).
    head_scale : bool
        Multiply each head's output by a learned scalar before the output projection (NormFormer/ParT).
    """

    def __init__(self, dim: int, num_heads: int, *, dropout: float = 0.0, head_scale: bool = False) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"width {dim} is not divisible by num_heads={num_heads}")
        self.num_heads, self.head_dim, self.dropout = num_heads, dim // num_heads, dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.head_scale = nn.Parameter(torch.ones(num_heads)) if head_scale else None

    def forward(self, x: Tensor, bias: Tensor, n_queries: int | None = None) -> Tensor:
        """Attend from x (or its first ``n_queries`` tokens) to all tokens of x.

        Parameters
        ----------
        x : Tensor, shape (B, S, D)
        bias : Tensor, shape (B, H or 1, L, S)
            Additive logits bias, L = ``n_queries`` or S.
        n_queries : int, optional
            Only the first ``n_queries`` tokens ask (class attention); keys and values are all S tokens.

        Returns
        -------
        Tensor, shape (B, L, D)
        """
        b, s, d = x.shape
        h, hd = self.num_heads, self.head_dim
        if n_queries is None:
            q, k, v = self.qkv(x).view(b, s, 3, h, hd).permute(2, 0, 3, 1, 4).unbind(0)
        else:
            w, bb = self.qkv.weight, self.qkv.bias
            q = F.linear(x[:, :n_queries], w[:d], bb[:d]).view(b, n_queries, h, hd).transpose(1, 2)
            k, v = F.linear(x, w[d:], bb[d:]).view(b, s, 2, h, hd).permute(2, 0, 3, 1, 4).unbind(0)
        if bias.dtype != q.dtype:
            bias = bias.to(q.dtype)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=bias,
                                           dropout_p=self.dropout if self.training else 0.0)  # (B, H, L, hd)
        if self.head_scale is not None:
            o = o * self.head_scale.to(o.dtype).view(1, h, 1, 1)
        return self.proj(o.transpose(1, 2).reshape(b, o.shape[2], d))


class AttentionBlock(nn.Module):
    """Pre-norm transformer block (ParT's particle-attention block, NormFormer extras optional).

    x ← x + Drop(LN_post(Attn(LN(x), bias))); x ← w ⊙ x + Drop(FC2(LN_post(GELU(FC1(LN(x)))))).

    Parameters
    ----------
    dim : int
        D.
    num_heads : int
    ffn_ratio : int
        Hidden width of the feed-forward part is ``ffn_ratio * dim``.
    dropout : float
    normformer : bool
        ParT/NormFormer extras: per-head scale, post-attention and post-GELU LayerNorms, residual scale w.
    """

    def __init__(self, dim: int, num_heads: int, *, ffn_ratio: int = 4, dropout: float = 0.0,
                 normformer: bool = True) -> None:
        super().__init__()
        ffn = ffn_ratio * dim
        self.norm_attn = nn.LayerNorm(dim)
        self.attn = BiasedAttention(dim, num_heads, dropout=dropout, head_scale=normformer)
        self.post_attn_norm = nn.LayerNorm(dim) if normformer else nn.Identity()
        self.norm_fc = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, ffn)
        self.post_fc_norm = nn.LayerNorm(ffn) if normformer else nn.Identity()
        self.fc2 = nn.Linear(ffn, dim)
        self.resid_scale = nn.Parameter(torch.ones(dim)) if normformer else None
        self.drop = nn.Dropout(dropout)

    def _feed_forward(self, x: Tensor) -> Tensor:
        h = self.fc2(self.post_fc_norm(self.drop(F.gelu(self.fc1(self.norm_fc(x))))))
        res = x if self.resid_scale is None else x * self.resid_scale.to(x.dtype)
        return res + self.drop(h)

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        """x (B, P, D), bias (B, H or 1, P, P) → (B, P, D)."""
        x = x + self.drop(self.post_attn_norm(self.attn(self.norm_attn(x), bias)))
        return self._feed_forward(x)


class ClassAttentionBlock(AttentionBlock):
    """ParT's class-attention block: the class token attends to itself and all objects; no pair bias.

    Same parameters as :class:`AttentionBlock`.
    """

    def forward(self, cls: Tensor, x: Tensor, bias: Tensor) -> Tensor:  # type: ignore[override]
        """cls (B, 1, D), x (B, P, D), bias (B, 1, 1, 1 + P) → updated cls (B, 1, D)."""
        u = self.norm_attn(torch.cat([cls, x], dim=1))
        cls = cls + self.drop(self.post_attn_norm(self.attn(u, bias, n_queries=1)))
        return self._feed_forward(cls)
