"""Neural-network building blocks shared by the encoders: MLPs, pair embedding, biased attention, pooling.

Shape convention: ``B`` events, ``P`` object slots, ``D`` channels, ``H`` attention heads, ``C`` pair channels.
Attention (:func:`biased_attention`) takes one additive float bias of shape (B, H or 1, L, S) that carries both the
pair embedding U and the padding (a large negative number on padded keys, never −inf, so that an event without
objects gives finite outputs); it runs as :func:`torch.nn.functional.scaled_dot_product_attention` on accelerators
and as a fused bias-GEMM on CPU, with all heads batched. :class:`TokenPacking` lets per-object layers run on the
real objects only (the self-attention of packed objects then has a hand-written backward on the CPU), and
:class:`PairEmbedding` evaluates each unordered pair of real objects once.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from lfi.errors import OptionError

__all__ = [
    "MASK_VALUE", "padding_bias", "masked_mean", "mlp", "PairEmbedding", "biased_attention", "TokenPacking",
    "BiasedAttention", "attention_bias",
    "AttentionBlock", "ClassAttentionBlock", "class_attention",
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


def mlp(sizes: Sequence[int], *, final_activation: bool = False, norm_input: bool = False,
        dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with GELU between them: sizes (n_in, h1, ..., n_out).

    ``norm_input`` prepends a LayerNorm over n_in; ``final_activation`` appends a GELU after the last layer;
    ``dropout`` > 0 adds a Dropout after every hidden GELU (the one library MLP: encoders and heads).
    """
    layers: list[nn.Module] = [nn.LayerNorm(sizes[0])] if norm_input else []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        hidden = i < len(sizes) - 2
        if hidden or final_activation:
            layers.append(nn.GELU())
        if hidden and dropout:
            layers.append(nn.Dropout(dropout))
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

    def forward(self, pairs: Tensor, mask: Tensor | None = None) -> Tensor:
        """Embed symmetric pair features.

        Parameters
        ----------
        pairs : Tensor, shape (B, P, P, C)
            Symmetric in the two slot indices.
        mask : Tensor, shape (B, P), bool, optional
            Real objects; pairs with padding are then not evaluated and get 0.

        Returns
        -------
        Tensor, shape (B, n_out, P, P)
            Symmetric; computed once per unordered pair and mirrored.
        """
        b, p = pairs.shape[:2]
        rows, cols, full = _pair_index(p, pairs.device)
        tri = pairs[:, rows, cols]  # (B, T, C)
        if mask is None:
            u = self.net(tri)  # (B, T, n_out)
        else:
            index = (mask[:, rows] & mask[:, cols]).reshape(-1).nonzero().squeeze(1)
            out = self.net(tri.reshape(-1, tri.shape[-1]).index_select(0, index))
            u = out.new_zeros(b * rows.numel(), out.shape[-1]).index_copy(0, index, out).view(b, rows.numel(), out.shape[-1])
        return u[:, full].view(b, p, p, u.shape[-1]).permute(0, 3, 1, 2)


def biased_attention(q: Tensor, k: Tensor, v: Tensor, bias: Tensor, *, dropout_p: float = 0.0) -> Tensor:
    """softmax(q·kᵀ/√d + bias)·v for all heads at once.

    On CUDA (and other accelerators) this is :func:`torch.nn.functional.scaled_dot_product_attention` with the
    float bias as ``attn_mask``. On CPU, for the short sequences of collider events (P ≈ 2–30), SDPA's flash
    kernel is 5–10× slower than one fused bias-plus-GEMM (``baddbmm``), softmax and a second batched GEMM, and
    with a bias that needs gradients SDPA falls back to its unfused math path anyway; so the CPU path is the
    latter (same mathematics; see bench/estimators.py).

    Parameters
    ----------
    q : Tensor, shape (B, H, L, d)
    k, v : Tensor, shape (B, H, S, d)
    bias : Tensor, shape (B, H or 1, L or 1, S)
        Additive logits bias (pair embedding and padding).
    dropout_p : float
        Dropout on the attention probabilities.

    Returns
    -------
    Tensor, shape (B, H, L, d)
    """
    if bias.dtype != q.dtype:
        bias = bias.to(q.dtype)
    if q.device.type != "cpu":
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout_p)
    b, h, l, d = q.shape
    s = k.shape[2]
    logits = torch.baddbmm(bias.expand(b, h, l, s).reshape(b * h, l, s), q.reshape(b * h, l, d),
                           k.reshape(b * h, s, d).transpose(1, 2), alpha=d**-0.5)
    probs = torch.softmax(logits, dim=-1)
    if dropout_p:
        probs = F.dropout(probs, dropout_p)
    return torch.bmm(probs, v.reshape(b * h, s, d)).view(b, h, l, d)


