"""Les Houches Event files (plain or gzipped) → EventSample, read with ``pylhe``.

Parton-level events: the objects are the final-state particles (status 1) with the type codes of
docs/event-format.md §4 (:mod:`lfi.objects`) — quarks u, d, s, c and gluons are jets, b quarks b-jets, then e∓, μ∓ and photons;
neutrinos make up the missing transverse momentum (globals ``met``, ``met_phi``). Other final-state
particles (τ, undecayed tops or bosons) are counted in the metadata and left out.

Weights: the event weight (XWGTUP) and the MadGraph reweighting weights (``<rwgt><wgt id=…>``, ids
declared in ``<initrwgt>``) are mapped to benchmarks by id (:class:`~simulators.io.common.Benchmarks`).
With ``normalisation="init"`` every weight of a file is scaled so that the event weights sum to the
file's cross section in ``<init>`` (Σ XSECUP in pb); this holds for MadGraph's ``event_norm`` =
average, sum or unity alike and keeps negative weights as they are. Several files of one process
are averaged as independent runs (see :func:`simulators.io.common.assemble`).

Shapes: N events, P object slots (E, px, py, pz in GeV), B benchmarks (weights in pb).
"""

from __future__ import annotations

import gzip
import re
import warnings
import zlib
from array import array
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from lfi.errors import EventFileError, OptionError, first_line
from lfi.reading import reading
from lfi.objects import BJET, JET, LEPTON_TYPE_BY_PDG, PHOTON
from simulators.io.common import Benchmarks, Chunk, FilePart, assemble
from simulators.io.objects import missing_et, order_objects

__all__ = ["read_lhe", "PARTICLE_TYPES"]

PARTICLE_TYPES = {
    **{pid: JET for pid in (1, 2, 3, 4, -1, -2, -3, -4, 21)},
    5: BJET,
    -5: BJET,
    **LEPTON_TYPE_BY_PDG,
    22: PHOTON,
}
"""PDG id → object type code for final-state particles."""

_NEUTRINOS = {12, 14, 16}
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_DECLARED_EVENTS = re.compile(r"Number of Events\s*:\s*(\d+)")


def read_lhe(
    paths: str | Path | Iterable[str | Path],
    benchmarks: Benchmarks | None = None,
    *,
    process: str | Sequence[str] = "signal",
    normalisation: str = "init",
    max_objects: int | None = None,
    chunk_size: int = 100_000,
) -> "EventSample":  # noqa: F821
    """Read one or more LHE files (``.lhe`` or gzipped) into one EventSample.

    Parameters
    ----------
    paths : path or iterable of paths
    benchmarks : Benchmarks, optional
        Parameter points and which weight holds each; default: one benchmark ``"nominal"`` with
        the event weight.
    process : str or sequence of str
        Process name for all files, or one per file. Files of the same process are runs to
        average; different processes are kept apart (``/events/process``).
    normalisation : {"init", "keep"}
        ``"init"``: scale each file so its event weights sum to its ``<init>`` cross section (pb).
        ``"keep"``: use the weights as written (taken to be pb per event).
    max_objects : int, optional
        Keep the highest-pT objects per event; default all.
    chunk_size : int
        Events converted to arrays at a time (bounds memory of the Python-level parsing).

    Returns
    -------
    EventSample
        Metadata ``source="lhe"``, ``objects=True`` and per-file cross sections and counts.

    Raises
    ------
    EventFileError
        A one-line message naming the file: missing, truncated or malformed XML or gzip stream, no
        ``<init>`` block, missing reweighting ids, fewer events than the header declares, a
        non-finite weight or momentum (or one beyond float32).
    OptionError
        ``max_objects``, ``normalisation``, ``chunk_size`` or the process names do not work.
    """
    benchmarks = benchmarks or Benchmarks()
    if max_objects is not None and max_objects < 1:
        raise OptionError(f"max_objects must be at least 1, got {max_objects}")
    if normalisation not in ("init", "keep"):
        raise OptionError(f"normalisation must be 'init' or 'keep', got {normalisation!r}")
    if chunk_size < 1:
        raise OptionError(f"chunk_size must be at least 1, got {chunk_size}")
    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    processes = _per_file(process, len(paths))
    parts = [
        _read_file(path, proc, benchmarks, normalisation, max_objects, chunk_size)
        for path, proc in zip(paths, processes)
    ]
    metadata = {"source": "lhe", "level": "parton", "normalisation": normalisation}
    return assemble(parts, benchmarks, ["met", "met_phi"], metadata)


