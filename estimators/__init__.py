"""Estimators: event encoders (MLP, attention networks, ...) plus heads, built by registry name.

``import estimators`` is light; torch loads when a name below is first used.

Public API
----------
build(encoder, head, encoder_config=..., head_config=...)   a new :class:`Estimator`
load(path)                                                  rebuild a saved estimator directory, any family
train(setup)                                                train the estimator a ``lfi.train.TrainingSetup`` names
estimator_class, estimator_names, FAMILIES                  estimator families by name (``estimators.registry``)
Estimator                                                   encoder + head (``estimators.estimator``)
ENCODERS, build_encoder, encoder_class, encoder_options,    the encoder registry (``estimators.encoders``)
parse_options, PERMUTATION_INVARIANT
ObjectEncoder, InputScaler                                  the encoder base class and the input standardisation
HEADS                                                       classifier, ratio, morphing_ratio, amplitude_ratio, score
BDTEstimator                                                the ``bdt``: LightGBM on flattened objects (CARL, classifier)
NuisanceRatio                                               learned nuisance factors E[w_var/w | x], a bdt per variation
"""

from __future__ import annotations

from lfi._lazy import lazy_attributes

_LAZY = {
    "build": "estimators.estimator",
    "load": "estimators.registry",
    "train": "estimators.registry",
    "estimator_class": "estimators.registry",
    "estimator_names": "estimators.registry",
    "FAMILIES": "estimators.registry",
    "Estimator": "estimators.estimator",
    "ENCODERS": "estimators.encoders",
    "PERMUTATION_INVARIANT": "estimators.encoders",
    "build_encoder": "estimators.encoders",
    "encoder_class": "estimators.encoders",
    "encoder_options": "estimators.encoders",
    "parse_options": "estimators.encoders",
    "ObjectEncoder": "estimators.encoders.base",
    "InputScaler": "estimators.features",
    "HEADS": "estimators.heads",
    "BDTEstimator": "estimators.bdt",
    "NuisanceRatio": "estimators.nuisance_ratio",
}

__all__ = sorted(_LAZY)
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
