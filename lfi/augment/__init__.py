"""Augmentation: priors over θ, joint ratio r(x,z|θ0,θ1) and score t(x,z|θ), on-the-fly training batches.

``AugmentedBatches`` needs torch and is imported on first use.
"""

from __future__ import annotations

import importlib

from lfi.augment.joint import JointQuantities
from lfi.augment.priors import GaussianPrior, GridPrior, PointPrior, UniformPrior, parse_prior

__all__ = [
    "JointQuantities",
    "GaussianPrior",
    "GridPrior",
    "PointPrior",
    "UniformPrior",
    "parse_prior",
    "AugmentedBatches",
]


def __getattr__(name: str):
    if name == "AugmentedBatches":
        return importlib.import_module("lfi.augment.dataset").AugmentedBatches
    raise AttributeError(f"module 'lfi.augment' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
