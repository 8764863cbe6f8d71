"""Event encoders by registry name; each lives in its own module and is imported only when built.

=============  ===========================================================  ========================
name           model                                                         permutation invariant
=============  ===========================================================  ========================
``mlp``        fully connected network on the flattened objects + globals   no (p_T-ordered slots)
``cnn1d``      1-D convolutions over the p_T-ordered object list             no
``mixer``      MLP-Mixer over objects and channels                           no
``particlenet``  EdgeConv with dynamic k-NN, optional pair/interaction edges  yes
``part``       Particle Transformer, pair embedding U + SM interaction       yes
``sett``       Set Transformer (SAB + PMA) with the same attention bias      yes
``iaformer``   attention from pairwise boost-invariant features only,        yes
               differential attention softmax(I1) − β·softmax(I2)
=============  ===========================================================  ========================

The interface is fixed in :mod:`estimators.encoders.base`.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from torch import nn

__all__ = ["ENCODERS", "PERMUTATION_INVARIANT", "build_encoder", "encoder_class"]

ENCODERS: dict[str, str] = {
    "mlp": "estimators.encoders.mlp:MLPEncoder",
    "cnn1d": "estimators.encoders.cnn1d:CNN1DEncoder",
    "mixer": "estimators.encoders.mixer:MixerEncoder",
    "particlenet": "estimators.encoders.particlenet:ParticleNet",
    "part": "estimators.encoders.part:ParticleTransformer",
    "sett": "estimators.encoders.sett:SetTransformer",
    "iaformer": "estimators.encoders.iaformer:IAFormer",
}
PERMUTATION_INVARIANT = ("particlenet", "part", "sett", "iaformer")


def encoder_class(name: str) -> type[nn.Module]:
    """The encoder class registered as ``name`` (imported on first use).

    Raises
    ------
    KeyError
        For an unknown name; the message lists the valid ones.
    """
    try:
        target = ENCODERS[name]
    except KeyError:
        raise KeyError(f"unknown encoder {name!r}; valid: {', '.join(sorted(ENCODERS))}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def build_encoder(name: str, **config: Any) -> nn.Module:
    """Build the encoder ``name`` with keyword hyper-parameters (at least ``n_objects`` and ``n_globals``).

    Raises
    ------
    KeyError
        Unknown encoder name (lists the valid ones).
    TypeError
        Unknown or missing hyper-parameter (lists the accepted ones with their defaults).
    ValueError
        An invalid option value, e.g. an unknown pair feature or interaction (lists the valid values).
    """
    cls = encoder_class(name)
    params = inspect.signature(cls.__init__).parameters
    accepted = {k: p.default for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    unknown = sorted(set(config) - set(accepted))
    missing = sorted(k for k, d in accepted.items() if d is inspect.Parameter.empty and k not in config)
    if unknown or missing:
        listing = ", ".join(k if d is inspect.Parameter.empty else f"{k}={d!r}" for k, d in accepted.items())
        problem = f"unknown option(s) {unknown}" if unknown else f"missing option(s) {missing}"
        raise TypeError(f"encoder {name!r}: {problem}; accepted: {listing}")
    return cls(**config)
