"""MadMiner v0.9 HDF5 file → EventSample (the layout and conventions are described in
:mod:`simulators.io.madminer_export`, which writes such files)."""

from __future__ import annotations

import ast
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from lfi.errors import first_line
from lfi.events import EventFileError, open_hdf5
from lfi.reading import reading
from lfi.objects import OBJECT_TYPES
from simulators.io.common import NO_OBJECT_SLOTS
from simulators.io.madminer_layout import BLOCK_EVENTS, FOUR_MOMENTUM_NAMES, morphing_matrix

__all__ = ["read_madminer"]

log = logging.getLogger("lfi")


def read_madminer(path: str | os.PathLike) -> "EventSample":  # noqa: F821
    """Read a MadMiner v0.9 HDF5 file (with its events) into an EventSample.

    Physics benchmarks keep their order; nuisance benchmarks named in ``nuisance_parameters`` become the sample's
    nuisance variations (appended after them, at the θ of the reference benchmark, against which MadMiner takes its
    nuisance ratios); other nuisance benchmarks are left out and listed in the metadata. Weights (pb) are combined over the generation samples as MadMiner does
    (factors N_b / N_signal, see the module docstring); ``sampling_benchmarks`` become
    ``sampled_from`` (−1 for background). A file not written by lfi gets the processes ``signal``
    and, if it has background events, ``background``. Observables are stored as float32 (the lfi
    contract).

    Raises
    ------
    EventFileError
        One line naming the file: missing or not HDF5, a dataset that is missing, has an unexpected
        shape or non-finite values, a morphing matrix that does not match the components and
        benchmarks, or data that cannot be read (truncated or corrupted).
    """
    path = Path(path)
    importer = _Importer(path)
    with reading(path, importer.unreadable), open_hdf5(path) as f:
        importer.f = f
        sample = importer.sample()
    if "dropped_nuisance_benchmarks" in sample.metadata:
        log.warning("%s: left out %d nuisance benchmarks", path, len(sample.metadata["dropped_nuisance_benchmarks"]))
    return sample


