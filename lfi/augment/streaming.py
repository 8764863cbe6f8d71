"""Training batches streamed from an event file (or a sharded sample) chunk by chunk: memory set by the chunk, not by
the file (``lfi train --option stream=CHUNK``).

The in-memory :class:`~lfi.augment.dataset.AugmentedBatches` draws each θ point's events from the whole sample with
probability ∝ w_e(θ). Here the sample is a list of chunks (contiguous event ranges, read with
``EventSample.load(path, slice)``), and the same draw is made in two steps:

1. a pre-pass stores each chunk's cross sections at the morphing basis, S_c (C numbers per chunk), so that
   σ_c(θ) = α(θ)·S_c; every epoch, each θ point's events are shared out over the chunks by a multinomial draw with
   probabilities σ_c(θ) / Σ_c σ_c(θ);
2. the chunks are then read one at a time, in a random order, and each point's share is drawn inside the chunk
   ∝ w_e(θ), exactly as in memory; the rows read from a chunk are shuffled with those left over from the one before and
   cut into batches.

Choosing a chunk ∝ σ_c(θ) and then an event ∝ w_e(θ) inside it is the draw ∝ w_e(θ) from the whole sample, exactly
when the weights are non-negative. Negative weights cannot be drawn from (they are clipped per event, as in memory)
but still enter σ_c(θ): with them the chunk shares are approximate. Batches mix the events of one or two chunks, which
is harmless for files whose events come in random order (every generated file, every shard); a file of several
processes one after the other (``lfi merge``) is read in a random chunk order each epoch, but a batch then holds
mostly one process.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import IterableDataset

from lfi.augment.joint import JointQuantities
from lfi.errors import OptionError
from lfi.events import EventSample

__all__ = ["EventChunks", "StreamingBatches"]


class EventChunks:
    """Contiguous event ranges of one file, read one at a time.

    Parameters
    ----------
    path : path-like
        Event file or sharded sample directory.
    ranges : sequence of (int, int)
        [start, stop) event ranges, each at most one chunk long.
    file_events : int, optional
        Events in the whole file (default: in these ranges); weights scale by file_events / len(self) into σ.
    """

    def __init__(self, path: str | os.PathLike, ranges: Sequence[tuple[int, int]], file_events: int | None = None):
        self.path, self.ranges = Path(path), [(int(a), int(b)) for a, b in ranges]
        self.file_events = file_events if file_events is not None else len(self)

    @classmethod
    def split(cls, path: str | os.PathLike, n_events: int, chunk: int,
              validation_fraction: float) -> tuple["EventChunks", "EventChunks"]:
        """Training and validation chunks of ``chunk`` events: every k-th chunk validates (k = round(1/fraction)),
        so that both parts span the whole file.

        Raises
        ------
        OptionError
            Fewer than two chunks (nothing to hold out).
        """
        if chunk < 1:
            raise OptionError(f"option stream={chunk}: expected a positive number of events per chunk")
        ranges = [(a, min(a + chunk, n_events)) for a in range(0, n_events, chunk)]
        if len(ranges) < 2:
            raise OptionError(f"option stream={chunk}: the file has {n_events} events, one chunk; streaming needs at "
                              "least two (one to validate on) — lower stream, or train without it")
        every = max(2, min(len(ranges), int(round(1 / validation_fraction))))
        validation = [r for i, r in enumerate(ranges) if i % every == every - 1]
        training = [r for i, r in enumerate(ranges) if i % every != every - 1]
        return cls(path, training, n_events), cls(path, validation, n_events)

    def __len__(self) -> int:
        """Events in all the chunks."""
        return sum(b - a for a, b in self.ranges)

    @property
    def weight_sums(self) -> np.ndarray:
        """Each chunk's weights summed at every benchmark, shape (K, B) in pb; one pass over the chunks, kept."""
        if not hasattr(self, "_weight_sums"):
            self._weight_sums = np.array([self.load(i).weights.sum(axis=0) for i in range(len(self.ranges))])
        return self._weight_sums

    @property
    def cross_sections(self) -> np.ndarray:
        """σ at every benchmark estimated from these chunks alone and scaled to the whole file's events, shape (B,)
        in pb (as :meth:`EventSample.split` rescales a part)."""
        return self.weight_sums.sum(axis=0) * (self.file_events / len(self))

    def load(self, i: int) -> EventSample:
        """Chunk ``i`` as a sample."""
        a, b = self.ranges[i]
        return EventSample.load(self.path, slice(a, b))


