"""Shared pieces of the event-file adapters: benchmark specifications and assembling an EventSample.

Shapes: N events, P object slots, B benchmarks, D parameters, G globals. Weights are in pb.

An adapter reads each input file into a :class:`FilePart` (one or more chunks of events whose
weights are already in pb at every benchmark) and :func:`assemble` joins the parts: files of the
same process are statistically independent runs and are averaged (each file's weights scaled by
its share of the process's events), files of different processes are kept side by side with their
own cross sections.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from lfi.errors import EventFileError, OptionError, UnknownNameError
from lfi.events.cutflow import CUTFLOW_KEY, apply_cuts, sm_column
from simulators.io.objects import OBSERVABLE_NAMES, scatter_objects, standard_observables

__all__ = ["Benchmarks", "Chunk", "FilePart", "assemble", "parse_benchmark", "NOMINAL", "NO_OBJECT_SLOTS"]

log = logging.getLogger("lfi")

NOMINAL = "nominal"
"""Name of the single benchmark of a file imported without ``benchmarks`` (its own event weight)."""

NO_OBJECT_SLOTS = 0
"""Object slots of a sample that carries no object list (all slots are padding, type 0).

One slot rather than zero because ``EventSample.validate`` cannot yet take P = 0 (it reduces an
empty ``types`` array); the sample's metadata ``{"objects": false}`` is the marker either way.
"""


def parse_benchmark(spec: str, n_parameters: int) -> tuple[str, tuple[float, ...]]:
    """Split ``"NAME=v1,v2"`` into the name and the parameter values.

    Raises
    ------
    OptionError
        If the text is not of that form or has another number of values than parameters.
    """
    name, sep, values = spec.partition("=")
    name = name.strip()
    try:
        theta = tuple(float(v) for v in values.split(",")) if sep else ()
    except ValueError:
        theta = ()
    if not name or not sep or len(theta) != n_parameters:
        raise OptionError(
            f"benchmark {spec!r}: expected NAME=" + ",".join(["VALUE"] * n_parameters)
            + f" with {n_parameters} value(s), one per parameter"
        )
    return name, theta


@dataclass(frozen=True)
class Benchmarks:
    """Which parameter points the imported weights belong to.

    Parameters
    ----------
    parameters : tuple of str, length D
        Parameter names, e.g. ``("f_W", "f_WW")``.
    points : tuple of (name, theta)
        Benchmarks in storage order. A benchmark's weight is the reweighting weight whose id equals
        its name, except for ``sampled_from`` when the file has no weight of that id (then the
        event's own weight is used, as MadGraph writes it at the generation point). Empty: one
        benchmark called ``"nominal"`` at θ = 0 holding the event weight.
    units : str
        Unit of the parameter values, e.g. ``"TeV^-2"``.
    sampled_from : str, optional
        The benchmark the events were generated at (fills ``/events/sampled_from``; default −1).
    background : bool
        The process does not depend on θ: every benchmark gets the event's own weight.
    morphing_degree : int, optional
        Store a morphing setup with all monomials of total degree ≤ this.
    morphing_basis : tuple of str, optional
        Benchmarks forming the morphing basis; default: the first C benchmarks.

    Raises
    ------
    OptionError
        Repeated names, a benchmark with the wrong number of values, a morphing degree the benchmarks
        cannot carry (too few, or a singular basis).
    UnknownNameError
        ``sampled_from`` or a morphing basis name that is not a benchmark.
    """

    parameters: tuple[str, ...] = ("f_W", "f_WW")
    points: tuple[tuple[str, tuple[float, ...]], ...] = ()
    units: str = "TeV^-2"
    sampled_from: str | None = None
    background: bool = False
    morphing_degree: int | None = None
    morphing_basis: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        names = self.names
        if len(set(names)) != len(names):
            raise OptionError(f"benchmark names must be unique, got {names}")
        for name, theta in self.points:
            if len(theta) != len(self.parameters):
                raise OptionError(f"benchmark {name!r} has {len(theta)} values for {len(self.parameters)} parameters")
        if self.sampled_from is not None and self.sampled_from not in names:
            raise UnknownNameError(f"sampled-from benchmark {self.sampled_from!r} is not one of the benchmarks {names}")
        for name in self.morphing_basis or ():
            if name not in names:
                raise UnknownNameError(f"morphing basis benchmark {name!r} is not one of the benchmarks {names}")
        self.morphing()  # fail before reading any file

    @classmethod
    def parse(
        cls, specs: Sequence[str] | None, parameters: str | Sequence[str] = ("f_W", "f_WW"), **options: Any
    ) -> "Benchmarks":
        """Build from ``NAME=v1,v2`` strings (command-line form); ``parameters`` may be comma-separated."""
        if isinstance(parameters, str):
            parameters = [p.strip() for p in parameters.split(",") if p.strip()]
        points = tuple(parse_benchmark(s, len(parameters)) for s in specs or ())
        basis = options.pop("morphing_basis", None)
        if isinstance(basis, str):
            basis = tuple(b.strip() for b in basis.split(",") if b.strip())
        return cls(parameters=tuple(parameters), points=points, morphing_basis=basis, **options)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.points] or [NOMINAL]

    @property
    def theta(self) -> np.ndarray:
        """Benchmark parameter values, shape (B, D)."""
        if not self.points:
            return np.zeros((1, len(self.parameters)))
        return np.array([theta for _, theta in self.points], dtype=np.float64).reshape(-1, len(self.parameters))

    def weight_sources(self, available: Sequence[str] | None) -> list[str | None]:
        """For each benchmark, the reweighting weight id to read, or None for the event's own weight.

        Parameters
        ----------
        available : sequence of str, optional
            Weight ids the file declares (None if it declares none).

        Raises
        ------
        KeyError
            Listing the benchmark names the file has no weight for.
        """
        if not self.points or self.background:
            return [None] * len(self.names)
        available_set = set(available or ())
        sources: list[str | None] = []
        for name in self.names:
            if name == self.sampled_from and name not in available_set:
                sources.append(None)
            else:
                sources.append(name)
        missing = [s for s in sources if s is not None and s not in available_set]
        if missing:
            raise KeyError(missing)
        return sources

    def sampled_index(self) -> int:
        """Index of ``sampled_from`` among the benchmarks, −1 if not set."""
        return -1 if self.sampled_from is None else self.names.index(self.sampled_from)

    def morphing(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Morphing components (C, D) and basis indices (C,), or (None, None) without morphing.

        Raises
        ------
        OptionError
            A negative degree, no parameters, too few benchmarks for the degree, or a singular basis.
        """
        if self.morphing_degree is None:
            return None, None
        from lfi.morphing import Morpher, monomial_components

        if self.morphing_degree < 0 or not self.parameters:
            raise OptionError(
                f"morphing needs a degree of 0 or more and at least one parameter, got degree {self.morphing_degree} "
                f"with {len(self.parameters)} parameters"
            )
        components = monomial_components(len(self.parameters), self.morphing_degree)
        names = self.names
        basis_names = list(self.morphing_basis) if self.morphing_basis else names[: len(components)]
        if len(basis_names) != len(components):
            raise OptionError(
                f"morphing of degree {self.morphing_degree} in {len(self.parameters)} parameters needs "
                f"{len(components)} basis benchmarks, got {len(basis_names)} ({', '.join(basis_names)})"
            )
        basis = np.array([names.index(b) for b in basis_names], dtype=np.int32)
        try:
            Morpher(components, self.theta[basis])
        except ValueError as err:  # a singular basis: the message says so and what to do
            raise OptionError(f"morphing basis {', '.join(basis_names)}: {err}") from None
        return components, basis


@dataclass
class Chunk:
    """Events of one read step, objects in the compact flat form of :func:`~simulators.io.objects.order_objects`.

    Attributes
    ----------
    counts : ndarray, shape (N,), int64
        Objects per event.
    momenta : ndarray, shape (K, 4), float32
        (E, px, py, pz) in GeV, grouped by event and pT-ordered within each event.
    types : ndarray, shape (K,), int8
    globals_ : ndarray, shape (N, G)
    weights : ndarray, shape (N, B), float64
        Weights in pb.
    """

    counts: np.ndarray
    momenta: np.ndarray
    types: np.ndarray
    globals_: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.weights)

    @property
    def width(self) -> int:
        """Most objects in one event."""
        return int(self.counts.max()) if len(self.counts) else 0


