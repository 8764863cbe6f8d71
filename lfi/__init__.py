"""lfi — likelihood-free inference at the LHC.

Importing ``lfi`` is cheap: submodules (and torch, Pythia, uproot behind them) load on first use.

Public API
----------
EventSample, EventFileError   weighted events in HDF5 (``lfi.events``; errors in ``lfi.errors``)
Morpher, monomial_components  polynomial morphing of weights (``lfi.morphing``)
augment                       priors, joint ratio r(x,z) and score t(x,z), on-the-fly training data
truth                         exact log p(x|θ) for samples that carry it (the toy)
objects                       object type codes and NumPy kinematics
files                         atomic file output (``atomic_write``)
reading                       reading damaged input files: one error line, no warnings
protocols                     what the core asks of an estimator (RatioEstimator, ScoreEstimator)
train                         methods, losses, settings of a run, the trainer (torch loads on first use)
limits                        Asimov q on a θ grid, Wilks thresholds, contours (pure functions)
metrics                       ROC, AUC, background rejection, significance
evaluate                      q maps of trained estimators, histograms and the truth on a test sample
report                        contour figures
allocator                     keep freed memory in the process for fast CPU training steps (glibc)
workflows                     whole jobs from files to files: ``train_estimator``, ``expected_limits``
cli                           the ``lfi`` command (argument parsing and printing only)

Layers, lowest first (``docs/architecture.md`` §1): the core modules above → ``estimators``, ``simulators`` →
``lfi.workflows`` → ``lfi.cli``. A module imports only from its own layer or below.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_LAZY = {
    "EventSample": "lfi.events",
    "EventFileError": "lfi.errors",
    "Morpher": "lfi.morphing",
    "monomial_components": "lfi.morphing",
}
_SUBMODULES = ("errors", "files", "reading", "objects", "events", "morphing", "augment", "truth", "protocols", "train", "limits",
               "metrics", "evaluate", "report", "allocator", "workflows", "cli")

__all__ = ["__version__", *_LAZY, *_SUBMODULES]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"lfi.{name}")
    raise AttributeError(f"module 'lfi' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
