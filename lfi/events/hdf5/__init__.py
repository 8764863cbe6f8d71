"""The ``lfi-events`` HDF5 format (version 1): writing, reading and summarising one file.

Every failure to read is one :class:`~lfi.errors.EventFileError` line naming the file and the HDF5 dataset.
The layout is described in ``docs/event-format.md`` §3; shapes use N events, P object slots, B benchmarks,
D parameters, C morphing components and G event-level globals.

=============================  ===================  ===============================================
path                           shape, dtype         meaning
=============================  ===================  ===============================================
/benchmarks/names, /theta      (B,) str, (B, D) f8  parameter points with stored weights
/morphing/components, /basis   (C, D) i4, (C,) i4   monomial exponents; benchmark indices of the basis
/events/momenta                (N, P, 4) f4         (E, px, py, pz) in GeV, zero-padded, pT-ordered
/events/types                  (N, P) i1            0 pad, 1 jet, 2 b-jet, 3 e-, 4 e+, 5 mu-, 6 mu+, 7 photon
/events/globals                (N, G) f4            event-level inputs, names in attribute ``names``
/events/observables/<name>     (N,) f4              high-level observables
/events/weights                (N, B) f8            weight in pb at every benchmark
/events/process                (N,) i2              index into /processes/names
/events/sampled_from           (N,) i2              generation benchmark, -1 if not applicable
/truth/events/<name>           (N, ...)             optional per-event truth (sliced with the events)
/truth/<name>                  any                  optional sample-level truth
=============================  ===================  ===============================================

This module knows the file, not the sample: :func:`write` takes any object with the fields of
:class:`lfi.events.EventSample`, and :func:`read_fields` returns the keyword arguments that rebuild one.

The package is the format's one home: ``layout`` (name, version, chunking), ``opening`` (opening a file with
checks that keep a damaged one from hanging or crashing the HDF5 library), ``writer`` and ``reader``.
"""

from __future__ import annotations

from lfi.events.hdf5.layout import FORMAT_NAME, FORMAT_VERSION
from lfi.events.hdf5.opening import open_hdf5
from lfi.events.hdf5.reader import read_fields, read_info
from lfi.events.hdf5.writer import write

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "open_hdf5", "write", "read_fields", "read_info"]
