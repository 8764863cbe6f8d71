"""Simulators and adapters that produce EventSamples: ``toy`` (exact likelihood), ``wbf`` (Pythia 8 + EFT
matrix element), the SM processes ``ggf``, ``zz``, ``tth``, ``ttbar`` (:mod:`simulators.processes`), and readers
for LHE, Delphes ROOT and MadMiner files.

Each simulator is looked up by name with :func:`get`, so importing this package loads none of them.
"""

from __future__ import annotations

import importlib

from lfi.errors import UnknownNameError

__all__ = ["get", "available"]

_REGISTRY = {
    "toy": "simulators.toy",
    "wbf": "simulators.wbf",
    "ggf": "simulators.processes.ggf",
    "zz": "simulators.processes.zz",
    "tth": "simulators.processes.tth",
    "ttbar": "simulators.processes.ttbar",
}


def available() -> list[str]:
    """Names of the registered simulators."""
    return sorted(_REGISTRY)


def get(name: str):
    """The simulator module registered as ``name`` (it provides ``simulate(n_events, seed, **options)``)."""
    if name not in _REGISTRY:
        raise UnknownNameError(f"unknown simulator {name!r}; available: {', '.join(available())}")
    try:
        return importlib.import_module(_REGISTRY[name])
    except ModuleNotFoundError as err:
        if err.name != _REGISTRY[name]:
            raise
        raise UnknownNameError(f"simulator {name!r} is registered but not built yet") from None


def __dir__() -> list[str]:
    return sorted(__all__)
