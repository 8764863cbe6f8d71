"""Bring your own events: readers for LHE and Delphes ROOT files, MadMiner HDF5 import and export.

Each adapter lives in its own module and loads its heavy dependency (pylhe, uproot, h5py) only when
called, so importing this package is cheap.

Public API
----------
read_lhe(paths, benchmarks, ...)        LHE (plain or gzipped) → EventSample      (``simulators.io.lhe``)
read_delphes(paths, benchmarks, ...)    Delphes ROOT → EventSample, in chunks     (``simulators.io.delphes``)
read_madminer(path)                     MadMiner v0.9 HDF5 → EventSample          (``simulators.io.madminer_import``)
write_madminer(sample, path)            EventSample → MadMiner v0.9 HDF5          (``simulators.io.madminer_export``)
Benchmarks                              which weight belongs to which parameter point (``simulators.io.common``)
"""

from __future__ import annotations

import importlib

__all__ = ["read_lhe", "read_delphes", "read_madminer", "write_madminer", "Benchmarks", "lhe_weight_ids"]

_LAZY = {
    "read_lhe": "simulators.io.lhe",
    "read_delphes": "simulators.io.delphes",
    "lhe_weight_ids": "simulators.io.delphes",
    "read_madminer": "simulators.io.madminer_import",
    "write_madminer": "simulators.io.madminer_export",
    "Benchmarks": "simulators.io.common",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simulators.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
