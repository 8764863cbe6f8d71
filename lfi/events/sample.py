"""EventSample: weighted events with their parameter benchmarks, morphing setup and optional truth.

One sample is one file in the ``lfi-events`` format (``docs/event-format.md`` §2–3), written and read by
:mod:`lfi.events.hdf5`. Shapes use N events, P object slots, B benchmarks, D parameters, C morphing
components and G event-level globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from lfi.errors import EventFileError, OptionError, UnknownNameError
from lfi.events import hdf5
from lfi.events.cutflow import CUTFLOW_KEY, combine_cutflows
from lfi.objects import OBJECT_TYPES

__all__ = ["EventSample"]


@dataclass
class EventSample:
    """Weighted events with their parameter benchmarks, morphing setup and optional truth.

    Parameters
    ----------
    parameters : list of str, length D
        Parameter names, e.g. ``["f_W", "f_WW"]``.
    benchmark_names : list of str, length B
    benchmark_theta : ndarray, shape (B, D), float64
        Parameter values of the benchmarks (in ``units``).
    momenta : ndarray, shape (N, P, 4), float32
        Object four-momenta (E, px, py, pz) in GeV, zero-padded.
    types : ndarray, shape (N, P), int8
        Object type codes, see ``OBJECT_TYPES``.
    weights : ndarray, shape (N, B), float64
        Event weights in pb at each benchmark; a column sums to the cross section there.
    globals_ : ndarray, shape (N, G), float32
    global_names : list of str, length G
    observables : dict of str to ndarray of shape (N,), float32
    process : ndarray, shape (N,), int16
    process_names : list of str
    sampled_from : ndarray, shape (N,), int16
    morphing_components : ndarray, shape (C, D), int32, optional
        Monomial exponents of the polynomial θ-dependence of every weight.
    morphing_basis : ndarray, shape (C,), int32, optional
        Benchmark indices forming the morphing basis.
    truth_events : dict of str to ndarray with leading dimension N
    truth : dict of str to ndarray
        Sample-level truth (not sliced with the events).
    units : str
        Unit of the parameters, e.g. ``"TeV^-2"``.
    metadata : dict
        JSON-serialisable provenance (simulator, seed, settings).
    nuisance_names : list of str, length K
        Nuisance parameters whose variations are stored as extra benchmarks (format version 2).
    nuisance_benchmarks : ndarray, shape (K, 2), int32, optional
        Per nuisance the benchmark index of its ν = +1 variation and of its ν = −1 variation (−1: none). A
        variation's weights are those of the nominal model at the benchmark's θ, times the variation's factor
        (:meth:`nuisance_model`).
    """

    parameters: list[str]
    benchmark_names: list[str]
    benchmark_theta: np.ndarray
    momenta: np.ndarray
    types: np.ndarray
    weights: np.ndarray
    globals_: np.ndarray | None = None
    global_names: list[str] = field(default_factory=list)
    observables: dict[str, np.ndarray] = field(default_factory=dict)
    process: np.ndarray | None = None
    process_names: list[str] = field(default_factory=lambda: ["signal"])
    sampled_from: np.ndarray | None = None
    morphing_components: np.ndarray | None = None
    morphing_basis: np.ndarray | None = None
    truth_events: dict[str, np.ndarray] = field(default_factory=dict)
    truth: dict[str, np.ndarray] = field(default_factory=dict)
    units: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    nuisance_names: list[str] = field(default_factory=list)
    nuisance_benchmarks: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.weights)
        self.benchmark_theta = np.asarray(self.benchmark_theta, dtype=np.float64)
        if self.benchmark_theta.size == 0:  # no parameters: a (B, 0) array
            self.benchmark_theta = self.benchmark_theta.reshape(len(self.benchmark_names), len(self.parameters))
        self.momenta = np.asarray(self.momenta, dtype=np.float32)
        self.types = np.asarray(self.types, dtype=np.int8)
        self.weights = np.asarray(self.weights, dtype=np.float64)
        if self.globals_ is None:
            self.globals_ = np.zeros((n, 0), dtype=np.float32)
        self.globals_ = np.asarray(self.globals_, dtype=np.float32)
        self.observables = {k: np.asarray(v, dtype=np.float32) for k, v in self.observables.items()}
        self.process = np.zeros(n, np.int16) if self.process is None else np.asarray(self.process, np.int16)
        self.sampled_from = (
            np.full(n, -1, np.int16) if self.sampled_from is None else np.asarray(self.sampled_from, np.int16)
        )
        if self.morphing_components is not None:
            self.morphing_components = np.asarray(self.morphing_components, dtype=np.int32)
            self.morphing_basis = np.asarray(self.morphing_basis, dtype=np.int32)
        self.parameters = list(self.parameters)
        self.benchmark_names = list(self.benchmark_names)
        self.global_names = list(self.global_names)
        self.process_names = list(self.process_names)
        self.nuisance_names = list(self.nuisance_names)
        self.nuisance_benchmarks = np.asarray(
            np.zeros((0, 2)) if self.nuisance_benchmarks is None else self.nuisance_benchmarks, dtype=np.int32)
        self.validate()

    # ------------------------------------------------------------------ basic properties
    def __len__(self) -> int:
        return len(self.weights)

    @property
    def n_parameters(self) -> int:
        return len(self.parameters)

    @property
    def n_benchmarks(self) -> int:
        return len(self.benchmark_names)

    @property
    def cross_sections(self) -> np.ndarray:
        """Cross section in pb at every benchmark, shape (B,)."""
        return self.weights.sum(axis=0)

    @property
    def can_morph(self) -> bool:
        return self.morphing_components is not None

    @property
    def is_nuisance_benchmark(self) -> np.ndarray:
        """True for the benchmarks that hold nuisance variations, shape (B,)."""
        flags = np.zeros(self.n_benchmarks, dtype=bool)
        used = self.nuisance_benchmarks[self.nuisance_benchmarks >= 0]
        flags[used] = True
        return flags

    def nuisance_model(self):
        """The per-event interpolation of the stored nuisances (:class:`lfi.limits.nuisance.NuisanceModel`).

        The nominal weights of a variation are those of the physics benchmark at its θ, or the morphed weights at
        that θ where no physics benchmark is stored there.

        Raises
        ------
        EventFileError
            If the sample has no nuisances, or a variation has no nominal (no morphing and no physics benchmark at
            its θ).
        """
        from lfi.limits.nuisance import NuisanceModel

        nominal, up, down = self.nuisance_variations()
        try:
            return NuisanceModel.from_variations(self.nuisance_names, nominal, up, down)
        except ValueError as err:
            raise EventFileError(str(err)) from None

    def nuisance_variations(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The weights of the stored nuisance variations and of their nominal.

        Returns
        -------
        nominal : ndarray, shape (N,)
            Weights at the variations' θ in pb (see :meth:`nuisance_model`).
        up, down : ndarray, shape (N, K)
            Weights of the ν_k = +1 and ν_k = −1 variations in pb; a column of NaN for a one-sided nuisance.

        Raises
        ------
        EventFileError
            As :meth:`nuisance_model`.
        """
        if not self.nuisance_names:
            raise EventFileError("this sample stores no nuisance variations (simulate with nuisances, or import a "
                                 "MadMiner file with nuisance benchmarks)")
        up_index, down_index = self.nuisance_benchmarks[:, 0], self.nuisance_benchmarks[:, 1]
        theta = self.benchmark_theta[up_index[0]]
        nominal = self._nominal_weights(theta, self.benchmark_names[up_index[0]])
        down = np.where(down_index[None, :] >= 0, self.weights[:, np.maximum(down_index, 0)], np.nan)
        return nominal, self.weights[:, up_index], down

    def _nominal_weights(self, theta: np.ndarray, variation: str) -> np.ndarray:
        """The stored physics benchmark at θ where there is one (exactly what the variations were scaled from),
        else the morphed weights."""
        physics = np.flatnonzero(~self.is_nuisance_benchmark & np.all(self.benchmark_theta == theta, axis=1))
        if len(physics):
            return self.weights[:, physics[0]]
        if self.can_morph:
            return self.weights_at(theta)
        raise EventFileError(f"nuisance benchmark {variation!r} has no nominal: no physics benchmark at its θ "
                             f"{theta.tolist()} and no morphing")

    def benchmark_index(self, name: str) -> int:
        """Index of the benchmark called ``name`` (raises KeyError listing the valid names)."""
        try:
            return self.benchmark_names.index(name)
        except ValueError:
            raise UnknownNameError(f"no benchmark {name!r}; benchmarks are {self.benchmark_names}") from None

    def morpher(self):
        """The :class:`lfi.morphing.Morpher` of this sample (basis = its morphing benchmarks)."""
        from lfi.morphing import Morpher

        if not self.can_morph:
            raise EventFileError("this sample carries no /morphing group: its weights are known only at the benchmarks")
        return Morpher(self.morphing_components, self.benchmark_theta[self.morphing_basis])

    def weights_at(self, theta: np.ndarray) -> np.ndarray:
        """Event weights in pb at arbitrary parameter points by morphing.

        Parameters
        ----------
        theta : ndarray, shape (D,) or (T, D)

        Returns
        -------
        ndarray, shape (N,) or (N, T)
        """
        theta = np.asarray(theta, dtype=np.float64)
        single = theta.ndim == 1
        w_basis = self.weights[:, self.morphing_basis]
        morph = self.morpher().weights(np.atleast_2d(theta))  # (T, C)
        out = w_basis @ morph.T
        return out[:, 0] if single else out

    # ------------------------------------------------------------------ validation
    def validate(self, source: str = "<memory>") -> None:
        """Check shapes, dtypes and finiteness; raise :class:`EventFileError` naming the dataset."""
        n, b, d = len(self.weights), self.n_benchmarks, self.n_parameters

        def fail(dataset: str, why: str) -> None:
            raise EventFileError(f"{source}: dataset {dataset}: {why}")

        if self.benchmark_theta.shape != (b, d):
            fail("/benchmarks/theta", f"shape {self.benchmark_theta.shape}, expected ({b}, {d})")
        if self.weights.ndim != 2 or self.weights.shape[1] != b:
            fail("/events/weights", f"shape {self.weights.shape}, expected ({n}, {b})")
        if self.momenta.ndim != 3 or self.momenta.shape[0] != n or self.momenta.shape[2] != 4:
            fail("/events/momenta", f"shape {self.momenta.shape}, expected ({n}, P, 4)")
        if self.types.shape != self.momenta.shape[:2]:
            fail("/events/types", f"shape {self.types.shape}, expected {self.momenta.shape[:2]}")
        if self.globals_.shape != (n, len(self.global_names)):
            fail("/events/globals", f"shape {self.globals_.shape}, expected ({n}, {len(self.global_names)})")
        for name, values in self.observables.items():
            if values.shape != (n,):
                fail(f"/events/observables/{name}", f"shape {values.shape}, expected ({n},)")
        for dataset, values in (("/events/process", self.process), ("/events/sampled_from", self.sampled_from)):
            if values.shape != (n,):
                fail(dataset, f"shape {values.shape}, expected ({n},)")
        for name, values in self.truth_events.items():
            if len(values) != n:
                fail(f"/truth/events/{name}", f"{len(values)} rows, expected {n}")
        bad = _first_nonfinite(self.weights)
        if bad is not None:
            fail("/events/weights", f"non-finite weight {self.weights[bad]} in event {bad[0]}")
        bad = _first_nonfinite(self.momenta)
        if bad is not None:
            fail("/events/momenta", f"non-finite momentum component in event {bad[0]}")
        if self.types.size and (self.types.min() < 0 or self.types.max() >= len(OBJECT_TYPES)):
            fail("/events/types", f"type codes must lie in 0..{len(OBJECT_TYPES) - 1}")
        if len(self.process) and (self.process.min() < 0 or self.process.max() >= len(self.process_names)):
            fail("/events/process", f"process ids must index /processes/names ({len(self.process_names)} names)")
        if self.morphing_components is not None:
            c = len(self.morphing_components)
            if self.morphing_components.shape != (c, d):
                fail("/morphing/components", f"shape {self.morphing_components.shape}, expected (C, {d})")
            if self.morphing_basis.shape != (c,):
                fail("/morphing/basis", f"shape {self.morphing_basis.shape}, expected ({c},)")
            if self.morphing_basis.min() < 0 or self.morphing_basis.max() >= b:
                fail("/morphing/basis", f"indices must lie in 0..{b - 1}")
        self._validate_nuisances(fail)

    def _validate_nuisances(self, fail) -> None:
        k, b, pairs = len(self.nuisance_names), self.n_benchmarks, self.nuisance_benchmarks
        if pairs.shape != (k, 2):
            fail("/nuisances/benchmarks", f"shape {pairs.shape}, expected ({k}, 2): (up, down) per nuisance name")
        if len(set(self.nuisance_names)) != k:
            fail("/nuisances/names", f"names must be distinct, got {self.nuisance_names}")
        if k == 0:
            return
        if pairs[:, 0].min() < 0 or pairs.max() >= b or pairs[:, 1].min() < -1:
            fail("/nuisances/benchmarks", f"up indices must lie in 0..{b - 1}, down indices in -1..{b - 1}")
        used = pairs[pairs >= 0]
        if len(set(used.tolist())) != len(used):
            fail("/nuisances/benchmarks", "a benchmark holds the variation of more than one nuisance")
        if self.can_morph and np.isin(self.morphing_basis, used).any():
            fail("/nuisances/benchmarks", "a nuisance variation cannot be a morphing basis point")
        if np.any(self.benchmark_theta[used] != self.benchmark_theta[used[0]]):
            fail("/nuisances/benchmarks", "every variation must be stored at the same θ (the nominal point)")

    # ------------------------------------------------------------------ slicing and combining
    def select(self, index: slice | np.ndarray | Sequence[int]) -> "EventSample":
        """A new sample with the events picked by a slice, an index array or a boolean mask.

        The cut flow (``metadata["cutflow"]``) describes how the whole sample was selected, not a subset of it:
        the new sample's metadata has none (``lfi.events.cutflow``).
        """
        if not isinstance(index, slice):
            index = np.asarray(index)
        return replace(
            self,
            metadata={k: v for k, v in self.metadata.items() if k != CUTFLOW_KEY},
            momenta=self.momenta[index],
            types=self.types[index],
            weights=self.weights[index],
            globals_=self.globals_[index],
            observables={k: v[index] for k, v in self.observables.items()},
            process=self.process[index],
            sampled_from=self.sampled_from[index],
            truth_events={k: v[index] for k, v in self.truth_events.items()},
        )

    __getitem__ = select

    def split(
        self, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0, reweight: bool = True
    ) -> list["EventSample"]:
        """Split by event into disjoint random parts (e.g. train / validation / test).

        Parameters
        ----------
        fractions : sequence of float
            Fractions of events per part; must sum to 1.
        seed : int
            Seed of the permutation; the same seed gives the same split.
        reweight : bool
            Divide each part's weights by its fraction so each part alone still sums to the
            cross section (in pb).
        """
        fractions = np.asarray(fractions, dtype=float)
        if np.any(fractions <= 0) or abs(fractions.sum() - 1) > 1e-9:
            raise OptionError(f"split fractions must be positive and sum to 1, got {fractions.tolist()}")
        order = np.random.default_rng(seed).permutation(len(self))
        edges = np.round(np.cumsum(fractions) * len(self)).astype(int)
        parts = []
        for start, stop, frac in zip(np.r_[0, edges[:-1]], edges, fractions):
            part = self.select(np.sort(order[start:stop]))
            if reweight:
                part.weights = part.weights / frac
            parts.append(part)
        return parts

    @classmethod
    def concatenate(cls, samples: Iterable["EventSample"]) -> "EventSample":
        """Join samples that share parameters, units, benchmarks, morphing setup, globals, observables and truth;
        object lists are padded to the widest.

        Weights are kept as they are (each sample's weights in pb); to combine several
        statistically independent samples of the *same* process, scale their weights first. The metadata is the
        first sample's, with the cut flows of all samples joined by process; a process found in several samples
        has none (:func:`lfi.events.cutflow.combine_cutflows`).
        """
        samples = list(samples)
        if not samples:
            raise ValueError("concatenate needs at least one sample")
        for i, other in enumerate(samples[1:], start=1):
            difference = _contract_difference(samples[0], other)
            if difference:
                raise EventFileError(f"cannot concatenate sample {i} with sample 0: {difference}")
        first = samples[0]
        processes = list(dict.fromkeys(name for s in samples for name in s.process_names))
        width = max(s.momenta.shape[1] for s in samples)

        def pad(a: np.ndarray) -> np.ndarray:
            extra = [(0, 0)] * a.ndim
            extra[1] = (0, width - a.shape[1])
            return np.pad(a, extra)

        flows = combine_cutflows([s.metadata for s in samples])
        remapped = [np.array([processes.index(n) for n in s.process_names])[s.process] for s in samples]
        return replace(
            first,
            momenta=np.concatenate([pad(s.momenta) for s in samples]),
            types=np.concatenate([pad(s.types) for s in samples]),
            weights=np.concatenate([s.weights for s in samples]),
            globals_=np.concatenate([s.globals_ for s in samples]),
            observables={k: np.concatenate([s.observables[k] for s in samples]) for k in first.observables},
            process=np.concatenate(remapped),
            process_names=processes,
            sampled_from=np.concatenate([s.sampled_from for s in samples]),
            metadata={k: v for k, v in first.metadata.items() if k != CUTFLOW_KEY}
            | ({CUTFLOW_KEY: flows} if flows else {}),
            truth_events={k: np.concatenate([s.truth_events[k] for s in samples]) for k in first.truth_events},
        )

    # ------------------------------------------------------------------ I/O
    def save(self, path: str | os.PathLike, compression: str | None = None) -> Path:
        """Write the sample atomically (temporary file in the same folder, then rename).

        Parameters
        ----------
        path : path-like
            Destination ``.h5`` file; an existing file is replaced only once writing succeeded.
        compression : {None, "lzf", "gzip"}
            HDF5 filter for the per-event datasets.
        """
        return hdf5.write(self, path, compression)

    @classmethod
    def load(cls, path: str | os.PathLike, events: slice | None = None) -> "EventSample":
        """Read and validate an event file.

        Parameters
        ----------
        path : path-like
            An event file, or the directory of a sharded sample (:mod:`lfi.events.shards`).
        events : slice, optional
            Read only these events (the chunked layout makes this cheap).

        Raises
        ------
        EventFileError
            One line naming the file and the dataset for a missing file or dataset, a wrong shape
            or dtype, a non-finite weight or momentum, another format or version, or a truncated file.
        """
        from lfi.events.shards import is_sharded, load_sharded

        if is_sharded(path):
            return load_sharded(cls, path, events)
        fields = hdf5.read_fields(path, events)
        try:
            return cls(**fields)
        except EventFileError as err:
            raise EventFileError(str(err).replace("<memory>", str(path), 1)) from None

    @staticmethod
    def read_info(path: str | os.PathLike) -> dict[str, Any]:
        """Summary of a file (see :func:`lfi.events.hdf5.read_info`): reads only weights and process ids,
        block by block, so it is fast and its memory does not grow with the file."""
        from lfi.events.shards import is_sharded, read_sharded_info

        return read_sharded_info(path) if is_sharded(path) else hdf5.read_info(path)


