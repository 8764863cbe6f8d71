"""What ``lfi limits`` checks before it computes anything: the output folder, the grid, θ*, and whether the maps
fit in memory (and in chunks of which size)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from lfi import limits
from lfi.errors import OptionError
from lfi.evaluate import DEFAULT_CHUNK
from lfi.events import EventSample

__all__ = ["check_out_dir", "default_grid", "DEFAULT_GRID_POINTS", "resolve_grid", "grid_text", "resolve_theta_true",
           "available_memory", "memory_estimate", "chunk_for_memory", "BYTES_PER_POINT", "BYTES_PER_EVENT_POINT",
           "CHUNK_BUDGET"]

log = logging.getLogger("lfi.limits")

#: Bytes per grid point besides the maps themselves: the points and their meshgrid, the contour summary, the
#: Wilks p-values and the figure (measured with tracemalloc on 2-D grids, rounded up).
BYTES_PER_POINT = 160
#: Bytes per (test event × grid point of one chunk): log p̂ or morphed weights in float64, their copies and sorts.
BYTES_PER_EVENT_POINT = 48
#: Memory that one chunk of grid points may take; larger samples get smaller chunks.
CHUNK_BUDGET = 512 * 2**20



def check_out_dir(out: str | os.PathLike) -> Path:
    """The output directory ``out`` if it is one or can be made; else one :class:`OptionError` line naming --out."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OptionError(f"--out {out}: exists and is not a directory (give a directory for the maps and limits.json)")
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise OptionError(f"--out {out}: {parent} is a file, not a directory")
    if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise OptionError(f"--out {out}: cannot write in {parent} (permission denied)")
    return out


#: Points per parameter of the default grid.
DEFAULT_GRID_POINTS = 41


def default_grid(sample: EventSample, n_points: int = DEFAULT_GRID_POINTS) -> str:
    """``"low:high:n,..."`` over the range the sample's benchmarks span in each parameter (which includes the
    morphing basis), widened to include the SM point 0."""
    low = np.minimum(sample.benchmark_theta.min(axis=0), 0.0)
    high = np.maximum(sample.benchmark_theta.max(axis=0), 0.0)
    if np.any(high <= low):
        raise OptionError(f"the benchmarks of {sample.parameters} span no range in every parameter: give --grid")
    return ",".join(f"{a:.6g}:{b:.6g}:{n_points}" for a, b in zip(low, high))


def resolve_grid(grid: str | Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(grid, str):
        return limits.grid_axes(grid)
    axes = [np.asarray(a, float) for a in grid]
    for j, a in enumerate(axes):
        if a.ndim != 1 or len(a) < 2 or not np.all(np.isfinite(a)) or np.any(np.diff(a) <= 0):
            raise OptionError(f"grid axis {j} must be a strictly increasing 1-D array of ≥ 2 finite values")
    return axes


def grid_text(axes: Sequence[np.ndarray], parameters: Sequence[str]) -> str:
    return ", ".join(f"{name} ∈ [{a[0]:g}, {a[-1]:g}]" for name, a in zip(parameters, axes))


def resolve_theta_true(theta_true: Sequence[float] | None, axes: list[np.ndarray], parameters: list[str]) -> np.ndarray:
    """θ* as an array; refuses a wrong length, a non-finite value or a point outside the grid."""
    if theta_true is None:
        theta = np.zeros(len(parameters))
    else:
        try:
            theta = np.asarray(theta_true, dtype=float).reshape(-1)
        except (TypeError, ValueError):
            raise OptionError(f"--true {theta_true!r}: not a list of numbers") from None
    if len(theta) != len(parameters) or not np.all(np.isfinite(theta)):
        raise OptionError(f"--true {','.join(f'{v:g}' for v in theta)}: needs {len(parameters)} finite values, "
                          f"one per parameter ({', '.join(parameters)})")
    outside = [name for name, v, a in zip(parameters, theta, axes)
               if not (a[0] - 1e-9 * (a[-1] - a[0]) <= v <= a[-1] + 1e-9 * (a[-1] - a[0]))]
    if outside:
        where = "θ* = the SM (all zeros, the default of --true)" if theta_true is None else \
            f"--true {','.join(f'{v:g}' for v in theta)}"
        raise OptionError(f"{where} lies outside the grid ({grid_text(axes, parameters)}; off in "
                          f"{', '.join(outside)}): the best fit and the contours would be cut off at the grid "
                          "edge; widen --grid or move --true")
    return theta


def available_memory() -> int | None:
    """Bytes this process can still allocate: the least of free memory (MemAvailable), the cgroup limit and
    ``ulimit -v``; ``None`` where none of them can be read (then nothing is refused for memory)."""
    bounds: list[int] = []
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                bounds.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError, IndexError):
        pass
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            limit_text = Path(limit_file).read_text().strip()
            if limit_text != "max" and int(limit_text) < 2**60:
                bounds.append(int(limit_text) - int(Path(usage_file).read_text().strip()))
            break
        except (OSError, ValueError):
            continue
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            used = 0
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmSize:"):
                    used = int(line.split()[1]) * 1024
            bounds.append(soft - used)
    except (ImportError, OSError, ValueError, AttributeError):
        pass
    return max(min(bounds), 0) if bounds else None


def memory_estimate(n_points: int, n_events: int, n_parameters: int, n_maps: int, chunk: int) -> int:
    """Bytes that computing and writing ``n_maps`` maps on ``n_points`` grid points takes at its peak.

    The whole grid costs a few numbers per point (points, the q maps, contour summary, p-values, figure); every
    array that grows with the test events is made one chunk of ``chunk`` grid points at a time.
    """
    per_point = 32 * n_parameters + 16 * max(n_maps, 1) + BYTES_PER_POINT
    return int(n_points) * per_point + int(n_events) * int(chunk) * BYTES_PER_EVENT_POINT


def chunk_for_memory(grid_spec: str, n_points: int, n_events: int, n_parameters: int, n_maps: int) -> int:
    """The number of grid points per chunk; refuses a grid whose maps do not fit in the available memory."""
    chunk = int(np.clip(CHUNK_BUDGET // max(n_events * BYTES_PER_EVENT_POINT, 1), 1, DEFAULT_CHUNK))
    need = memory_estimate(n_points, n_events, n_parameters, n_maps, chunk)
    free = available_memory()
    if free is not None and need > 0.8 * free:
        per_axis = max(int((0.5 * free / memory_estimate(1, 0, n_parameters, n_maps, 0)) ** (1 / n_parameters)), 2)
        raise OptionError(
            f"--grid {grid_spec}: {n_points:,} grid points × {n_events:,} test events for {n_maps} map(s) need about "
            f"{_gib(need)} of memory, {_gib(free)} are available; use fewer points per axis (at most about "
            f"{per_axis:,}) or a smaller test file")
    return chunk


def _gib(n_bytes: float) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= size:
            return f"{n_bytes / size:,.1f} {unit}"
    return f"{n_bytes / 2**20:.2f} MiB"
