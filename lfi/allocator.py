"""Keep freed heap memory in the process (Linux/glibc) so that training steps on the CPU stop page-faulting.

A training step allocates and frees hundreds of megabytes of activations and gradients. With glibc's default
settings, large blocks are served by ``mmap`` and the top of the heap is returned to the kernel whenever more
than a few tens of MB are free, so the next step touches fresh pages again: the kernel then zeroes every page
on first touch. For the ParT paper configuration on a 2-core CPU this is ≈ 60–85 k minor page faults (≈ 0.3 GB)
per step of 256 events and costs ≈ 20 % of the step time (``bench/estimators.py`` measures both settings).
:func:`keep_freed_memory` raises glibc's trim and ``mmap`` thresholds with ``mallopt`` so that freed memory is
reused, the effect ``jemalloc``/``tcmalloc`` preloading has. The price is that the resident memory of the process
no longer shrinks after its peak.

It is applied by :func:`lfi.train.fit` on the CPU, and does nothing when the environment already configures
glibc's allocator (``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_MMAP_THRESHOLD_``, ``GLIBC_TUNABLES``), when
``LFI_MALLOC_DEFAULTS=1`` is set, or on a platform without glibc.
"""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = ["keep_freed_memory", "TRIM_THRESHOLD", "MMAP_THRESHOLD"]

#: Bytes of free memory at the top of the heap before glibc returns it to the kernel (1 GiB).
TRIM_THRESHOLD = 1 << 30
#: Blocks at least this large (32 MiB, glibc's maximum for the dynamic threshold) still get their own mapping.
MMAP_THRESHOLD = 32 << 20

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers from glibc's malloc.h
_USER_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")
_applied = False


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory for reuse instead of returning it to the kernel after every step.

    Idempotent and process-wide.

    Returns
    -------
    bool
        True if the thresholds are (now or already) set by this function, False if it left the allocator alone
        (not glibc, the user configured it, or ``LFI_MALLOC_DEFAULTS=1``).
    """
    global _applied
    if _applied:
        return True
    if os.environ.get("LFI_MALLOC_DEFAULTS") == "1" or any(name in os.environ for name in _USER_SETTINGS):
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    _applied = bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    return _applied
