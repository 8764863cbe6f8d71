"""lfi — likelihood-free inference at the LHC.

Importing ``lfi`` is cheap: submodules (and torch, Pythia, uproot behind them) load on first use.

Public API
----------
EventSample, EventFileError   weighted events in HDF5 (``lfi.events``)
Morpher, monomial_components  polynomial morphing of weights (``lfi.morphing``)
augment                       priors, joint ratio r(x,z) and score t(x,z), on-the-fly training data
truth                         exact log p(x|θ) for samples that carry it (the toy)
train                         losses by name, the trainer, ``train_estimator`` (needs torch)
limits                        Asimov q on a θ grid, Wilks thresholds, contours (pure functions)
metrics                       ROC, AUC, background rejection, significance
evaluate                      q maps of trained estimators, histograms and the truth on a test sample
report                        contour figures
allocator                     keep freed memory in the process for fast CPU training steps (glibc)
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "EventSample": "lfi.events",
    "EventFileError": "lfi.events",
    "Morpher": "lfi.morphing",
    "monomial_components": "lfi.morphing",
}
_SUBMODULES = ("events", "morphing", "augment", "truth", "train", "limits", "metrics", "evaluate", "report", "allocator", "cli")

__all__ = ["__version__", *_LAZY, *_SUBMODULES]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"lfi.{name}")
    raise AttributeError(f"module 'lfi' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