def _contract_difference(a: EventSample, b: EventSample) -> str | None:
    """What two samples disagree on, among the things a concatenation must share (None if nothing)."""
    checks = (
        ("parameters", a.parameters == b.parameters, a.parameters, b.parameters),
        ("units", a.units == b.units, a.units, b.units),
        ("benchmarks", a.benchmark_names == b.benchmark_names, a.benchmark_names, b.benchmark_names),
        ("benchmarks (θ values)", np.array_equal(a.benchmark_theta, b.benchmark_theta), None, None),
        ("morphing setup", a.can_morph == b.can_morph and (not a.can_morph or (
            np.array_equal(a.morphing_components, b.morphing_components)
            and np.array_equal(a.morphing_basis, b.morphing_basis))), None, None),
        ("globals", a.global_names == b.global_names, a.global_names, b.global_names),
        ("nuisances", a.nuisance_names == b.nuisance_names
         and np.array_equal(a.nuisance_benchmarks, b.nuisance_benchmarks), a.nuisance_names, b.nuisance_names),
        ("observables", sorted(a.observables) == sorted(b.observables), sorted(a.observables), sorted(b.observables)),
        ("per-event truth", sorted(a.truth_events) == sorted(b.truth_events), sorted(a.truth_events),
         sorted(b.truth_events)),
        ("sample-level truth", sorted(a.truth) == sorted(b.truth) and all(
            np.array_equal(a.truth[k], b.truth[k]) for k in a.truth), sorted(a.truth), sorted(b.truth)),
    )
    for what, same, mine, theirs in checks:
        if not same:
            return f"different {what}" + (f" ({mine} vs {theirs})" if mine is not None else "")
    return None


def _first_nonfinite(values: np.ndarray) -> tuple | None:
    """Index of the first non-finite entry, scanning in blocks to bound memory."""
    flat_n = len(values)
    for start in range(0, flat_n, 262144):
        block = values[start : start + 262144]
        bad = ~np.isfinite(block)
        if bad.any():
            idx = np.argwhere(bad)[0]
            return (start + idx[0],) + tuple(idx[1:])
    return None
