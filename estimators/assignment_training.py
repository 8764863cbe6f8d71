"""Training an :class:`estimators.assignment.AssignmentModel` on events with ``jet_partons`` truth
(docs/assignment.md §2): the trainer of :func:`lfi.train.fit` with the masked (partial-event) assignment loss.

Loss = Σ_k mean over the events where particle k is reconstructable of −log P_k(true tuple)
     + mean over all events and particles of BCE(detection logit, reconstructable).

Each particle's cross-entropy is averaged over its own reconstructable events (the class balance of the
partial-event loss: a particle that is often lost weighs as much as one that is always there). Events in which no
particle is reconstructable still train the detection head. The interchangeable pairs are already symmetric in
the tensors (P(…, j, k) and P(…, k, j) are one entry), so the minimum of the loss over the event's symmetry group
is this loss: the two tops are distinct particles.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from estimators.assignment import AssignmentModel
from estimators.encoders import parse_options
from estimators.network_training import options_as_text
from lfi.assignment.topology import JET_TRUTH_KEY, topology as topology_named
from lfi.errors import OptionError
from lfi.train.class_batches import IndexedBatches
from lfi.train.distributed import is_main_process
from lfi.train.trainer import CHECKPOINT_FILE, TrainConfig, fit

__all__ = ["AssignmentLoss", "AssignmentBatches", "train_assignment", "assignment_targets"]


@dataclass(frozen=True)
class AssignmentLoss:
    """The loss of the module docstring, called as ``loss(batch, outputs)`` by :func:`lfi.train.fit`."""

    n_particles: int
    kind: str = "assignment"
    needs_score: bool = False
    density: bool = False

    def __call__(self, batch: dict[str, Tensor], outputs: dict[str, Tensor]) -> Tensor:
        present = batch["present"].float()
        total = F.binary_cross_entropy_with_logits(outputs["detection"].float(), present)
        for k in range(self.n_particles):
            log_p = outputs[f"log_p_{k}"].reshape(len(present), -1)
            picked = log_p.gather(1, batch["target"][:, k : k + 1]).squeeze(1)
            total = total - (picked * present[:, k]).sum() / present[:, k].sum().clamp(min=1.0)
        return total


def assignment_targets(topology: str, jet_partons: np.ndarray, n_slots: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat tensor index of every particle's true canonical tuple (0 where not reconstructable) and the
    reconstructable mask, shapes (N, K) int64 and (N, K) bool."""
    top = topology_named(topology)
    tuples, present = top.targets(jet_partons)
    if np.any(np.asarray(jet_partons) >= n_slots):
        raise OptionError(f"the {JET_TRUTH_KEY} truth points beyond the {n_slots} object slots")
    target = np.stack([np.ravel_multi_index(np.maximum(t, 0).T, (n_slots,) * t.shape[1]) for t in tuples], axis=1)
    return np.where(present, target, 0).astype(np.int64), present


class AssignmentBatches(IndexedBatches):
    """Batches of events with their assignment targets (:class:`lfi.train.class_batches.IndexedBatches`).

    Yields dicts with ``momenta`` (B, P, 4) float32, ``types`` (B, P) int64, ``globals`` (B, G) float32,
    ``target`` (B, K) int64 and ``present`` (B, K) bool.
    """

    def __init__(self, sample, index: np.ndarray, target: np.ndarray, present: np.ndarray, *, batch_size: int,
                 shuffle: bool = True, seed: int = 0) -> None:
        super().__init__(index, batch_size=batch_size, shuffle=shuffle, seed=seed)
        self.sample, self.target, self.present = sample, target, present

    def make_batch(self, rows: np.ndarray) -> dict:
        s, events = self.sample, self.index[rows]
        return {
            "momenta": torch.from_numpy(np.ascontiguousarray(s.momenta[events], np.float32)),
            "types": torch.from_numpy(s.types[events].astype(np.int64)),
            "globals": torch.from_numpy(np.ascontiguousarray(s.globals_[events], np.float32)),
            "target": torch.from_numpy(self.target[events]),
            "present": torch.from_numpy(self.present[events]),
        }


def train_assignment(sample, topology: str, encoder: str, out: str | Path, *, options: dict | None = None,
                     head_config: dict | None = None, config: TrainConfig | None = None,
                     validation_fraction: float = 0.1, progress: bool = True) -> AssignmentModel:
    """Train an assignment model on ``sample`` (with ``jet_partons`` truth) and save it to ``out``.

    Parameters
    ----------
    sample : lfi.events.EventSample
    topology : str
        ``tth`` or ``ttbar``.
    encoder : str
        An encoder with per-object embeddings (``part``).
    out : path
        Model directory (``config.json``, ``weights.pt``, ``history.json``).
    options : dict, optional
        Encoder options (text or values), e.g. ``{"pair": "mass,delta_r", "interaction": "sm_running"}``.
    head_config : dict, optional
        ``dim``, ``candidates`` of :class:`AssignmentModel`.
    config : TrainConfig, optional
    validation_fraction : float
        Random events held out for early stopping.
    """
    config = config or TrainConfig()
    out = Path(out)
    if (out / CHECKPOINT_FILE).exists():
        raise OptionError(f"{out} holds an unfinished run ({CHECKPOINT_FILE}); remove it or pick another --out")
    if JET_TRUTH_KEY not in sample.truth_events:
        raise OptionError(f"the events have no {JET_TRUTH_KEY!r} truth (simulate tth or ttbar with this version)")
    if not 0 < validation_fraction < 1:
        raise OptionError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    n_slots = sample.momenta.shape[1]
    target, present = assignment_targets(topology, sample.truth_events[JET_TRUTH_KEY], n_slots)
    order = np.random.default_rng(config.seed).permutation(len(sample))
    n_val = max(1, int(round(validation_fraction * len(sample))))
    val, train = np.sort(order[:n_val]), np.sort(order[n_val:])
    encoder_config = {"n_objects": n_slots, "n_globals": sample.globals_.shape[1],
                      **parse_options(encoder, options_as_text(options or {}))}
    torch.manual_seed(config.seed)
    model = AssignmentModel(encoder, encoder_config, topology, head_config,
                            {"trained_on": len(train), "global_names": list(sample.global_names)})
    model.encoder.fit_input_scaling(torch.from_numpy(sample.momenta[train].astype(np.float32)),
                                    torch.from_numpy(sample.types[train].astype(np.int64)),
                                    torch.from_numpy(sample.globals_[train].astype(np.float32)))
    batches = dict(batch_size=config.batch_size, seed=config.seed)
    fit(model, AssignmentLoss(len(model.heads)), AssignmentBatches(sample, train, target, present, **batches),
        AssignmentBatches(sample, val, target, present, shuffle=False, **batches), config, out, progress=progress)
    if is_main_process():
        (out / CHECKPOINT_FILE).unlink(missing_ok=True)
        model.to("cpu").save(out)
    return model