class _Importer:
    """Reads one open MadMiner file; ``where`` is the dataset being read, named if HDF5 fails inside it."""

    def __init__(self, path: Path):
        self.f, self.path = None, path
        self.where = ""

    def unreadable(self, reason: str) -> str:
        where = f"dataset /{self.where}: " if self.where else "HDF5 structure "
        return f"{where}unreadable ({reason}); truncated or corrupted file?"

    def fail(self, dataset: str, why: str):
        raise EventFileError(f"{self.path}: dataset /{dataset}: {why}")

    def read(self, name: str, kinds: str, ndim: int | None, required: bool = True):
        import h5py

        self.where = name
        if name not in self.f:
            if not required:
                return None
            top = ", ".join(sorted(self.f.keys())) or "none"
            self.fail(name, f"missing: not a MadMiner v0.9 file with events (top-level groups: {top})")
        node = self.f[name]
        if not isinstance(node, h5py.Dataset):
            self.fail(name, f"is a {'group' if isinstance(node, h5py.Group) else type(node).__name__}, expected a dataset")
        if node.dtype.kind not in kinds or (ndim is not None and node.ndim != ndim):
            self.fail(name, f"dtype {node.dtype} with {node.ndim} dimension(s), expected kind {kinds!r} with {ndim}")
        return node

    def data(self, node, selection=()) -> np.ndarray:
        """Read ``node`` (``selection`` of it), naming it if HDF5 fails."""
        name = node.name
        self.where = (name.decode("utf-8", "backslashreplace") if isinstance(name, bytes) else name).lstrip("/")
        return node[selection]

    def finite(self, name: str, values: np.ndarray) -> np.ndarray:
        """``values`` of dataset ``name``, which must all be finite."""
        bad = np.argwhere(~np.isfinite(values))
        if len(bad):
            where = f"event {bad[0][0]}" if name.startswith("samples/") else f"entry {tuple(bad[0].tolist())}"
            self.fail(name, f"non-finite value {values[tuple(bad[0])]} in {where}")
        return values

    def strings(self, name: str, required: bool = True) -> list[str] | None:
        node = self.read(name, "SOU", 1, required)
        if node is None:
            return None
        return [v.decode("ascii", "replace") if isinstance(v, bytes) else str(v) for v in self.data(node)]

    def sample(self):
        from lfi.events import EventSample
        from lfi.events.cutflow import CUTFLOW_KEY, apply_cuts, sm_column

        parameters = self.strings("parameters/names")
        names = self.strings("benchmarks/names")
        values = self.finite("benchmarks/values", self.data(self.read("benchmarks/values", "fiu", 2)).astype(np.float64))
        d, b_all = len(parameters), len(names)
        if values.shape != (b_all, d):
            self.fail("benchmarks/values", f"shape {values.shape}, expected ({b_all}, {d}) for {b_all} names and {d} parameters")
        nuisance = self._flags("benchmarks/is_nuisance", b_all)
        physics = np.flatnonzero(~nuisance)
        reference = [n for n, r in zip(names, self._flags("benchmarks/is_reference", b_all)) if r]
        weights_node = self.read("samples/weights", "f", 2)
        obs_node = self.read("samples/observations", "fiu", 2)
        sampling = self.data(self.read("samples/sampling_benchmarks", "iu", 1)).astype(np.int64)
        n = len(sampling)
        if weights_node.shape != (n, b_all):
            self.fail("samples/weights", f"shape {weights_node.shape}, expected ({n}, {b_all}): one weight per event and benchmark")
        obs_names = self.strings("observables/names", required=obs_node.shape[1] > 0) or []
        definitions = self.strings("observables/definitions", required=False) or ["None"] * len(obs_names)
        if obs_node.shape != (n, len(obs_names)) or len(definitions) != len(obs_names):
            self.fail("samples/observations", f"shape {obs_node.shape}, expected ({n}, {len(obs_names)}) for {len(obs_names)} observables")
        if n and (sampling.min() < -1 or sampling.max() >= b_all):
            self.fail("samples/sampling_benchmarks", f"values must lie in -1..{b_all - 1}")
        if n and np.isin(sampling, np.flatnonzero(nuisance)).any():
            self.fail("samples/sampling_benchmarks", "events sampled at a nuisance benchmark")
        new_index = np.full(b_all + 1, -1, dtype=np.int64)
        new_index[physics] = np.arange(len(physics))
        sampled_from = new_index[sampling]  # index -1 maps to the trailing -1
        components, basis = self._morphing(values[physics], d, len(physics), int(nuisance.sum()))
        nuisance_names, variations, pairs = self._nuisance_table(names, nuisance, len(physics))
        if len(variations):
            if not reference:
                self.fail("benchmarks/is_reference", "nuisance variations need a reference benchmark (MadMiner takes "
                          "its nuisance ratios against it); none is flagged")
            values[variations] = values[names.index(reference[0])]
        columns = np.concatenate([physics, variations]).astype(np.int64)
        factors = self._sample_factors(sampling, b_all)
        weights = self.finite("samples/weights", self.data(weights_node).astype(np.float64))
        weights = weights[:, columns] if len(columns) < b_all or np.any(columns != np.arange(b_all)) else weights
        if factors is not None:
            weights *= factors[sampling][:, None]
        layout = _Columns(obs_names, definitions)
        observables, globals_, momenta, types = layout.read(obs_node, n, self)
        info = self._info()
        order = info.get("morphing_basis")
        if basis is not None and order is not None and sorted(order) == basis.tolist():
            basis = np.asarray(order, dtype=np.int32)  # lfi's order of the basis points, kept through MadMiner
        kept = self._per_event("lfi/sampled_from", n)
        if kept is not None:
            if n and (kept.min() < -1 or kept.max() >= len(physics)):
                self.fail("lfi/sampled_from", f"values must lie in -1..{len(physics) - 1}")
            sampled_from = kept
        metadata = dict(info.get("metadata", {}))
        process = self._per_event("lfi/process", n)
        if process is not None and n and process.min() < 0:
            self.fail("lfi/process", "process ids must not be negative")
        process_names = list(info.get("process_names") or [])
        if process is None or len(process_names) <= (process.max() if n else -1):
            process_names, process = self._default_process(sampled_from)
        metadata.update(
            imported_from=str(self.path),
            objects=layout.has_objects,
            madminer_parameters=self._parameters(parameters),
        )
        metadata.setdefault("source", "madminer")
        if CUTFLOW_KEY not in metadata:  # a file lfi exported keeps its own; MadMiner's files: every event read
            sm = sm_column([names[i] for i in physics], values[physics]) or 0
            metadata[CUTFLOW_KEY] = {name: apply_cuts([], weights[process == i, sm], first="read")[1]
                                     for i, name in enumerate(process_names)}
        if reference:
            metadata["madminer_reference_benchmark"] = reference[0]
        if factors is not None:
            metadata["madminer_sample_factors"] = {names[i]: float(factors[i]) for i in np.unique(sampling[sampling >= 0])}
        dropped = [names[i] for i in np.flatnonzero(nuisance) if i not in set(variations.tolist())]
        if dropped:
            metadata["dropped_nuisance_benchmarks"] = dropped
        try:
            return EventSample(
                parameters=parameters,
                benchmark_names=[names[i] for i in columns],
                benchmark_theta=values[columns],
                nuisance_names=nuisance_names,
                nuisance_benchmarks=pairs,
                momenta=momenta,
                types=types,
                weights=weights,
                globals_=globals_,
                global_names=layout.global_names,
                observables=observables,
                process=process,
                process_names=process_names,
                sampled_from=sampled_from,
                morphing_components=components,
                morphing_basis=basis,
                units=info.get("units", ""),
                metadata=metadata,
            )
        except EventFileError as err:
            raise EventFileError(str(err).replace("<memory>", str(self.path), 1)) from None

    def _nuisance_table(self, names: list[str], nuisance: np.ndarray, n_physics: int):
        """Nuisance names, the file indices of the benchmarks their variations use (in the order they are appended
        after the physics benchmarks) and the (up, down) indices into the imported benchmarks."""
        table = self.strings("nuisance_parameters/names", required=False)
        if not table:
            return [], np.zeros(0, dtype=np.int64), None
        sides = [self.strings(f"nuisance_parameters/benchmark_{side}") for side in ("positive", "negative")]
        variations, pairs = [], []
        for k, name in enumerate(table):
            pair = []
            for side, column in zip(("positive", "negative"), sides):
                if len(column) != len(table):
                    self.fail(f"nuisance_parameters/benchmark_{side}", f"{len(column)} entries for {len(table)} names")
                benchmark = column[k]
                if benchmark in ("None", ""):
                    pair.append(-1)
                    continue
                if benchmark not in names:
                    self.fail(f"nuisance_parameters/benchmark_{side}", f"nuisance {name!r}: no benchmark {benchmark!r}")
                index = names.index(benchmark)
                if index in variations:
                    self.fail(f"nuisance_parameters/benchmark_{side}", f"benchmark {benchmark!r} is used twice")
                if not nuisance[index]:
                    self.fail("benchmarks/is_nuisance", f"benchmark {benchmark!r} of nuisance {name!r} is not flagged")
                variations.append(index)
                pair.append(n_physics + len(variations) - 1)
            if pair[0] < 0:
                self.fail("nuisance_parameters/benchmark_positive", f"nuisance {name!r} has no positive variation")
            pairs.append(pair)
        return table, np.array(variations, dtype=np.int64), np.array(pairs, dtype=np.int32)

    def _flags(self, name: str, b: int) -> np.ndarray:
        node = self.read(name, "biuf", 1, required=False)
        if node is None:
            return np.zeros(b, dtype=bool)
        if node.shape != (b,):
            self.fail(name, f"shape {node.shape}, expected ({b},)")
        return self.data(node).astype(bool)

    def _morphing(self, theta: np.ndarray, d: int, b: int, n_nuisance: int):
        comp_node = self.read("morphing/components", "iuf", 2, required=False)
        matrix_node = self.read("morphing/morphing_matrix", "f", 2, required=comp_node is not None)
        if comp_node is None:
            return None, None
        components = self.data(comp_node)
        if components.shape[1:] != (d,) or not np.array_equal(components, np.round(components)):
            self.fail("morphing/components", f"shape {components.shape} or non-integer powers, expected (C, {d}) integers")
        components = components.astype(np.int32)
        c = len(components)
        matrix = self.data(matrix_node)
        if matrix.shape[0] != c or matrix.shape[1] > b + n_nuisance:
            self.fail("morphing/morphing_matrix", f"shape {matrix.shape}, expected ({c}, B) with B ≤ {b} benchmarks")
        matrix = self.finite("morphing/morphing_matrix", matrix[:, :b])
        basis = np.flatnonzero(np.abs(matrix).max(axis=0) > 0).astype(np.int32)
        if len(basis) != c:
            self.fail(
                "morphing/morphing_matrix",
                f"{len(basis)} benchmarks carry morphing weight, lfi needs one basis of {c} (MadMiner n_bases > 1 is not supported)",
            )
        try:
            expected = morphing_matrix(components, theta[basis], basis, b)
        except (ValueError, np.linalg.LinAlgError) as err:  # a singular basis
            self.fail("benchmarks/values", f"the morphing basis benchmarks cannot morph ({first_line(err)})")
        scale = np.abs(expected).max()
        if not np.allclose(matrix, expected, rtol=1e-6, atol=1e-9 * scale):
            self.fail("morphing/morphing_matrix", "does not match the components and benchmark values (w_b = Σ_c M[c,b] Π θ^comp)")
        return components, basis

    def _info(self) -> dict:
        node = self.read("lfi/info", "SO", None, required=False)
        if node is None:
            return {}
        try:
            raw = self.data(node)
            info = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        except (ValueError, TypeError):
            self.fail("lfi/info", "not valid JSON")
        expected = {
            "units": (str, "text"),
            "process_names": (list, "a list of names"),
            "morphing_basis": (list, "a list of benchmark indices"),
            "metadata": (dict, "an object"),
        }
        if not isinstance(info, dict):
            self.fail("lfi/info", f"a JSON {type(info).__name__}, expected an object")
        for key, (kind, what) in expected.items():
            value = info.get(key)
            if value is not None and not isinstance(value, kind):
                self.fail("lfi/info", f"{key} is a JSON {type(value).__name__}, expected {what}")
        if not all(isinstance(v, str) for v in info.get("process_names") or []):
            self.fail("lfi/info", "process_names must be names")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in info.get("morphing_basis") or []):
            self.fail("lfi/info", "morphing_basis must be benchmark indices")
        return info

    def _per_event(self, name: str, n: int) -> np.ndarray | None:
        """An lfi per-event dataset of shape (n,) written by :func:`write_madminer`, if present."""
        node = self.read(name, "iu", 1, required=False)
        if node is None:
            return None
        if node.shape != (n,):
            self.fail(name, f"shape {node.shape}, expected ({n},)")
        values = self.data(node)
        if n and (values.min() < np.iinfo(np.int16).min or values.max() > np.iinfo(np.int16).max):
            self.fail(name, "values outside the range of int16")
        return values.astype(np.int16)

    def _sample_factors(self, sampling: np.ndarray, b: int) -> np.ndarray | None:
        """MadMiner's factors N_b / N_signal per sampling benchmark (last entry: background, 1), or None if all 1."""
        counts = np.bincount(sampling[sampling >= 0], minlength=b)
        summary = self.read("sample_summary/signal_events", "iuf", 1, required=False)
        events = counts
        if summary is not None and summary.shape == (b,):
            declared = self.data(summary).astype(np.float64)
            if np.isfinite(declared).all() and (declared >= 0).all() and (declared[counts > 0] > 0).all():
                events = declared
        if (counts > 0).sum() <= 1 and np.array_equal(events > 0, counts > 0):
            return None
        factors = np.ones(b + 1)
        factors[:b] = events / events.sum()
        return factors

    @staticmethod
    def _default_process(sampled_from: np.ndarray) -> tuple[list[str], np.ndarray]:
        """MadMiner's signal (sampled at a benchmark) and background (−1) events as two processes."""
        background = sampled_from < 0
        if background.any() and not background.all():
            return ["signal", "background"], background.astype(np.int16)
        return (["background"] if background.any() else ["signal"]), np.zeros(len(sampled_from), dtype=np.int16)

    def _parameters(self, names: list[str]) -> dict:
        out: dict[str, Any] = {"names": names}
        for key in ("lha_blocks", "transforms"):
            values = self.strings(f"parameters/{key}", required=False)
            if values is not None:
                out[key] = values
        for key in ("lha_ids", "max_power", "val_ranges"):
            node = self.read(f"parameters/{key}", "iuf", None, required=False)
            if node is not None:
                out[key] = np.asarray(self.data(node)).tolist()
        return out


