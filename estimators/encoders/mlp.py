"""Fully connected network on the flattened, p_T-ordered object list plus the event globals (``mlp``)."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from estimators.encoders.base import ObjectEncoder
from estimators.features import OBJECT_FEATURES
from estimators.layers import mlp

__all__ = ["MLPEncoder"]


class MLPEncoder(ObjectEncoder):
    """FCN encoder: concat(flatten(objects), globals) → Linear/GELU layers.

    Not permutation invariant: slot k is the k-th object as given (p_T-ordered in an EventSample).

    Parameters
    ----------
    n_objects : int
        P, fixed slot count (inputs are padded or truncated by p_T to it).
    n_globals : int
        G.
    hidden : sequence of int
        Layer widths; the last is ``embed_dim`` (GELU after every layer).
    """

    fixed_slots = True

    def __init__(self, *, n_objects: int, n_globals: int, hidden: Sequence[int] = (128, 128)) -> None:
        super().__init__(n_objects=n_objects, n_globals=n_globals, config=dict(hidden=hidden))
        n_in = self.n_objects * len(OBJECT_FEATURES) + self.scaler.n_global_features
        self.embed_dim = int(hidden[-1])
        self.net = mlp([n_in, *hidden], final_activation=True)

    def forward(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
        """Event embedding, shape (B, embed_dim)."""
        inp = self._inputs(momenta, types, globals_, with_pairs=False)
        return self.net(torch.cat([inp.x.flatten(1), inp.glob], dim=1))
