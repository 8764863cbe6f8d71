"""Jet–parton assignment with symmetric tensor attention on an encoder's per-object embeddings (SPANet: Fenton
et al., arXiv:2010.09206; Shmakov et al., arXiv:2106.03898; docs/assignment.md §2).

For a particle decaying to r jets, the joint distribution over jet tuples is

    P(j1, …, jr) = softmax over valid tuples of  O(j1, …, jr) = Σ x_{j1}^a … x_{jr}^c S_{a…c}

with x the projected object embeddings and S a learned rank-r tensor made symmetric in the particle's
interchangeable pair (S = Θ + Θ with its last two indices swapped). A tuple is valid when its jets are real jets,
all different and, for a symmetric pair, in increasing slot order (one entry per unordered pair). A detection
head gives, per particle, the probability that it is reconstructable.

Decoding is part of the model (:meth:`AssignmentModel.predict`): the best consistent assignment — the largest sum
of the particles' log-probabilities among the top ``candidates`` tuples of each particle with no jet used twice,
a particle left unassigned only when no consistent choice gives it jets.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from estimators.encoders import build_encoder
from estimators.encoders.base import ObjectEncoder
from estimators.estimator import CONFIG_FILE as _CONFIG, WEIGHTS_FILE as _WEIGHTS, save_model_files
from estimators.layers import mlp
from lfi.assignment.topology import topology as topology_named
from lfi.errors import ModelError, OptionError
from lfi.objects import BJET, JET

__all__ = ["SymmetricTensorAttention", "AssignmentModel", "decode", "ASSIGNMENT_KIND", "INVALID_LOGIT"]

ASSIGNMENT_KIND = "assignment"
"""The ``kind`` in a saved assignment model's ``config.json``."""
INVALID_LOGIT = -1.0e4
"""Logit of an invalid tuple: exp(−10⁴) vanishes in float16, bfloat16 and float32, and sums stay finite."""


def _tuple_mask(slots: int, rank: int, symmetric: bool, device: torch.device) -> Tensor:
    """(P,)*rank bool: the jets of a tuple are all different and the symmetric pair is increasing."""
    index = torch.meshgrid(*[torch.arange(slots, device=device)] * rank, indexing="ij")
    ok = torch.ones((slots,) * rank, dtype=torch.bool, device=device)
    for a, b in itertools.combinations(range(rank), 2):
        ok &= index[a] != index[b]
    if symmetric:
        ok &= index[-2] < index[-1]
    return ok


class SymmetricTensorAttention(nn.Module):
    """Logits over the jet tuples of one particle (see the module docstring).

    Parameters
    ----------
    embed_dim : int
        Width of the encoder's object embeddings.
    rank : int
        Jets of the particle (1, 2 or 3).
    symmetric : bool
        Whether the last two jets are interchangeable.
    dim : int
        Width of the projection the tensor acts on (the tensor has dim^rank entries).
    """

    def __init__(self, embed_dim: int, rank: int, symmetric: bool, dim: int = 32) -> None:
        super().__init__()
        if rank not in (1, 2, 3):
            raise OptionError(f"tensor attention supports particles of 1, 2 or 3 jets, got {rank}")
        self.rank, self.symmetric = rank, bool(symmetric and rank >= 2)
        self.project = nn.Sequential(nn.LayerNorm(embed_dim), nn.Linear(embed_dim, dim))
        self.theta = nn.Parameter(torch.randn((dim,) * rank) * dim ** (-rank / 2))

    def weights(self) -> Tensor:
        """The tensor S, symmetric in its last two indices for a symmetric particle."""
        return self.theta + self.theta.transpose(-1, -2) if self.symmetric else self.theta

    def forward(self, objects: Tensor, is_jet: Tensor) -> Tensor:
        """Log-probabilities of every tuple, shape (B, P, …, P) (rank times P); invalid tuples ≈ −10⁴.

        Parameters
        ----------
        objects : Tensor, shape (B, P, E)
        is_jet : Tensor, shape (B, P), bool
        """
        x = self.project(objects)
        s = self.weights()
        if self.rank == 1:
            logits = x @ s
        elif self.rank == 2:
            logits = torch.einsum("bid,de,bje->bij", x, s, x)
        else:
            inner = torch.einsum("bkf,def->bkde", x, s)  # contracted pairwise: (B, P, P, dim) at most
            pair = torch.einsum("bje,bkde->bjkd", x, inner)
            logits = torch.einsum("bid,bjkd->bijk", x, pair)
        b, p = is_jet.shape
        valid = _tuple_mask(p, self.rank, self.symmetric, is_jet.device).unsqueeze(0)
        for axis in range(self.rank):
            shape = [b] + [1] * self.rank
            shape[axis + 1] = p
            valid = valid & is_jet.view(shape)
        logits = logits.float().masked_fill(~valid, INVALID_LOGIT)
        return torch.log_softmax(logits.reshape(b, -1), dim=1).view_as(logits)