@dataclass
class FilePart:
    """All events of one input file, as chunks, with what was learned about the file."""

    path: str
    process: str
    chunks: list[Chunk] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n_events(self) -> int:
        return sum(len(c) for c in self.chunks)

    def scale(self, factor: float) -> None:
        """Multiply every weight of the file by ``factor``."""
        for chunk in self.chunks:
            chunk.weights *= factor


@np.errstate(all="ignore")  # extreme (but finite) momenta may overflow in derived observables: no warnings
def assemble(
    parts: list[FilePart],
    benchmarks: Benchmarks,
    global_names: Sequence[str],
    metadata: dict[str, Any],
    block: int = 16384,
) -> "EventSample":  # noqa: F821
    """Join file parts into one EventSample, combining runs of the same process.

    Files with the same process name are independent runs: each file's weights are multiplied by
    its share N_f / N_process of the process's events, so the process's weights sum to the
    event-weighted mean of the files' cross sections. Chunks hold objects unpadded and are released
    as they are copied, so peak memory is about the padded output plus the compact chunks.

    Parameters
    ----------
    parts : list of FilePart
    benchmarks : Benchmarks
    global_names : sequence of str, length G
    metadata : dict
        Written to the sample; per-file information, the object marker and the cut flow of every process (one
        step, ``read``: importers keep every event) are added.
    block : int
        Events per block when computing observables (bounds temporary memory).
    """
    from lfi.events import EventSample

    processes = list(dict.fromkeys(p.process for p in parts))
    totals = {name: sum(p.n_events for p in parts if p.process == name) for name in processes}
    for part in parts:
        share = part.n_events / totals[part.process] if totals[part.process] else 1.0
        part.scale(share)
        part.info.update(events=part.n_events, run_share=share)
    n = sum(totals.values())
    width = max((c.width for p in parts for c in p.chunks), default=0)
    width = max(width, NO_OBJECT_SLOTS)
    n_bench = len(benchmarks.names)
    momenta = np.zeros((n, width, 4), dtype=np.float32)
    types = np.zeros((n, width), dtype=np.int8)
    globals_ = np.zeros((n, len(global_names)), dtype=np.float32)
    weights = np.zeros((n, n_bench), dtype=np.float64)
    process = np.zeros(n, dtype=np.int16)
    start = 0
    for part in parts:
        index = processes.index(part.process)
        while part.chunks:
            chunk = part.chunks.pop(0)
            stop = start + len(chunk)
            scatter_objects(chunk.counts, chunk.momenta, chunk.types, momenta[start:stop], types[start:stop])
            globals_[start:stop] = chunk.globals_
            weights[start:stop] = chunk.weights
            process[start:stop] = index
            start = stop
    observables = {name: np.zeros(n, dtype=np.float32) for name in OBSERVABLE_NAMES}
    for lo in range(0, n, block):
        for name, values in standard_observables(momenta[lo : lo + block], types[lo : lo + block]).items():
            observables[name][lo : lo + block] = values
    components, basis = benchmarks.morphing()
    sm = sm_column(benchmarks.names, benchmarks.theta) or 0
    metadata = {
        **metadata,
        "objects": True,
        "files": [{"path": p.path, "process": p.process, **p.info} for p in parts],
        CUTFLOW_KEY: {name: apply_cuts([], weights[process == i, sm], first="read")[1]
                      for i, name in enumerate(processes)},
    }
    try:
        sample = EventSample(
            parameters=list(benchmarks.parameters),
            benchmark_names=benchmarks.names,
            benchmark_theta=benchmarks.theta,
            momenta=momenta,
            types=types,
            weights=weights,
            globals_=globals_,
            global_names=list(global_names),
            observables=observables,
            process=process,
            process_names=processes,
            sampled_from=np.full(n, benchmarks.sampled_index(), dtype=np.int16),
            morphing_components=components,
            morphing_basis=basis,
            units=benchmarks.units,
            metadata=metadata,
        )
    except EventFileError as err:  # the readers check their files; this names them should anything slip through
        raise EventFileError(str(err).replace("<memory>", ", ".join(p.path for p in parts), 1)) from None
    for name, xs in zip(processes, _cross_sections(sample, processes)):
        log.info("process %s: %d events, cross section %s pb", name, totals[name], _format_xs(xs, sample.benchmark_names))
    return sample


def _cross_sections(sample, processes: list[str]) -> list[np.ndarray]:
    return [sample.weights[sample.process == i].sum(axis=0) for i in range(len(processes))]


def _format_xs(xs: np.ndarray, names: list[str]) -> str:
    shown = ", ".join(f"{n}={v:.6g}" for n, v in list(zip(names, xs))[:4])
    return shown + (", ..." if len(names) > 4 else "")
