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
from typing import Any, Mapping

from torch import nn

from lfi.errors import OptionError, UnknownNameError, UnknownOptionError

__all__ = ["ENCODERS", "PERMUTATION_INVARIANT", "build_encoder", "encoder_class", "encoder_options", "parse_options"]

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
        raise UnknownNameError(f"unknown encoder {name!r}; valid: {', '.join(sorted(ENCODERS))}") from None
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def encoder_options(name: str) -> dict[str, Any]:
    """The keyword hyper-parameters of encoder ``name`` with their defaults (``inspect.Parameter.empty`` if
    required)."""
    params = inspect.signature(encoder_class(name).__init__).parameters
    return {k: p.default for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _parse_value(key: str, text: str, default: Any) -> Any:
    if default is inspect.Parameter.empty or (isinstance(default, int) and not isinstance(default, bool)):
        return int(text)
    if isinstance(default, bool):
        if text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
        raise OptionError(f"option {key}={text!r}: expected one of {', '.join(_TRUE + _FALSE)}")
    if isinstance(default, float):
        return float(text)
    if isinstance(default, (tuple, list)):
        if default and isinstance(default[0], (tuple, list)):
            return [[int(v) for v in group.split(",")] for group in text.split(";")]
        return [int(v) for v in text.split(",")]
    return text


def parse_options(name: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Typed hyper-parameters from command-line strings, by the types of the defaults of encoder ``name``.

    ``"8"`` → 8 for an int, ``"128,512,128"`` → [128, 512, 128] for a list, ``"32,32;64,64"`` → [[32, 32], [64, 64]]
    for a list of lists, ``"true"``/``"false"`` for a bool; strings (``pair``, ``interaction``) stay strings and
    non-string values pass through.

    Raises
    ------
    TypeError
        Unknown option (lists the accepted ones with their defaults).
    ValueError
        A value that does not parse as the option's type.
    """
    accepted = encoder_options(name)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise UnknownOptionError(f"encoder {name!r}: unknown option(s) {unknown}; accepted: {_listing(accepted)}")
    out = {}
    for key, value in options.items():
        if not isinstance(value, str):
            out[key] = value
            continue
        try:
            out[key] = _parse_value(key, value.strip(), accepted[key])
        except ValueError as err:
            raise OptionError(f"encoder {name!r}: cannot read option {key}={value!r} "
                             f"(default {accepted[key]!r}): {err}") from None
    return out


def _listing(accepted: Mapping[str, Any]) -> str:
    return ", ".join(k if d is inspect.Parameter.empty else f"{k}={d!r}" for k, d in accepted.items())


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
    accepted = encoder_options(name)
    unknown = sorted(set(config) - set(accepted))
    missing = sorted(k for k, d in accepted.items() if d is inspect.Parameter.empty and k not in config)
    if unknown or missing:
        problem = f"unknown option(s) {unknown}" if unknown else f"missing option(s) {missing}"
        raise UnknownOptionError(f"encoder {name!r}: {problem}; accepted: {_listing(accepted)}")
    return encoder_class(name)(**config)
