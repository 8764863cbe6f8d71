"""Training: methods and losses by name, the settings of a run, and a device-agnostic trainer with resume.

``import lfi.train`` is light; torch loads when a loss or the trainer is first used. The file-to-model
pipeline (``train_estimator``) is a workflow: :mod:`lfi.workflows.train`.

Public API
----------
METHODS, METHOD_KIND, method_kind          the methods and what each trains (``lfi.train.methods``)
LOSSES, Loss, get_loss                     losses by name (``lfi.train.losses``, torch)
TrainConfig, TrainOptions, TrainingSetup   settings of a run, option groups (``lfi.train.setup``)
fit, model_outputs, resolve_device         the training loop (``lfi.train.trainer``, torch)
"""

from __future__ import annotations

from lfi._lazy import lazy_attributes, moved_module
from lfi.train.methods import METHOD_KIND, METHODS, method_kind
from lfi.train.setup import TrainConfig, TrainingSetup, TrainOptions

_LAZY = {
    "LOSSES": "lfi.train.losses",
    "Loss": "lfi.train.losses",
    "get_loss": "lfi.train.losses",
    "fit": "lfi.train.trainer",
    "model_outputs": "lfi.train.trainer",
    "resolve_device": "lfi.train.trainer",
}
__all__ = ["METHODS", "METHOD_KIND", "method_kind", "TrainConfig", "TrainOptions", "TrainingSetup", *_LAZY]
__getattr__ = lazy_attributes(
    __name__, _LAZY, fallback=moved_module(__name__, "lfi.workflows.train", ("train_estimator", "default_head")))[0]


def __dir__() -> list[str]:
    return sorted(__all__)