def attention_bias(mask: Tensor, pair_embed: PairEmbedding | None = None, pairs: Tensor | None = None) -> Tensor:
    """The additive self-attention bias of padded objects: padding, plus the pair embedding U if there is one.

    Parameters
    ----------
    mask : Tensor, shape (B, P), bool
        True for real objects.
    pair_embed : PairEmbedding, optional
        Maps the pair channels to one bias per head.
    pairs : Tensor, shape (B, P, P, C), optional
        Pair channels (needed with ``pair_embed``).

    Returns
    -------
    Tensor, shape (B, 1, 1, P) without ``pair_embed``, else (B, H, P, P)
    """
    bias = padding_bias(mask)
    if pair_embed is None:
        return bias
    return (pair_embed(pairs, mask) + bias).contiguous()


class TokenPacking:
    """The real objects of a padded batch as one packed (N, C) matrix, N = number of real objects.

    Per-object layers (LayerNorm, Linear, GELU, the feed-forward part) run on the packed rows only, so padded
    slots cost nothing there; attention moves its projections straight from the packed rows into the
    head-major (B·H, P, d) layout of the batched matrix products (:meth:`split_heads`) and back
    (:meth:`merge_heads`), one scatter and one gather per layer, with padding hidden by the bias. Outputs for
    real objects are exactly those of the padded computation.

    Parameters
    ----------
    mask : Tensor, shape (B, P), bool
        True for real objects.
    """

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask
        self.batch, self.slots = mask.shape
        self.index = mask.reshape(-1).nonzero().squeeze(1)  # (N,) flat indices b·P + p
        self._head_index: dict[tuple[int, int], Tensor] = {}

    def with_leading_token(self) -> TokenPacking:
        """The packing of the same events with one extra, always real token in front (a class token), P + 1 slots."""
        return TokenPacking(torch.cat([self.mask.new_ones(self.batch, 1), self.mask], dim=1))

    def leading_rows(self) -> Tensor:
        """Packed row numbers of slot 0 of every event, shape (B,) (the class token of :meth:`with_leading_token`)."""
        return (self.index.remainder(self.slots) == 0).nonzero().squeeze(1)

    def join_leading(self, first: Tensor, rest: Tensor) -> Tensor:
        """Packed rows of a :meth:`with_leading_token` packing from the leading tokens and the objects.

        Parameters
        ----------
        first : Tensor, shape (B, C)
            The leading token of every event.
        rest : Tensor, shape (N - B, C)
            The real objects, packed as in the packing this one was made from.

        Returns
        -------
        Tensor, shape (N, C)
        """
        lead = self.index.remainder(self.slots) == 0
        dtype = torch.promote_types(first.dtype, rest.dtype)  # they differ under autocast
        rows = first.new_empty(self.index.numel(), first.shape[1], dtype=dtype)
        rows.index_copy_(0, lead.nonzero().squeeze(1), first.to(dtype))
        return rows.index_copy_(0, (~lead).nonzero().squeeze(1), rest.to(dtype))

    def gather(self, full: Tensor) -> Tensor:
        """(B, P, C) → (N, C), the rows of the real objects."""
        return full.reshape(self.batch * self.slots, full.shape[-1]).index_select(0, self.index)

    def scatter(self, rows: Tensor) -> Tensor:
        """(N, C) → (B, P, C): the real objects' rows back in their slots, zeros in padded slots."""
        full = rows.new_zeros(self.batch * self.slots, rows.shape[-1])
        return full.index_copy(0, self.index, rows).view(self.batch, self.slots, rows.shape[-1])

    def head_index(self, chunks: int, heads: int) -> Tensor:
        """Where row n, chunk c, head h of the packed rows lands in a (chunks, B, H, P) layout, shape (N·chunks·H,)."""
        key = (chunks, heads)
        if key not in self._head_index:
            b, p = self.index.div(self.slots, rounding_mode="floor"), self.index.remainder(self.slots)
            c = torch.arange(chunks, device=self.index.device)[None, :, None]
            h = torch.arange(heads, device=self.index.device)[None, None, :]
            flat = ((c * self.batch + b[:, None, None]) * heads + h) * self.slots + p[:, None, None]
            self._head_index[key] = flat.reshape(-1)
        return self._head_index[key]

    def split_heads(self, rows: Tensor, chunks: int, heads: int) -> tuple[Tensor, ...]:
        """Packed projections (N, chunks·H·d) → ``chunks`` tensors of shape (B, H, P, d), zeros in padded slots.

        The columns of ``rows`` are ordered (chunk, head, d), as in a fused query/key/value projection.
        """
        d = rows.shape[1] // (chunks * heads)
        full = rows.new_zeros(chunks * self.batch * heads * self.slots, d)
        full.index_copy_(0, self.head_index(chunks, heads), rows.reshape(-1, d))
        return full.view(chunks, self.batch, heads, self.slots, d).unbind(0)

    def merge_heads(self, heads_out: Tensor) -> Tensor:
        """(B, H, P, d) → packed rows (N, H·d) of the real objects."""
        h, d = heads_out.shape[1], heads_out.shape[3]
        rows = heads_out.reshape(-1, d).index_select(0, self.head_index(1, h))
        return rows.view(self.index.numel(), h * d)


