"""An estimator = encoder (object list → embedding) + head; built by name, saved as a directory.

Saved layout (``docs/event-format.md`` §7): ``config.json`` (encoder and head names and hyper-parameters,
metadata: method, parameter names, reference point), ``weights.pt`` (state dict incl. the fitted input
scaling; loaded with ``weights_only=True``), ``history.json`` (written by the trainer).
It implements :class:`lfi.protocols.RatioEstimator` (ratio heads) and :class:`lfi.protocols.ScoreEstimator`
(score head).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from estimators.encoders import build_encoder
from estimators.heads import HEADS
from lfi.errors import ModelError, OptionError, UnknownNameError, first_line
from lfi.files import atomic_write, atomic_write_text
from lfi.train.progress import require_finished

__all__ = ["Estimator", "build", "save_model_files", "CONFIG_FILE", "WEIGHTS_FILE"]

CONFIG_FILE, WEIGHTS_FILE = "config.json", "weights.pt"


def save_model_files(directory: str | os.PathLike, config: dict[str, Any], module: nn.Module) -> Path:
    """Write ``config.json`` (``config`` as JSON) and ``weights.pt`` (the module's state dict) into ``directory``,
    each atomically (a temporary name, then a rename); returns the directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    atomic_write_text(directory / CONFIG_FILE, json.dumps(config, indent=2))
    with atomic_write(directory / WEIGHTS_FILE) as tmp:
        torch.save(module.state_dict(), tmp)
    return directory


class Estimator(nn.Module):
    """Encoder + head.

    Parameters
    ----------
    encoder : str
        Registry name (``estimators.encoders.ENCODERS``).
    encoder_config : dict
        Its keyword hyper-parameters (at least ``n_objects`` and ``n_globals``).
    head : {"classifier", "ratio", "morphing_ratio", "amplitude_ratio", "score"}
    head_config : dict
        Keyword hyper-parameters of the head (without ``embed_dim``, which comes from the encoder).
    metadata : dict
        JSON-serialisable extras saved with the model (method, parameter names, reference point).
    """

    def __init__(self, encoder: str, encoder_config: dict, head: str, head_config: dict, metadata: dict | None = None):
        super().__init__()
        if head not in HEADS:
            raise UnknownNameError(f"unknown head {head!r}; valid: {', '.join(HEADS)}")
        self.encoder_name, self.head_name = encoder, head
        self.encoder = build_encoder(encoder, **encoder_config)
        self.head = HEADS[head](embed_dim=self.encoder.embed_dim, **head_config)
        self.metadata = dict(metadata or {})

    @property
    def config(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder_name,
            "encoder_config": self.encoder.config,
            "head": self.head_name,
            "head_config": self.head.config,
            "metadata": self.metadata,
        }

    @property
    def kind(self) -> str:
        """``ratio``, ``score`` or ``classifier``: what the head estimates."""
        return self.head.kind

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def embed(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
        """Event embedding, shape (B, E)."""
        return self.encoder(momenta, types, globals_)

    def forward(self, momenta: Tensor, types: Tensor, globals_: Tensor, theta0: Tensor | None = None,
                theta1: Tensor | None = None) -> Tensor:
        """The head's output: logits (classifier), t̂ (B, D) (score) or log r̂(x|θ0, θ1) (B,) (ratio heads)."""
        embedding = self.embed(momenta, types, globals_)
        if self.head.kind == "ratio":
            if theta0 is None or theta1 is None:
                raise ValueError("a ratio estimator needs theta0 and theta1")
            return self.head(embedding, theta0, theta1)
        return self.head(embedding)

    # ------------------------------------------------------------------ the estimator protocols (lfi.protocols)
    def embed_sample(self, sample, *, batch_size: int = 4096, device: str = "cpu") -> Tensor:
        """Event embeddings of a whole :class:`lfi.events.EventSample`, shape (N, E), in batches, no gradients."""
        self.to(device).eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(sample), batch_size):
                sl = slice(start, start + batch_size)
                out.append(self.embed(torch.from_numpy(sample.momenta[sl]).to(device),
                                      torch.from_numpy(sample.types[sl].astype(np.int64)).to(device),
                                      torch.from_numpy(sample.globals_[sl]).to(device)))
        return torch.cat(out) if out else torch.zeros(0, self.encoder.embed_dim, device=device)

    def _require(self, kind: str) -> None:
        if self.kind != kind:
            raise OptionError(f"this estimator has a {self.head_name} head ({self.kind}), not a {kind} head")

    def grid_state(self, sample, *, device: str = "cpu"):
        """Per-event quantities every θ grid point reuses (the head's state of the embeddings)."""
        self._require("ratio")
        with torch.no_grad():
            return self.head.grid_state(self.embed_sample(sample, device=device))

    def grid_log_density(self, state, theta: np.ndarray) -> np.ndarray:
        """f(x_n, θ_t) = log p̂(x_n|θ_t) + c(x_n) for θ of shape (T, D); shape (N, T), float64."""
        with torch.no_grad():
            block = torch.as_tensor(np.asarray(theta, float), dtype=torch.float32, device=self.device)
            return self.head.grid_log_density(state, block).double().cpu().numpy()

    def log_ratio(self, sample, theta0, theta1, *, device: str = "cpu") -> np.ndarray:
        """log r̂(x|θ0, θ1) of every event for two points of shape (D,); shape (N,), float64."""
        log_p = self.grid_log_density(self.grid_state(sample, device=device), np.stack([theta0, theta1]))
        return log_p[:, 0] - log_p[:, 1]

    def score(self, sample, *, device: str = "cpu") -> np.ndarray:
        """t̂(x) at the reference point of a score estimator, shape (N, D), float64."""
        self._require("score")
        with torch.no_grad():
            return self.head(self.embed_sample(sample, device=device)).double().cpu().numpy()

    def signal_score(self, momenta: np.ndarray, types: np.ndarray, globals_: np.ndarray, *, batch_size: int = 4096,
                     device: str = "cpu") -> np.ndarray:
        """Signal logit log(p̂_S/p̂_B) of a two-class classifier for every event, shape (N,), float64.

        Parameters
        ----------
        momenta : ndarray, shape (N, P, 4)
            GeV.
        types : ndarray, shape (N, P)
        globals_ : ndarray, shape (N, G)
        """
        self._require("classifier")
        if self.head.n_classes != 2:
            raise OptionError(f"signal_score needs a two-class classifier, this one has {self.head.n_classes} classes")
        self.to(device).eval()
        out = []
        with torch.no_grad():
            for start in range(0, len(momenta), batch_size):
                sl = slice(start, start + batch_size)
                logits = self(torch.from_numpy(np.ascontiguousarray(momenta[sl])).to(device),
                              torch.from_numpy(types[sl].astype(np.int64)).to(device),
                              torch.from_numpy(np.ascontiguousarray(globals_[sl])).to(device))
                out.append(logits[:, 0].double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0)

    @property
    def size(self) -> dict[str, int]:
        """``{"parameters": number of trainable parameters}``."""
        return {"parameters": sum(p.numel() for p in self.parameters() if p.requires_grad)}

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``weights.pt`` into ``directory`` (each atomically)."""
        return save_model_files(directory, self.config, self)

    @classmethod
    def load(cls, path: str | os.PathLike, map_location: str | torch.device = "cpu") -> "Estimator":
        """Rebuild a saved estimator from its directory.

        Raises
        ------
        ModelNotFoundError
            If ``config.json`` or ``weights.pt`` is missing (names the file); for an interrupted training the
            message says after which epoch it stopped and how to continue it.
        ModelError
            If the files are damaged or do not fit together.
        """
        path = Path(path)
        require_finished(path, (CONFIG_FILE, WEIGHTS_FILE))
        try:
            config = json.loads((path / CONFIG_FILE).read_text())
            model = cls(config["encoder"], config["encoder_config"], config["head"], config["head_config"],
                        config.get("metadata"))
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise ModelError(f"{path / CONFIG_FILE}: not a valid estimator config ({err})") from None
        try:
            state = torch.load(path / WEIGHTS_FILE, map_location=map_location, weights_only=True)
        except Exception as err:  # noqa: BLE001 - torch raises many kinds for a damaged file
            raise ModelError(f"{path / WEIGHTS_FILE}: not a readable weights file ({type(err).__name__}); "
                             "retrain, or restore the file") from None
        try:
            model.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as err:
            raise ModelError(f"{path / WEIGHTS_FILE}: does not match {CONFIG_FILE} ({first_line(err)})") from None
        return model.eval()

    @classmethod
    def trained(cls, setup) -> "Estimator":
        """Build (or, with ``setup.resume``, reload) a network and train it; see :mod:`estimators.network_training`."""
        from estimators.network_training import train_network

        return train_network(cls, setup)


    @classmethod
    def trained_classifier(cls, setup) -> "Estimator":
        """Train a two-class event classifier; see :mod:`estimators.classifier_training`."""
        from estimators.classifier_training import train_classifier_network

        return train_classifier_network(cls, setup)


def build(encoder: str, head: str, *, encoder_config: dict, head_config: dict, metadata: dict | None = None) -> Estimator:
    """Build an estimator by encoder and head name (the one entry point for new networks)."""
    return Estimator(encoder, encoder_config, head, head_config, metadata)
