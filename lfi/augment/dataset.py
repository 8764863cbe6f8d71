"""On-the-fly training batches (x, θ0, θ1, y, r, t) drawn from an EventSample.

Nothing augmented is written to disk: each epoch draws fresh parameter points from the priors and,
for every point, events in proportion to their morphed weights, so a batch is a set of unweighted
events from p(x|θ0) (label y = 0) and from p(x|θ1) (y = 1), each with its joint log ratio
log r(x,z|θ0,θ1) and joint scores t(x,z|θ0), t(x,z|θ1) (docs/method.md §2; batches: §4).

Batch keys and shapes (B = batch size, P object slots, G globals, D parameters):
``momenta`` (B, P, 4) float32 GeV, ``types`` (B, P) int64, ``globals`` (B, G) float32,
``theta0``, ``theta1`` (B, D) float32, ``y`` (B,) float32, ``log_r`` (B,) float32 = log r(x,z|θ0,θ1),
``score0``, ``score1`` (B, D) float32 = t(x,z|θ0), t(x,z|θ1); with ``observables`` also
``observables`` (B, K) float32, the named high-level observables in their stored units (density methods).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch.utils.data import IterableDataset

from lfi.augment.joint import JointQuantities
from lfi.errors import OptionError
from lfi.events import EventSample

__all__ = ["AugmentedBatches"]


class AugmentedBatches(IterableDataset):
    """Iterable of training batches for ratio and score estimators (use with ``DataLoader(batch_size=None)``).

    Parameters
    ----------
    sample : EventSample
        Training events with a morphing setup.
    theta0_prior, theta1_prior : prior
        Objects with ``sample(n, rng) -> (n, D)`` (see :mod:`lfi.augment.priors`). θ1 is usually a
        :class:`~lfi.augment.priors.PointPrior` at the reference point.
    batch_size : int
        Events per batch; half are drawn at θ0 (y = 0) and half at θ1 (y = 1) unless ``only_theta0``.
    n_events : int, optional
        Events per epoch (default: as many as the sample has).
    events_per_theta : int
        Events drawn for each θ0 point (amortises the O(N) cost of weighting the sample).
    only_theta0 : bool
        Draw every event at θ0 with y = 0 (local score estimation, SALLY).
    seed : int
        Epoch e uses the generator ``default_rng([seed, e])``: reproducible and resumable.
    observables : sequence of str
        High-level observables (keys of ``sample.observables``) each batch also carries as ``observables`` (B, K).
    """

    def __init__(
        self,
        sample: EventSample,
        theta0_prior,
        theta1_prior,
        *,
        batch_size: int = 256,
        n_events: int | None = None,
        events_per_theta: int = 64,
        only_theta0: bool = False,
        seed: int = 0,
        observables: Sequence[str] = (),
    ):
        super().__init__()
        if batch_size < 2:
            raise OptionError(f"batch_size must be at least 2, got {batch_size}")
        self.sample, self.joint = sample, JointQuantities(sample)
        self.theta0_prior, self.theta1_prior = theta0_prior, theta1_prior
        self.batch_size, self.events_per_theta, self.only_theta0 = batch_size, events_per_theta, only_theta0
        self.n_events = n_events or len(sample)
        self.seed, self.epoch = seed, 0
        self.rank, self.world = 0, 1
        missing = [name for name in observables if name not in sample.observables]
        if missing:
            raise OptionError(f"observable {missing[0]!r} is not in this sample; it has "
                              f"{', '.join(sorted(sample.observables)) or 'none'}")
        self.observables = (np.stack([sample.observables[name] for name in observables], axis=1)
                            if observables else None)  # (N, K) float32

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose draws the next iteration yields."""
        self.epoch = epoch

    def set_rank(self, rank: int, world: int) -> None:
        """Yield only every ``world``-th batch of each epoch, starting at ``rank`` (data-parallel training: every
        process draws the same epoch, and all get the same number of batches)."""
        if self._all_batches() < world:
            raise OptionError(f"{self._all_batches()} batch(es) per epoch cannot feed {world} processes: raise "
                              "events_per_epoch or lower the batch size")
        self.rank, self.world = rank, world

    def _all_batches(self) -> int:
        return max(self.n_events // self.batch_size, 1)

    def __len__(self) -> int:
        """Batches per epoch that this process yields."""
        return self._all_batches() // self.world

    def draw_events(self, theta: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Indices of n events drawn with probability ∝ w_e(θ_t) for each of T points θ_t, shape (T, n).

        Each distinct point costs one pass over the sample (its weights and their cumulative sum), done for a block
        of points at a time as one matrix product; repeated points (a fixed θ1, a score method's reference) share
        that pass, and every occurrence still gets its own independent draws.
        """
        unique, inverse = np.unique(theta, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        counts = np.bincount(inverse, minlength=len(unique))
        rows_by_point = np.argsort(inverse, kind="stable")  # the rows of point 0, then of point 1, ...
        drawn = np.empty((len(theta), n), dtype=np.int64)
        n_sample, position = len(self.sample), 0
        block = max(1, (1 << 22) // max(n_sample, 1))  # ≤ 4 M weights (32 MB) at a time
        for start in range(0, len(unique), block):
            points = unique[start : start + block]
            cdf = self.joint.morpher.weights(points) @ self.joint.basis_weights.T  # (T_b, N) weights in pb
            np.clip(cdf, 0.0, None, out=cdf)  # negative weights cannot be drawn from; they only enter σ(θ)
            np.cumsum(cdf, axis=1, out=cdf)
            for point, cumulative, count in zip(points, cdf, counts[start : start + block]):
                if cumulative[-1] <= 0:
                    raise OptionError(f"no positive weight at θ = {point.tolist()}: cannot draw events there")
                rows = rows_by_point[position : position + count]
                drawn[rows] = np.searchsorted(cumulative, rng.uniform(0.0, cumulative[-1], (count, n)), side="right")
                position += count
        return np.minimum(drawn, n_sample - 1)

    def _epoch_draws(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        n_total = self._all_batches() * self.batch_size
        per_label = 1 if self.only_theta0 else 2
        n_theta = int(np.ceil(n_total / (per_label * self.events_per_theta)))
        theta0 = self.theta0_prior.sample(n_theta, rng)
        theta1 = self.theta1_prior.sample(n_theta, rng)
        m = self.events_per_theta
        labels = [(0, theta0)] if self.only_theta0 else [(0, theta0), (1, theta1)]
        # rows: label-major blocks of n_theta points × m events; every row carries its θ0, θ1 and label
        events = np.concatenate([self.draw_events(theta, m, rng).reshape(-1) for _, theta in labels])
        t0 = np.tile(np.repeat(theta0, m, axis=0), (per_label, 1))
        t1 = np.tile(np.repeat(theta1, m, axis=0), (per_label, 1))
        y = np.concatenate([np.full(n_theta * m, label, np.float32) for label, _ in labels])
        order = rng.permutation(n_theta * per_label * m)[:n_total]
        return {"events": events[order], "theta0": t0[order], "theta1": t1[order], "y": y[order]}

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        draws = self._epoch_draws(rng)
        worker = torch.utils.data.get_worker_info()
        batches = range(self._all_batches())[self.rank :: self.world][: len(self)]
        if worker is not None:
            batches = batches[worker.id :: worker.num_workers]
        for b in batches:
            sl = slice(b * self.batch_size, (b + 1) * self.batch_size)
            yield self.make_batch(draws["events"][sl], draws["theta0"][sl], draws["theta1"][sl], draws["y"][sl])

    def make_batch(self, events: np.ndarray, theta0: np.ndarray, theta1: np.ndarray, y: np.ndarray) -> dict:
        """Tensors of one batch for the given event indices and parameter points."""
        s, j = self.sample, self.joint
        batch = {
            "momenta": torch.from_numpy(s.momenta[events]),
            "types": torch.from_numpy(s.types[events].astype(np.int64)),
            "globals": torch.from_numpy(s.globals_[events]),
            "theta0": torch.from_numpy(theta0.astype(np.float32)),
            "theta1": torch.from_numpy(theta1.astype(np.float32)),
            "y": torch.from_numpy(np.asarray(y, np.float32)),
        }
        log_r, score0, score1 = j.ratio_and_scores(events, theta0, theta1)
        batch.update(log_r=torch.from_numpy(log_r.astype(np.float32)),
                     score0=torch.from_numpy(score0.astype(np.float32)),
                     score1=torch.from_numpy(score1.astype(np.float32)))
        if self.observables is not None:
            batch["observables"] = torch.from_numpy(self.observables[events])
        return batch