def _lfi_role(definition: str) -> str:
    """The ``lfi:…`` text of a definition written by :func:`write_madminer`, else ``""``."""
    if not definition.startswith(("'lfi:", '"lfi:')):
        return ""
    try:
        value = ast.literal_eval(definition)
    except (ValueError, SyntaxError):
        return ""
    return value if isinstance(value, str) else ""


class _Columns:
    """Sorts observable columns into lfi observables, globals and object slots."""

    def __init__(self, names: list[str], definitions: list[str]):
        self.names = names
        self.observables: list[tuple[int, str]] = []
        self.globals_: list[tuple[int, str]] = []
        self.objects: dict[tuple[int, str], int] = {}
        for j, (name, definition) in enumerate(zip(names, definitions)):
            role, _, rest = _lfi_role(definition).partition(" ")
            if role == "lfi:global":
                self.globals_.append((j, rest or name))
            elif role == "lfi:object" and len(rest.split()) == 2 and rest.split()[0].isdigit():
                slot, comp = rest.split()
                self.objects[(int(slot), comp)] = j
            else:
                self.observables.append((j, name))
        self.width = 1 + max((slot for slot, _ in self.objects), default=-1)
        self.has_objects = self.width > 0 and all(
            (slot, comp) in self.objects for slot in range(self.width) for comp in (*FOUR_MOMENTUM_NAMES, "type")
        )
        if self.width and not self.has_objects:  # incomplete object columns: keep them as observables
            self.observables += [(j, names[j]) for j in self.objects.values()]
            self.objects = {}

    @property
    def global_names(self) -> list[str]:
        return [name for _, name in self.globals_]

    def read(self, node, n: int, importer: _Importer):
        """Read the observations block by block into (observables, globals, momenta, types).

        Object columns must hold finite momenta (within float32) and type codes; ``importer`` names the
        column and event that do not.
        """
        width = self.width if self.has_objects else NO_OBJECT_SLOTS
        observables = {name: np.zeros(n, dtype=np.float32) for _, name in self.observables}
        globals_ = np.zeros((n, len(self.globals_)), dtype=np.float32)
        momenta = np.zeros((n, width, 4), dtype=np.float32)
        types = np.zeros((n, width), dtype=np.int8)
        for lo in range(0, n, BLOCK_EVENTS):
            hi = min(lo + BLOCK_EVENTS, n)
            block = importer.data(node, slice(lo, hi))
            for j, name in self.observables:
                observables[name][lo:hi] = block[:, j]
            for g, (j, _) in enumerate(self.globals_):
                globals_[lo:hi, g] = block[:, j]
            if self.has_objects:
                for (slot, comp), j in self.objects.items():
                    column = block[:, j].astype(np.float32 if comp != "type" else np.float64)
                    wrong = ~np.isfinite(column)
                    if comp == "type":
                        wrong |= (column != np.round(column)) | (column < 0) | (column >= len(OBJECT_TYPES))
                    if wrong.any():
                        what = "an object type code" if comp == "type" else "a finite float32 momentum"
                        importer.fail("samples/observations", f"column {self.names[j]!r} holds {block[np.argmax(wrong), j]} "
                                      f"in event {lo + int(np.argmax(wrong))}, expected {what}")
                    if comp == "type":
                        types[lo:hi, slot] = column
                    else:
                        momenta[lo:hi, slot, FOUR_MOMENTUM_NAMES.index(comp)] = column
        return observables, globals_, momenta, types
