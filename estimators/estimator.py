"""An estimator = encoder (object list → embedding) + head; built by name, saved as a directory.

Saved layout (DESIGN §4): ``config.json`` (encoder and head names and hyper-parameters, method, parameter
names), ``weights.pt`` (state dict incl. the fitted input scaling; loaded with ``weights_only=True``),
``history.json`` (written by the trainer).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from estimators.encoders import build_encoder
from estimators.heads import HEADS

__all__ = ["Estimator", "build", "load"]

CONFIG_FILE, WEIGHTS_FILE = "config.json", "weights.pt"


class Estimator(nn.Module):
    """Encoder + head.

    Parameters
    ----------
    encoder : str
        Registry name (``estimators.encoders.ENCODERS``).
    encoder_config : dict
        Its keyword hyper-parameters (at least ``n_objects`` and ``n_globals``).
    head : {"classifier", "ratio", "morphing_ratio", "score"}
    head_config : dict
        Keyword hyper-parameters of the head (without ``embed_dim``, which comes from the encoder).
    metadata : dict
        JSON-serialisable extras saved with the model (method, parameter names, reference point).
    """

    def __init__(self, encoder: str, encoder_config: dict, head: str, head_config: dict, metadata: dict | None = None):
        super().__init__()
        if head not in HEADS:
            raise KeyError(f"unknown head {head!r}; valid: {', '.join(HEADS)}")
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
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def embed(self, momenta: Tensor, types: Tensor, globals_: Tensor) -> Tensor:
        """Event embedding, shape (B, E)."""
        return self.encoder(momenta, types, globals_)

    def forward(self, momenta: Tensor, types: Tensor, globals_: Tensor, theta0: Tensor | None = None,
                theta1: Tensor | None = None) -> Tensor:
        """The head's output: logits (classifier), t̂ (B, D) (score) or log r̂(x|θ0, θ1) (B,) (ratio heads)."""
        embedding = self.embed(momenta, types, globals_)
        if self.head.kind in ("ratio", "morphing_ratio"):
            if theta0 is None or theta1 is None:
                raise ValueError("a ratio estimator needs theta0 and theta1")
            return self.head(embedding, theta0, theta1)
        return self.head(embedding)

    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``config.json`` and ``weights.pt`` into ``directory`` (each atomically)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(directory / CONFIG_FILE, lambda f: f.write(json.dumps(self.config, indent=2).encode()))
        _atomic_write(directory / WEIGHTS_FILE, lambda f: torch.save(self.state_dict(), f))
        return directory


def build(encoder: str, head: str, *, encoder_config: dict, head_config: dict, metadata: dict | None = None) -> Estimator:
    """Build an estimator by encoder and head name (the one entry point for new models)."""
    return Estimator(encoder, encoder_config, head, head_config, metadata)


def load(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> Estimator:
    """Rebuild a saved estimator from its directory (a :class:`estimators.bdt.BDTEstimator` when
    ``config.json`` says ``"encoder": "bdt"``).

    Raises
    ------
    FileNotFoundError
        If ``config.json`` or ``weights.pt`` is missing (names the file).
    ValueError
        If the files do not fit together.
    """
    path = Path(path)
    if _is_bdt(path):
        from estimators.bdt import load_bdt

        return load_bdt(path)
    for name in (CONFIG_FILE, WEIGHTS_FILE):
        if not (path / name).is_file():
            raise FileNotFoundError(f"{path / name}: missing; is {path} a saved estimator directory?")
    try:
        config = json.loads((path / CONFIG_FILE).read_text())
        model = Estimator(config["encoder"], config["encoder_config"], config["head"], config["head_config"],
                          config.get("metadata"))
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"{path / CONFIG_FILE}: not a valid estimator config ({err})") from None
    state = torch.load(path / WEIGHTS_FILE, map_location=map_location, weights_only=True)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"{path / WEIGHTS_FILE}: does not match {CONFIG_FILE} ({str(err).splitlines()[0]})") from None
    return model.eval()


def _is_bdt(path: Path) -> bool:
    """Whether ``path/config.json`` describes a LightGBM estimator (``"encoder": "bdt"``)."""
    try:
        return json.loads((path / CONFIG_FILE).read_text()).get("encoder") == "bdt"
    except (OSError, json.JSONDecodeError, AttributeError):
        return False


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
