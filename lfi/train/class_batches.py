"""Batches over a fixed set of events (:class:`IndexedBatches`: a new order each epoch, shareable over torchrun
processes), and the labelled batches of classifier training (``lfi classify``) with class-balanced training weights
(:func:`lfi.events.labelled.balanced_weights`)."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import IterableDataset

from lfi.errors import OptionError

__all__ = ["ClassBatches", "IndexedBatches"]


class IndexedBatches(IterableDataset):
    """Batches over a fixed set of events, in a new order every epoch when ``shuffle``, shareable over data-parallel
    processes; subclasses say what a batch holds (:meth:`make_batch`).

    Parameters
    ----------
    index : ndarray of int
        The events of this split.
    batch_size : int
    shuffle : bool
        A new order every epoch (``default_rng([seed, epoch])``); validation batches keep the given order.
    seed : int
    """

    def __init__(self, index: np.ndarray, *, batch_size: int = 256, shuffle: bool = True, seed: int = 0):
        super().__init__()
        if batch_size < 1:
            raise OptionError(f"batch_size must be ≥ 1, got {batch_size}")
        self.index = np.asarray(index)
        self.batch_size, self.shuffle, self.seed, self.epoch = int(batch_size), shuffle, seed, 0
        self.rank, self.world = 0, 1

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose order the next iteration yields."""
        self.epoch = epoch

    def set_rank(self, rank: int, world: int) -> None:
        """Yield only every ``world``-th batch, starting at ``rank`` (data-parallel training). Shuffled (training)
        batches are cut to the same number in every process, as each step waits for all of them; validation
        batches are not, so that every event is evaluated once."""
        if self._all_batches() < world:
            raise OptionError(f"{self._all_batches()} batch(es) cannot feed {world} processes: lower the batch size")
        self.rank, self.world = rank, world

    def _all_batches(self) -> int:
        return -(-len(self.index) // self.batch_size)

    def __len__(self) -> int:
        """Batches that this process yields."""
        mine = len(range(self._all_batches())[self.rank :: self.world])
        return min(mine, self._all_batches() // self.world) if self.shuffle else mine

    def __iter__(self):
        order = np.arange(len(self.index))
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(order)
        for batch in range(self._all_batches())[self.rank :: self.world][: len(self)]:
            yield self.make_batch(order[batch * self.batch_size : (batch + 1) * self.batch_size])

    def make_batch(self, rows: np.ndarray) -> dict:  # pragma: no cover - every subclass defines it
        """The batch of the split's positions ``rows`` (events ``self.index[rows]``)."""
        raise NotImplementedError


class ClassBatches(IndexedBatches):
    """Iterable of classifier batches over a subset of :class:`lfi.events.labelled.LabelledEvents`.

    Parameters
    ----------
    events : LabelledEvents
    index : ndarray of int
        The events of this split.
    weights : ndarray, shape (len(index),)
        Training weight of each of them.
    batch_size, shuffle, seed
        As for :class:`IndexedBatches`.

    Yields
    ------
    dict
        ``momenta`` (B, P, 4) float32, ``types`` (B, P) int64, ``globals`` (B, G) float32, ``label`` (B,) int64,
        ``weight`` (B,) float32.
    """

    def __init__(self, events, index: np.ndarray, weights: np.ndarray, *, batch_size: int = 256, shuffle: bool = True,
                 seed: int = 0):
        super().__init__(index, batch_size=batch_size, shuffle=shuffle, seed=seed)
        if len(index) != len(weights):
            raise ValueError(f"{len(index)} events but {len(weights)} weights")
        self.events, self.weights = events, np.asarray(weights, np.float32)

    def make_batch(self, rows: np.ndarray) -> dict:
        e, events = self.events, self.index[rows]
        return {
            "momenta": torch.from_numpy(e.momenta[events]),
            "types": torch.from_numpy(e.types[events].astype(np.int64)),
            "globals": torch.from_numpy(e.globals_[events]),
            "label": torch.from_numpy(e.labels[events]),
            "weight": torch.from_numpy(self.weights[rows]),
        }
