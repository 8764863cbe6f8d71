"""Name, version and chunking of the ``lfi-events`` HDF5 format (``docs/event-format.md`` §3)."""

from __future__ import annotations

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "CHUNK_EVENTS", "INFO_BLOCK"]

FORMAT_NAME = "lfi-events"
FORMAT_VERSION = 1
#: Events per HDF5 chunk of the per-event datasets.
CHUNK_EVENTS = 4096
#: Events per block when a file is summarised without loading it.
INFO_BLOCK = 1 << 16
