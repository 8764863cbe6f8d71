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
        missing = [name for name in observables if name not in sample.observables]
        if missing:
            raise OptionError(f"observable {missing[0]!r} is not in this sample; it has "
                              f"{', '.join(sorted(sample.observables)) or 'none'}")
        self.observables = (np.stack([sample.observables[name] for name in observables], axis=1)
                            if observables else None)  # (N, K) float32

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose draws the next iteration yields."""
        self.epoch = epoch

    def __len__(self) -> int:
        return max(self.n_events // self.batch_size, 1)

    def _draw_events(self, theta: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """Indices of n events drawn with probability ∝ w_e(θ)."""
        w = self.joint.weights(theta[None])[:, 0]
        if np.any(w < 0):
            w = np.clip(w, 0.0, None)  # negative weights cannot be drawn from; they only enter σ(θ)
        cdf = np.cumsum(w)
        if cdf[-1] <= 0:
            raise OptionError(f"no positive weight at θ = {theta.tolist()}: cannot draw events there")
        return np.minimum(np.searchsorted(cdf, rng.uniform(0, cdf[-1], n), side="right"), len(w) - 1)

    def _epoch_draws(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        n_total = len(self) * self.batch_size
        per_label = 1 if self.only_theta0 else 2
        n_theta = int(np.ceil(n_total / (per_label * self.events_per_theta)))
        theta0 = self.theta0_prior.sample(n_theta, rng)
        theta1 = self.theta1_prior.sample(n_theta, rng)
        m = self.events_per_theta
        events, t0, t1, y = [], [], [], []
        for i in range(n_theta):
            labels = [(0, theta0[i])] if self.only_theta0 else [(0, theta0[i]), (1, theta1[i])]
            for label, theta in labels:
                events.append(self._draw_events(theta, m, rng))
                t0.append(np.repeat(theta0[i][None], m, axis=0))
                t1.append(np.repeat(theta1[i][None], m, axis=0))
                y.append(np.full(m, label, np.float32))
        order = rng.permutation(n_theta * per_label * m)[:n_total]
        return {
            "events": np.concatenate(events)[order],
            "theta0": np.concatenate(t0)[order],
            "theta1": np.concatenate(t1)[order],
            "y": np.concatenate(y)[order],
        }

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        draws = self._epoch_draws(rng)
        worker = torch.utils.data.get_worker_info()
        batches = range(len(self))
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