class StreamingBatches(IterableDataset):
    """Training batches like :class:`~lfi.augment.dataset.AugmentedBatches` (same keys, shapes and options), drawn
    from :class:`EventChunks` one chunk in memory at a time (see the module docstring).

    Parameters
    ----------
    chunks : EventChunks
    theta0_prior, theta1_prior : prior
    batch_size, n_events, events_per_theta, only_theta0, seed, observables
        As for :class:`~lfi.augment.dataset.AugmentedBatches`; ``n_events`` is required (events per epoch).
    """

    def __init__(self, chunks: EventChunks, theta0_prior, theta1_prior, *, batch_size: int = 256, n_events: int,
                 events_per_theta: int = 64, only_theta0: bool = False, seed: int = 0,
                 observables: Sequence[str] = ()):
        super().__init__()
        if batch_size < 2:
            raise OptionError(f"batch_size must be at least 2, got {batch_size}")
        self.chunks, self.theta0_prior, self.theta1_prior = chunks, theta0_prior, theta1_prior
        self.batch_size, self.n_events, self.events_per_theta = batch_size, int(n_events), events_per_theta
        self.only_theta0, self.seed, self.epoch, self.observables = only_theta0, seed, 0, tuple(observables)
        self.rank, self.world = 0, 1
        first = chunks.load(0)
        self.morpher = JointQuantities(first).morpher
        self.chunk_sigma = chunks.weight_sums[:, first.morphing_basis]  # (K, C) pb: each chunk's σ at the basis

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose draws the next iteration yields."""
        self.epoch = epoch

    def set_rank(self, rank: int, world: int) -> None:
        """Yield only every ``world``-th batch, starting at ``rank`` (every process reads the same stream)."""
        if self._all_batches() < world:
            raise OptionError(f"{self._all_batches()} batch(es) per epoch cannot feed {world} processes")
        self.rank, self.world = rank, world

    def _all_batches(self) -> int:
        return max(self.n_events // self.batch_size, 1)

    def __len__(self) -> int:
        """Batches per epoch that this process yields."""
        return self._all_batches() // self.world

    def _shares(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """How many of each point's ``events_per_theta`` events come from each chunk, shape (T, K)."""
        sigma = np.clip(self.morpher.weights(theta) @ self.chunk_sigma.T, 0.0, None)  # (T, K)
        total = sigma.sum(axis=1, keepdims=True)
        if np.any(total <= 0):
            bad = theta[np.flatnonzero(total[:, 0] <= 0)[0]]
            raise OptionError(f"no positive cross section at θ = {bad.tolist()}: cannot draw events there")
        return np.array([rng.multinomial(self.events_per_theta, p) for p in sigma / total])

    def __iter__(self):
        from lfi.augment.dataset import AugmentedBatches

        rng = np.random.default_rng([self.seed, self.epoch])
        n_total = self._all_batches() * self.batch_size
        per_label = 1 if self.only_theta0 else 2
        n_theta = int(np.ceil(n_total / (per_label * self.events_per_theta)))
        theta0 = self.theta0_prior.sample(n_theta, rng)
        theta1 = self.theta1_prior.sample(n_theta, rng)
        labels = [(0, theta0)] if self.only_theta0 else [(0, theta0), (1, theta1)]
        shares = [self._shares(theta, rng) for _, theta in labels]  # per label, (T, K)
        mine = set(range(self._all_batches())[self.rank :: self.world][: len(self)])
        buffer: list[dict] = []
        batch_index = 0
        for k in rng.permutation(len(self.chunks.ranges)):
            if batch_index >= self._all_batches():
                break
            chunk = AugmentedBatches(self.chunks.load(k), self.theta0_prior, self.theta1_prior,
                                     batch_size=self.batch_size, observables=self.observables)
            rows = []
            for (label, theta), share in zip(labels, shares):
                counts = share[:, k]
                points = np.flatnonzero(counts)
                if not len(points):
                    continue
                drawn = chunk.draw_events(theta[points], int(counts.max()), rng)  # (T_k, max) indices in the chunk
                take = np.arange(drawn.shape[1]) < counts[points, None]
                repeat = counts[points]
                rows.append((drawn[take], np.repeat(theta0[points], repeat, axis=0),
                             np.repeat(theta1[points], repeat, axis=0), np.full(take.sum(), label, np.float32)))
            if not rows:
                continue
            events, t0, t1, y = (np.concatenate(parts) for parts in zip(*rows))
            buffer.append(chunk.make_batch(events, t0, t1, y))
            merged = {key: torch.cat([b[key] for b in buffer]) for key in buffer[0]}
            order = torch.from_numpy(rng.permutation(len(merged["y"])))
            merged = {key: value[order] for key, value in merged.items()}
            n_full = len(merged["y"]) // self.batch_size
            for b in range(n_full):
                if batch_index >= self._all_batches():
                    break
                if batch_index in mine:
                    yield {key: value[b * self.batch_size : (b + 1) * self.batch_size] for key, value in merged.items()}
                batch_index += 1
            rest = slice(n_full * self.batch_size, None)
            buffer = [{key: value[rest] for key, value in merged.items()}]