class AssignmentModel(nn.Module):
    """Encoder + one tensor-attention head per particle + a detection head.

    Parameters
    ----------
    encoder : str
        Registry name of an encoder with per-object embeddings (``part``, ``sett``, ``particlenet``).
    encoder_config : dict
        Its hyper-parameters; ``n_objects`` must cover every object slot of the events.
    topology : str
        A key of :data:`lfi.assignment.TOPOLOGIES`.
    head_config : dict
        ``dim`` (tensor width, default 32), ``candidates`` (tuples per particle searched by the decoding, default 8).
    metadata : dict
        JSON-serialisable extras saved with the model.
    """

    def __init__(self, encoder: str, encoder_config: dict, topology: str, head_config: dict | None = None,
                 metadata: dict | None = None) -> None:
        super().__init__()
        self.encoder_name, self.topology_name = encoder, topology
        self.topology = topology_named(topology)
        self.head_config = {"dim": 32, "candidates": 8, **(head_config or {})}
        unknown = sorted(set(self.head_config) - {"dim", "candidates"})
        if unknown:
            raise OptionError(f"unknown assignment head option(s) {', '.join(unknown)}; valid: dim, candidates")
        self.encoder = build_encoder(encoder, **encoder_config)
        if type(self.encoder).encode_objects is ObjectEncoder.encode_objects:
            self.encoder.encode_objects(None, None, None)  # raises the encoder's one-line refusal
        width = self.encoder.embed_dim
        self.heads = nn.ModuleList(SymmetricTensorAttention(self.encoder.object_dim, p.rank, p.symmetric,
                                                            int(self.head_config["dim"]))
                                   for p in self.topology.particles)
        self.detection = mlp([width, width, len(self.topology.particles)], norm_input=True)
        self.metadata = dict(metadata or {})

    @property
    def config(self) -> dict[str, Any]:
        return {"kind": ASSIGNMENT_KIND, "encoder": self.encoder_name, "encoder_config": self.encoder.config,
                "topology": self.topology_name, "head_config": self.head_config, "metadata": self.metadata}

    def forward(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> dict[str, Tensor]:
        """``log_p_<k>`` (B, P, …, P) for every particle k and ``detection`` logits (B, K).

        Parameters
        ----------
        momenta : Tensor, shape (B, P, 4)
            GeV.
        types : Tensor, shape (B, P)
        globals_ : Tensor, shape (B, G)
        """
        objects, event = self.encoder.encode_objects(momenta, types, globals_)
        is_jet = (types == JET) | (types == BJET)
        out = {f"log_p_{k}": head(objects, is_jet) for k, head in enumerate(self.heads)}
        out["detection"] = self.detection(event)
        return out

    @torch.no_grad()
    def predict(self, momenta: np.ndarray, types: np.ndarray, globals_: np.ndarray, *, batch_size: int = 1024,
                device: str = "cpu") -> dict[str, Any]:
        """Decoded assignments and probabilities of every event.

        Returns
        -------
        dict
            ``assignment``: list of (N, rank) int arrays (object slots, canonical order, −1 unassigned);
            ``assignment_probability`` (N, K): P of the chosen tuple (0 unassigned); ``detection_probability``
            (N, K).
        """
        self.to(device).eval()
        parts: list[tuple[list[np.ndarray], np.ndarray, np.ndarray]] = []
        for start in range(0, len(momenta), batch_size):
            sl = slice(start, start + batch_size)
            out = self(torch.from_numpy(np.ascontiguousarray(momenta[sl], np.float32)).to(device),
                       torch.from_numpy(types[sl].astype(np.int64)).to(device),
                       torch.from_numpy(np.ascontiguousarray(globals_[sl], np.float32)).to(device))
            log_p = [out[f"log_p_{k}"].cpu() for k in range(len(self.heads))]
            jets, chosen = decode(log_p, int(self.head_config["candidates"]))
            parts.append(([j.numpy() for j in jets], chosen.exp().numpy(),
                          torch.sigmoid(out["detection"].float()).cpu().numpy()))
        k = len(self.topology.particles)
        if not parts:
            return {"assignment": [np.zeros((0, p.rank), np.int64) for p in self.topology.particles],
                    "assignment_probability": np.zeros((0, k)), "detection_probability": np.zeros((0, k))}
        return {"assignment": [np.concatenate([p[0][i] for p in parts]) for i in range(k)],
                "assignment_probability": np.concatenate([p[1] for p in parts]).astype(np.float64),
                "detection_probability": np.concatenate([p[2] for p in parts]).astype(np.float64)}

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``weights.pt`` (state dict incl. the input scaling) into ``directory``."""
        return save_model_files(directory, self.config, self)

    @classmethod
    def load(cls, directory: str | os.PathLike, map_location: str | torch.device = "cpu") -> "AssignmentModel":
        """Rebuild a saved model (weights read with ``weights_only=True``)."""
        directory = Path(directory)
        try:
            config = json.loads((directory / _CONFIG).read_text())
            if config.get("kind") != ASSIGNMENT_KIND:
                raise KeyError("kind")
            model = cls(config["encoder"], config["encoder_config"], config["topology"], config["head_config"],
                        config.get("metadata"))
            model.load_state_dict(torch.load(directory / _WEIGHTS, map_location=map_location, weights_only=True))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as err:
            raise ModelError(f"{directory}: not a saved assignment model ({type(err).__name__}: {err})") from None
        return model


def decode(log_p: list[Tensor], candidates: int = 8) -> tuple[list[Tensor], Tensor]:
    """The best consistent assignment of every event (see the module docstring).

    Parameters
    ----------
    log_p : list of Tensor, one (B, P, …, P) per particle
    candidates : int
        Tuples per particle searched (the most probable ones).

    Returns
    -------
    list of Tensor, one (B, rank) long per particle
        Object slots, −1 where the particle is unassigned.
    Tensor, shape (B, K)
        log P of each chosen tuple (−inf unassigned).
    """
    b = log_p[0].shape[0]
    options, option_jets = [], []
    for lp in log_p:
        rank, p = lp.dim() - 1, lp.shape[1]
        flat = lp.reshape(b, -1)
        top = torch.topk(flat, min(candidates, flat.shape[1]), dim=1)
        score = top.values.masked_fill(top.values < 0.5 * INVALID_LOGIT, -torch.inf)
        jets = torch.stack(torch.unravel_index(top.indices, (p,) * rank), dim=-1)  # (B, C, rank)
        # one more option per particle: unassigned, worth less than any real tuple
        options.append(torch.cat([score, score.new_full((b, 1), INVALID_LOGIT)], dim=1))
        option_jets.append(torch.cat([jets, jets.new_full((b, 1, rank), -1)], dim=1))
    grids = torch.meshgrid(*[torch.arange(o.shape[1]) for o in options], indexing="ij")
    choice = [g.reshape(-1) for g in grids]  # (M,) per particle
    total = sum(o[:, c] for o, c in zip(options, choice))  # (B, M)
    jets = torch.cat([j[:, c] for j, c in zip(option_jets, choice)], dim=2)  # (B, M, Σ rank)
    used = jets >= 0
    clash = ((jets.unsqueeze(-1) == jets.unsqueeze(-2)) & used.unsqueeze(-1) & used.unsqueeze(-2)).sum((-1, -2))
    total = total.masked_fill(clash > used.sum(-1), -torch.inf)  # each used jet matches itself once
    best = total.argmax(dim=1)
    rows = torch.arange(b)
    out, scores = [], []
    for o, j, c in zip(options, option_jets, choice):
        pick = c[best]
        out.append(j[rows, pick])
        s = o[rows, pick]
        scores.append(torch.where(s > 0.5 * INVALID_LOGIT, s, torch.full_like(s, -torch.inf)))
    return out, torch.stack(scores, dim=1)