class _PackedSelfAttentionCPU(torch.autograd.Function):
    """softmax(q·kᵀ/√d + bias)·v from packed fused projections to packed outputs, with a hand-written backward.

    Same mathematics as :meth:`TokenPacking.split_heads` → :func:`biased_attention` → :meth:`TokenPacking.merge_heads`,
    but the backward writes dq, dk, dv straight into one buffer and gathers it once, instead of autograd's
    per-view gradients, their concatenation and the scaling passes (CPU; no dropout).
    """

    @staticmethod
    def forward(ctx, rows: Tensor, bias: Tensor, packing: TokenPacking, heads: int) -> Tensor:
        b, p = packing.batch, packing.slots
        d = rows.shape[1] // (3 * heads)
        into, out_of = packing.head_index(3, heads), packing.head_index(1, heads)
        qkv = rows.new_zeros(3 * b * heads * p, d).index_copy_(0, into, rows.reshape(-1, d)).view(3, b * heads, p, d)
        q, k, v = qkv.unbind(0)
        scale = d**-0.5
        logits = torch.baddbmm(bias.to(rows.dtype).expand(b, heads, p, p).reshape(b * heads, p, p), q, k.transpose(1, 2),
                               alpha=scale)
        probs = torch.softmax(logits, dim=-1)
        out = torch.bmm(probs, v).view(-1, d).index_select(0, out_of).view(-1, heads * d)
        ctx.save_for_backward(qkv, probs)
        ctx.packing, ctx.heads, ctx.scale = packing, heads, scale
        ctx.bias_shape, ctx.bias_dtype = bias.shape, bias.dtype
        return out

    @staticmethod
    def backward(ctx, grad_out: Tensor):
        qkv, probs = ctx.saved_tensors
        packing, heads, scale = ctx.packing, ctx.heads, ctx.scale
        b, p, d = packing.batch, packing.slots, qkv.shape[-1]
        grad_o = grad_out.new_zeros(b * heads * p, d).index_copy_(0, packing.head_index(1, heads), grad_out.reshape(-1, d))
        grad_o = grad_o.view(b * heads, p, d)
        q, k, v = qkv.unbind(0)
        grad_qkv = torch.empty_like(qkv)
        torch.bmm(probs.transpose(1, 2), grad_o, out=grad_qkv[2])
        grad_logits = torch._softmax_backward_data(torch.bmm(grad_o, v.transpose(1, 2)), probs, -1, probs.dtype)
        grad_scaled = grad_logits * scale
        torch.bmm(grad_scaled, k, out=grad_qkv[0])
        torch.bmm(grad_scaled.transpose(1, 2), q, out=grad_qkv[1])
        grad_rows = grad_qkv.view(-1, d).index_select(0, packing.head_index(3, heads)).view(-1, 3 * heads * d)
        grad_bias = None
        if ctx.needs_input_grad[1]:
            grad_bias = grad_logits.view(b, heads, p, p).sum_to_size(ctx.bias_shape).to(ctx.bias_dtype)
        return grad_rows, grad_bias, None, None