def _per_file(process: str | Sequence[str], n_files: int) -> list[str]:
    if isinstance(process, str):
        return [process] * n_files
    process = list(process)
    if len(process) == 1:
        return process * n_files
    if len(process) != n_files:
        raise OptionError(f"give one process name for all files or one per file: {len(process)} names, {n_files} files")
    return process


def _read_file(
    path: Path, process: str, benchmarks: Benchmarks, normalisation: str, max_objects: int | None, chunk_size: int
) -> FilePart:
    import pylhe

    if not path.is_file():
        raise EventFileError(f"{path}: " + ("not a file" if path.exists() else "no such file"))
    reader = _EventReader(path, benchmarks, max_objects, chunk_size)

    def unreadable(reason: str) -> str:
        if reader.n_events == 0:
            return f"not a readable LHE file ({reason})"
        return f"unreadable event after {reader.n_events} complete events ({reason}); truncated or corrupted file?"

    with reading(path, unreadable, libraries=("pylhe",)):
        # pylhe reports a broken XML stream as a warning and stops; make it an error.
        warnings.filterwarnings("error", message="Parse Error", category=RuntimeWarning)
        try:
            lhe = pylhe.LHEFile.fromfile(path)
            reader.start(lhe)
            for event in lhe.events:
                reader.add(event)
        except RuntimeWarning as err:
            raise EventFileError(
                f"{path}: truncated or malformed LHE after {reader.n_events} complete events ({first_line(err)})"
            ) from None
        except (EOFError, gzip.BadGzipFile, zlib.error) as err:
            raise EventFileError(
                f"{path}: truncated or corrupt gzip stream after {reader.n_events} complete events ({first_line(err)})"
            ) from None
        return reader.finish(process, normalisation)


