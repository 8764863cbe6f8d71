"""1-D convolutional network over the p_T-ordered object list (``cnn1d``; arXiv:2011.13466 style)."""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from estimators.encoders.base import ObjectEncoder
from estimators.features import OBJECT_FEATURES
from lfi.errors import OptionError

__all__ = ["CNN1DEncoder"]


class CNN1DEncoder(ObjectEncoder):
    """Conv1d layers along the object index, then flatten + globals → Linear → GELU.

    Not permutation invariant (neighbouring slots in p_T order are convolved). Padded slots are zeroed after
    every convolution.

    Parameters
    ----------
    n_objects : int
        P, fixed slot count.
    n_globals : int
        G.
    channels : sequence of int
        Output channels of the convolutions (GELU after each).
    kernel_size : int
        Odd kernel size ("same" padding).
    embed_dim : int
        Width of the output.
    """

    fixed_slots = True

    def __init__(self, *, n_objects: int, n_globals: int, channels: Sequence[int] = (32, 32),
                 kernel_size: int = 3, embed_dim: int = 64) -> None:
        super().__init__(n_objects=n_objects, n_globals=n_globals,
                         config=dict(channels=channels, kernel_size=kernel_size, embed_dim=embed_dim))
        if kernel_size % 2 != 1:
            raise OptionError(f"kernel_size must be odd, got {kernel_size}")
        dims = [len(OBJECT_FEATURES), *channels]
        self.convs = nn.ModuleList(nn.Conv1d(a, b, kernel_size, padding=kernel_size // 2)
                                   for a, b in zip(dims[:-1], dims[1:]))
        self.embed_dim = int(embed_dim)
        self.fc = nn.Linear(dims[-1] * self.n_objects + self.scaler.n_global_features, self.embed_dim)

    def forward(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
        """Event embedding, shape (B, embed_dim)."""
        inp = self._inputs(momenta, types, globals_, with_pairs=False)
        keep = inp.mask.unsqueeze(1)  # (B, 1, P)
        h = inp.x.transpose(1, 2)  # (B, F, P)
        for conv in self.convs:
            h = F.gelu(conv(h)).masked_fill(~keep, 0.0)
        return F.gelu(self.fc(torch.cat([h.flatten(1), inp.glob], dim=1)))
