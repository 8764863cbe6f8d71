"""Estimators: event encoders (MLP, attention networks, ...) plus heads, built by registry name.

``import estimators`` is light; torch loads when a name below is first used.

Public API
----------
build(encoder, head, encoder_config=..., head_config=...)   a new :class:`Estimator`
load(path)                                                  rebuild a saved estimator directory
Estimator                                                   encoder + head (``estimators.estimator``)
ENCODERS, build_encoder                                     the encoder registry (``estimators.encoders``)
HEADS                                                       classifier, ratio, morphing_ratio, score
"""

from __future__ import annotations

import importlib

_LAZY = {
    "build": "estimators.estimator",
    "load": "estimators.estimator",
    "Estimator": "estimators.estimator",
    "ENCODERS": "estimators.encoders",
    "build_encoder": "estimators.encoders",
    "HEADS": "estimators.heads",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'estimators' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
