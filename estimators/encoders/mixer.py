"""MLP-Mixer over objects and channels (``mixer``; Hammad & Nojiri, arXiv:2404.14677, without subjets).

Each block mixes the object tokens with an MLP along the slot index (shared over channels), then mixes the
channels with an MLP (shared over objects), both pre-norm with residuals. Padded tokens are zeroed before every
token mixing, so only real objects are mixed; the event embedding is the masked mean over objects fused with
the globals.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from estimators.encoders.base import ObjectEncoder
from estimators.features import OBJECT_FEATURES
from estimators.layers import masked_mean, mlp

__all__ = ["MixerEncoder"]


class _MixerBlock(nn.Module):
    def __init__(self, n_tokens: int, dim: int, token_hidden: int, channel_hidden: int) -> None:
        super().__init__()
        self.norm_token = nn.LayerNorm(dim)
        self.token_mlp = mlp([n_tokens, token_hidden, n_tokens])
        self.norm_channel = nn.LayerNorm(dim)
        self.channel_mlp = mlp([dim, channel_hidden, dim])

    def forward(self, x: Tensor, keep: Tensor) -> Tensor:
        """x (B, P, D), keep (B, P, 1) bool → (B, P, D)."""
        h = self.norm_token(x).masked_fill(~keep, 0.0)
        x = x + self.token_mlp(h.transpose(1, 2)).transpose(1, 2)
        return x + self.channel_mlp(self.norm_channel(x))


class MixerEncoder(ObjectEncoder):
    """MLP-Mixer encoder.

    Not permutation invariant (the token MLP acts on the slot index).

    Parameters
    ----------
    n_objects : int
        P, fixed slot count (the token-mixing MLP has P inputs).
    n_globals : int
        G.
    dim : int
        Channel width D and ``embed_dim``.
    num_layers : int
    token_hidden : int
        Hidden width of the token-mixing MLP.
    channel_hidden : int
        Hidden width of the channel-mixing MLP.
    """

    fixed_slots = True

    def __init__(self, *, n_objects: int, n_globals: int, dim: int = 64, num_layers: int = 2,
                 token_hidden: int = 32, channel_hidden: int = 128) -> None:
        super().__init__(n_objects=n_objects, n_globals=n_globals,
                         config=dict(dim=dim, num_layers=num_layers, token_hidden=token_hidden,
                                     channel_hidden=channel_hidden))
        self.embed_dim = int(dim)
        self.embed = nn.Linear(len(OBJECT_FEATURES), dim)
        self.blocks = nn.ModuleList(_MixerBlock(self.n_objects, dim, token_hidden, channel_hidden)
                                    for _ in range(num_layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim + self.scaler.n_global_features, dim)

    def forward(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
        """Event embedding, shape (B, embed_dim)."""
        inp = self._inputs(momenta, types, globals_, with_pairs=False)
        keep = inp.mask.unsqueeze(-1)
        x = self.embed(inp.x)
        for block in self.blocks:
            x = block(x, keep)
        pooled = masked_mean(self.norm(x), inp.mask)
        return F.gelu(self.head(torch.cat([pooled, inp.glob], dim=1)))
