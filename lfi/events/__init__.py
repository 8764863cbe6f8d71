"""Weighted events: the :class:`EventSample` and its HDF5 file format (``docs/event-format.md`` §2–3).

Public API
----------
EventSample                     events, weights in pb at every benchmark, morphing setup, truth (``lfi.events.sample``)
merge_samples                   signal and θ-independent backgrounds joined into one sample (``lfi.events.merge``)
EventFileError                  one-line error naming the file and the dataset (``lfi.errors``)
FORMAT_NAME, FORMAT_VERSION     the format written and read (``lfi.events.hdf5``)
open_hdf5, read_info            open any HDF5 file with a one-line error; summarise an event file cheaply
OBJECT_TYPES                    object type names by code (``lfi.objects``)
draw_pseudodata,                unweighted Poisson pseudo-data at any θ, or the indices of the events drawn
pseudodata_indices              (``lfi.events.pseudodata``)
parse_expression, Expression    the expression language of cuts and observables (``docs/selections.md``)
ExpressionError                 one line naming the expression and the column of the bad token
select_events, event_mask       keep the events that pass cuts (expressions or callables)
add_observables                 new observables from expressions or callables
"""

from __future__ import annotations

from lfi.errors import EventFileError
from lfi.events.hdf5 import FORMAT_NAME, FORMAT_VERSION, open_hdf5, read_info
from lfi.events.expressions import Expression, ExpressionError, parse_expression
from lfi.events.merge import merge_samples
from lfi.events.pseudodata import draw_pseudodata, pseudodata_indices
from lfi.events.sample import EventSample
from lfi.events.selection import add_observables, event_mask, select_events
from lfi.objects import OBJECT_TYPES

__all__ = ["EventSample", "merge_samples", "draw_pseudodata", "pseudodata_indices", "EventFileError", "FORMAT_NAME", "FORMAT_VERSION",
           "OBJECT_TYPES", "open_hdf5", "read_info", "Expression", "ExpressionError", "parse_expression", "select_events",
           "event_mask", "add_observables"]