class _EventReader:
    """Accumulates one file's events in compact arrays and converts them to chunks."""

    def __init__(self, path: Path, benchmarks: Benchmarks, max_objects: int | None, chunk_size: int):
        self.path, self.benchmarks = path, benchmarks
        self.max_objects, self.chunk_size = max_objects, chunk_size
        self.chunks: list[Chunk] = []
        self.nominal = array("d")
        self.n_events = 0
        self.n_dropped = 0
        self.skipped: Counter[int] = Counter()
        self.sources: list[str | None] | None = None
        self._reset()

    def _reset(self) -> None:
        self.counts, self.p4, self.types = array("q"), array("d"), array("b")
        self.met, self.weights = array("d"), array("d")

    def start(self, lhe) -> None:
        """Read what the header and ``<init>`` say: reweighting ids, cross section, event count."""
        self.declared_ids = lhe.header.initrwgt.list_weights_ids() if lhe.header is not None else []
        self.cross_section = float(sum(p.xSection for p in lhe.init.procInfo))
        self.weighting_strategy = int(lhe.init.initInfo.weightingStrategy)
        self.declared_events = None
        if lhe.header is not None:
            for element in lhe.header.extra_elements:
                if element.tag == "MGGenerationInfo" and element.text:
                    match = _DECLARED_EVENTS.search(element.text)
                    self.declared_events = int(match.group(1)) if match else None
        if self.declared_ids:
            self.sources = self._sources(self.declared_ids, "its <initrwgt> declares")

    def _sources(self, available: list[str], where: str) -> list[str | None]:
        try:
            return self.benchmarks.weight_sources(available)
        except KeyError as err:
            shown = ", ".join(available[:12]) + (", ..." if len(available) > 12 else "") or "none"
            raise EventFileError(
                f"{self.path}: no reweighting weight with id {', '.join(map(repr, err.args[0]))}; {where}: {shown}"
            ) from None

    def add(self, event) -> None:
        if self.sources is None:  # no <initrwgt>: take the ids of the first event
            self.sources = self._sources(list(event.weights), "the first event's <rwgt> has")
        w0 = event.eventinfo.weight
        try:
            self.weights.extend([w0 if s is None else event.weights[s] for s in self.sources])
        except KeyError as err:
            raise EventFileError(
                f"{self.path}: event {self.n_events + 1} has no reweighting weight with id {err.args[0]!r}"
            ) from None
        self.nominal.append(w0)
        k, mex, mey = 0, 0.0, 0.0
        for particle in event.particles:
            if particle.status != 1:
                continue
            pid = particle.id
            code = PARTICLE_TYPES.get(pid)
            if code is not None:
                self.p4.extend((particle.e, particle.px, particle.py, particle.pz))
                self.types.append(code)
                k += 1
            elif abs(pid) in _NEUTRINOS:
                mex += particle.px
                mey += particle.py
            else:
                self.skipped[pid] += 1
        self.counts.append(k)
        self.met.extend((mex, mey))
        self.n_events += 1
        if len(self.counts) >= self.chunk_size:
            self._flush()

    def _flush(self) -> None:
        if not len(self.counts):
            return
        counts = np.frombuffer(self.counts, dtype=np.int64)
        p4 = np.frombuffer(self.p4, dtype=np.float64).reshape(-1, 4)
        met = np.frombuffer(self.met, dtype=np.float64).reshape(-1, 2)
        weights = np.frombuffer(self.weights, dtype=np.float64).reshape(-1, len(self.sources)).copy()
        self._check_finite(counts, p4, met, weights)
        counts, momenta, types, dropped = order_objects(counts, p4, np.frombuffer(self.types, dtype=np.int8), self.max_objects)
        self.chunks.append(Chunk(counts, momenta, types, missing_et(met[:, 0], met[:, 1]), weights))
        self.n_dropped += dropped
        self._reset()

    def _check_finite(self, counts: np.ndarray, p4: np.ndarray, met: np.ndarray, weights: np.ndarray) -> None:
        """Weights must be finite, momenta finite within float32 (the event file's type)."""
        first = self.n_events - len(counts) + 1  # number of the chunk's first event in the file
        bad = np.flatnonzero(~np.isfinite(weights).all(axis=1))
        if len(bad):
            raise EventFileError(f"{self.path}: event {first + bad[0]} has a non-finite weight")
        owner = np.repeat(np.arange(len(counts)), counts)
        in_range = (np.abs(p4) <= _FLOAT32_MAX).all(axis=1)  # False for NaN too
        bad = np.union1d(owner[~in_range], np.flatnonzero(~(np.abs(met) <= _FLOAT32_MAX).all(axis=1)))
        if len(bad):
            raise EventFileError(f"{self.path}: event {first + bad[0]} has a non-finite momentum (or one beyond float32)")

    def finish(self, process: str, normalisation: str) -> FilePart:
        self._flush()
        if self.n_events == 0:
            raise EventFileError(f"{self.path}: the file holds no <event>")
        if self.declared_events is not None and self.declared_events != self.n_events:
            raise EventFileError(
                f"{self.path}: header declares {self.declared_events} events but the file holds "
                f"{self.n_events}: truncated?"
            )
        nominal = np.frombuffer(self.nominal, dtype=np.float64)
        total = float(nominal.sum())
        factor = 1.0
        if normalisation == "init":
            if not self.cross_section > 0 or not total > 0:
                raise EventFileError(
                    f"{self.path}: cannot normalise to the <init> cross section ({self.cross_section} pb) with event "
                    f"weights summing to {total}; use normalisation 'keep'"
                )
            factor = self.cross_section / total
        part = FilePart(str(self.path), process, self.chunks)
        part.scale(factor)
        part.info = {
            "cross_section_pb": self.cross_section,
            "weighting_strategy": self.weighting_strategy,
            "normalisation_factor": factor,
            "negative_weights": int((nominal < 0).sum()),
            "objects_dropped": self.n_dropped,
            "skipped_final_state_pids": {str(k): v for k, v in sorted(self.skipped.items())},
        }
        return part