class BiasedAttention(nn.Module):
    """Multi-head attention softmax(QKᵀ/√d + bias)·V (:func:`biased_attention`), optional per-head output scale.

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
            raise OptionError(f"width {dim} is not divisible by num_heads={num_heads}")
        self.num_heads, self.head_dim, self.dropout = num_heads, dim // num_heads, dropout
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.head_scale = nn.Parameter(torch.ones(num_heads)) if head_scale else None

    def forward(self, x: Tensor, bias: Tensor, n_queries: int | None = None,
                packing: TokenPacking | None = None) -> Tensor:
        """Attend from x (or its first ``n_queries`` tokens) to all tokens of x.

        Parameters
        ----------
        x : Tensor, shape (B, S, D), or (N, D) packed with ``packing``
        bias : Tensor, shape (B, H or 1, L, S)
            Additive logits bias, L = ``n_queries`` or S.
        n_queries : int, optional
            Only the first ``n_queries`` tokens ask (class attention); keys and values are all S tokens.
        packing : TokenPacking, optional
            x holds only the real objects; the output is packed the same way (not with ``n_queries``).

        Returns
        -------
        Tensor, shape (B, L, D), or (N, D) with ``packing``
        """
        d = x.shape[-1]
        h, hd = self.num_heads, self.head_dim
        dropout = self.dropout if self.training else 0.0
        if (packing is not None and x.device.type == "cpu" and not dropout and not torch.is_autocast_enabled("cpu")
                and not torch.compiler.is_compiling()):  # torch.compile traces the generic path below
            return self._project(_PackedSelfAttentionCPU.apply(self.qkv(x), bias, packing, h))
        if packing is not None:  # projections of the real objects only, straight into the head-major layout
            q, k, v = packing.split_heads(self.qkv(x), 3, h)
            b, s = q.shape[0], q.shape[2]
        elif n_queries is None:
            b, s = x.shape[:2]
            q, k, v = self.qkv(x).view(b, s, 3, h, hd).permute(2, 0, 3, 1, 4).unbind(0)
        else:
            b, s = x.shape[:2]
            w, bb = self.qkv.weight, self.qkv.bias
            q = F.linear(x[:, :n_queries], w[:d], bb[:d]).view(b, n_queries, h, hd).transpose(1, 2)
            k, v = F.linear(x, w[d:], bb[d:]).view(b, s, 2, h, hd).permute(2, 0, 3, 1, 4).unbind(0)
        o = biased_attention(q, k, v, bias, dropout_p=dropout)  # (B, H, L, hd)
        if packing is not None:
            o = packing.merge_heads(o)  # (N, D)
        else:
            o = o.transpose(1, 2).reshape(b, o.shape[2], d)
        return self._project(o)

    def class_token(self, cls: Tensor, tokens: Tensor, bias: Tensor, packing: TokenPacking) -> Tensor:
        """Attend from the class token of every event to itself and the real objects, all packed.

        Parameters
        ----------
        cls : Tensor, shape (B, D)
            The class tokens (queries).
        tokens : Tensor, shape (N, D)
            Keys and values: the class tokens and the real objects, packed by ``packing``.
        bias : Tensor, shape (B, H or 1, 1, 1 + P)
            Additive logits bias (padding).
        packing : TokenPacking
            Packing of the 1 + P token slots (:meth:`TokenPacking.with_leading_token`).

        Returns
        -------
        Tensor, shape (B, D)
        """
        b, d = cls.shape
        h, hd = self.num_heads, self.head_dim
        w, bb = self.qkv.weight, self.qkv.bias
        q = F.linear(cls, w[:d], bb[:d]).view(b, h, 1, hd)
        k, v = packing.split_heads(F.linear(tokens, w[d:], bb[d:]), 2, h)
        o = biased_attention(q, k, v, bias, dropout_p=self.dropout if self.training else 0.0)  # (B, H, 1, hd)
        return self._project(o.reshape(b, d))

    def _project(self, o: Tensor) -> Tensor:
        """Output projection of the concatenated heads (…, D), with the per-head scale if any."""
        if self.head_scale is None:
            return self.proj(o)
        # per-head scale folded into the (D, D) projection weight instead of the (…, D) activations
        return F.linear(o, self.proj.weight * self.head_scale.repeat_interleave(self.head_dim), self.proj.bias)


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
        self.drop = nn.Dropout(dropout) if dropout else nn.Identity()

    def _feed_forward(self, x: Tensor) -> Tensor:
        h = self.drop(self.fc2(self.post_fc_norm(self.drop(F.gelu(self.fc1(self.norm_fc(x)))))))
        return h + x if self.resid_scale is None else torch.addcmul(h, x, self.resid_scale.to(x.dtype))

    def forward(self, x: Tensor, bias: Tensor, packing: TokenPacking | None = None) -> Tensor:
        """x (B, P, D), bias (B, H or 1, P, P) → (B, P, D); with ``packing``, x and the output are (N, D)."""
        x = x + self.drop(self.post_attn_norm(self.attn(self.norm_attn(x), bias, packing=packing)))
        return self._feed_forward(x)


class ClassAttentionBlock(AttentionBlock):
    """ParT's class-attention block: the class token attends to itself and all objects; no pair bias.

    Same parameters as :class:`AttentionBlock`.
    """

    def forward(self, cls: Tensor, x: Tensor, bias: Tensor,  # type: ignore[override]
                packing: TokenPacking | None = None) -> Tensor:
        """cls (B, 1, D), x (B, P, D), bias (B, 1, 1, 1 + P) → updated cls (B, 1, D).

        With ``packing`` (of the 1 + P slots, :meth:`TokenPacking.with_leading_token`), x holds the real objects
        only, shape (N, D), and cls is (B, D); the output is then (B, D).
        """
        if packing is None:
            u = self.norm_attn(torch.cat([cls, x], dim=1))
            attended = self.attn(u, bias, n_queries=1)
        else:
            u = self.norm_attn(packing.join_leading(cls, x))
            attended = self.attn.class_token(u.index_select(0, packing.leading_rows()), u, bias, packing)
        cls = cls + self.drop(self.post_attn_norm(attended))
        return self._feed_forward(cls)


def class_attention(blocks: Sequence[ClassAttentionBlock], cls: Tensor, x: Tensor, packing: TokenPacking) -> Tensor:
    """Class-attention blocks in turn: the class token of every event attends to itself and the real objects.

    Parameters
    ----------
    blocks : sequence of ClassAttentionBlock
    cls : Tensor, shape (B, D)
        Class tokens.
    x : Tensor, shape (N, D)
        The real objects, packed by ``packing`` (of the P object slots).
    packing : TokenPacking

    Returns
    -------
    Tensor, shape (B, D)
    """
    cls_packing = packing.with_leading_token()
    bias = padding_bias(cls_packing.mask)  # (B, 1, 1, 1 + P)
    for block in blocks:
        cls = block(cls, x, bias, cls_packing)
    return cls
