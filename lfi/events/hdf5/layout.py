"""Name, version and chunking of the ``lfi-events`` HDF5 format (``docs/event-format.md`` §3)."""

from __future__ import annotations

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "READABLE_VERSIONS", "CHUNK_EVENTS", "INFO_BLOCK"]

FORMAT_NAME = "lfi-events"
#: The newest version: 2 adds nuisance variations (``/nuisances``). A sample without them is written as version 1,
#: which older readers open.
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
#: Events per HDF5 chunk of the per-event datasets.
CHUNK_EVENTS = 4096
#: Events per block when a file is summarised without loading it.
INFO_BLOCK = 1 << 16
