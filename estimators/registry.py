"""Estimator families by name: which class trains and loads a given ``--estimator`` name.

Every encoder name (``mlp``, ``part``, ...) is a network (:class:`estimators.estimator.Estimator`); a few names
are families of their own (``bdt``: LightGBM; ``flow``: a conditional normalising flow, NDE and SCANDAL). Ensembles (:class:`estimators.ensemble.Ensemble`) wrap any of them. A family class implements the protocols of
:mod:`lfi.protocols` plus ``trained(setup)`` (and ``trained_classifier(setup)`` for event classifiers) and
``load(directory)``; registering it here is all it takes to plug a new one in.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

from estimators.encoders import ENCODERS, encoder_options
from lfi.errors import ModelError, UnknownNameError, first_line
from lfi.train.progress import require_finished

__all__ = ["FAMILIES", "estimator_class", "estimator_names", "estimator_options", "load", "train"]

#: Estimator names that are not networks, with the class that implements them.
FAMILIES = {"bdt": "estimators.bdt:BDTEstimator", "flow": "estimators.flow:FlowEstimator"}
#: For each family, the function that lists its ``--option`` keys with their defaults.
_FAMILY_OPTIONS = {"bdt": "estimators.bdt:bdt_options", "flow": "estimators.flow:flow_options"}
_NETWORK = "estimators.estimator:Estimator"
#: Ensembles wrap members of any family; their config.json says ``"family": "ensemble"``.
_ENSEMBLE = "estimators.ensemble:Ensemble"
CONFIG_FILE = "config.json"


def estimator_names() -> list[str]:
    """Every valid ``--estimator`` name: the encoders and the other families."""
    return sorted([*ENCODERS, *FAMILIES])


def estimator_options(name: str) -> dict:
    """The ``--option`` keys estimator ``name`` takes as hyper-parameters, with their defaults
    (``inspect.Parameter.empty`` for a required one); the sample fixes ``n_objects`` and ``n_globals``."""
    estimator_class(name)  # an unknown name lists the valid ones
    if name in _FAMILY_OPTIONS:
        return _class(_FAMILY_OPTIONS[name])()
    return {k: v for k, v in encoder_options(name).items() if k not in ("n_objects", "n_globals")}


def estimator_class(name: str) -> type:
    """The class that trains and loads estimator ``name``.

    Raises
    ------
    KeyError
        For an unknown name; the message lists the valid ones (encoders and families).
    """
    if name not in FAMILIES and name not in ENCODERS:
        raise UnknownNameError(f"unknown estimator {name!r}; valid: {', '.join(estimator_names())}")
    return _class(FAMILIES.get(name, _NETWORK))


def _class(target: str) -> type:
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def load(path: str | os.PathLike):
    """Rebuild a saved estimator directory, whatever its family.

    Returns
    -------
    lfi.protocols.RatioEstimator or lfi.protocols.ScoreEstimator

    Raises
    ------
    ModelNotFoundError
        ``config.json`` (or the weights) missing, naming the file; for an interrupted training, how to continue.
    ModelError
        A config that is not valid JSON or names no known estimator, or damaged files.
    """
    path = Path(path)
    require_finished(path, (CONFIG_FILE,))
    config_file = path / CONFIG_FILE
    try:
        config = json.loads(config_file.read_text())
        if config.get("family") == "ensemble":
            return _class(_ENSEMBLE).load(path, load_member=load)
        cls = estimator_class(config.get("encoder"))
    except (json.JSONDecodeError, AttributeError, KeyError, TypeError, UnicodeDecodeError) as err:
        raise ModelError(f"{config_file}: not a valid estimator config ({first_line(err)})") from None
    return cls.load(path)


def train(setup):
    """Train the estimator ``setup.estimator`` on a :class:`lfi.train.TrainingSetup` (an ensemble of
    ``setup.ensemble`` of them when that is above 1); saved in ``setup.out``."""
    family = estimator_class(setup.estimator)
    if setup.ensemble > 1:
        return _class(_ENSEMBLE).trained(setup, member_family=family)
    return family.trained(setup)
