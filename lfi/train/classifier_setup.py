"""What a classifier family receives to train (``lfi classify``): the labelled events, the split, the
training weights, the loss and the loop settings (no torch needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lfi.errors import OptionError
from lfi.train.setup import TrainConfig

__all__ = ["ClassifierSetup", "CLASSIFIER_LOSSES"]

CLASSIFIER_LOSSES = ("ce", "focal")


@dataclass
class ClassifierSetup:
    """One classifier training run.

    Attributes
    ----------
    estimator : str
        Estimator name (an encoder or ``bdt``).
    options : dict
        Its ``--option`` values (text or Python values).
    events : lfi.events.labelled.LabelledEvents
    train, validation : ndarray of int
        Event indices of the two splits.
    train_weights, validation_weights : ndarray
        Class-balanced training weights of those events (:func:`lfi.events.labelled.balanced_weights`).
    loss : {"ce", "focal"}
        Binary cross-entropy or the focal loss (α, γ below; arXiv:1708.02002).
    focal_alpha, focal_gamma : float
    config : TrainConfig
        Loop settings (networks; the bdt takes ``seed`` only).
    out : Path
        Directory of the trained model.
    progress : bool
    """

    estimator: str
    options: dict[str, Any]
    events: Any
    train: np.ndarray
    validation: np.ndarray
    train_weights: np.ndarray
    validation_weights: np.ndarray
    out: Path
    loss: str = "ce"
    focal_alpha: float = 0.75
    focal_gamma: float = 3.0
    config: TrainConfig = field(default_factory=TrainConfig)
    progress: bool = True

    def __post_init__(self) -> None:
        if self.loss not in CLASSIFIER_LOSSES:
            raise OptionError(f"--loss {self.loss!r}: valid losses are {', '.join(CLASSIFIER_LOSSES)}")
        self.out = Path(self.out)

    def metadata(self) -> dict[str, Any]:
        """What the saved model records about its training: loss, signal, processes, files."""
        e = self.events
        return {"method": self.loss, "signal": e.signal, "processes": list(e.process_names), "files": list(e.files)}
