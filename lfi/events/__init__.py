"""Weighted events: the :class:`EventSample` and its HDF5 file format (``docs/event-format.md`` §2–3).

Public API
----------
EventSample                     events, weights in pb at every benchmark, morphing setup, truth (``lfi.events.sample``)
merge_samples                   signal and θ-independent backgrounds joined into one sample (``lfi.events.merge``)
EventFileError                  one-line error naming the file and the dataset (``lfi.errors``)
FORMAT_NAME, FORMAT_VERSION     the format written and read (``lfi.events.hdf5``)
open_hdf5, read_info            open any HDF5 file with a one-line error; summarise an event file cheaply
OBJECT_TYPES                    object type names by code (``lfi.objects``)
draw_pseudodata                 unweighted Poisson pseudo-data at any θ (``lfi.events.pseudodata``)
"""

from __future__ import annotations

from lfi.errors import EventFileError
from lfi.events.hdf5 import FORMAT_NAME, FORMAT_VERSION, open_hdf5, read_info
from lfi.events.merge import merge_samples
from lfi.events.pseudodata import draw_pseudodata
from lfi.events.sample import EventSample
from lfi.objects import OBJECT_TYPES

__all__ = ["EventSample", "merge_samples", "draw_pseudodata", "EventFileError", "FORMAT_NAME", "FORMAT_VERSION",
           "OBJECT_TYPES", "open_hdf5", "read_info"]
