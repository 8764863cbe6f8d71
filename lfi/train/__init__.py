"""Training: losses by name, a device-agnostic trainer with resume, and the file-to-model pipeline.

Needs torch (imported when this package is imported; ``import lfi`` alone does not import it).
"""

from lfi.train.losses import LOSSES, METHOD_KIND, Loss, get_loss
from lfi.train.pipeline import default_head, train_estimator
from lfi.train.trainer import TrainConfig, fit, model_outputs, resolve_device

__all__ = [
    "LOSSES",
    "METHOD_KIND",
    "Loss",
    "get_loss",
    "TrainConfig",
    "fit",
    "model_outputs",
    "resolve_device",
    "train_estimator",
    "default_head",
]


def __dir__() -> list[str]:
    return sorted(__all__)
