"""Reading an ``lfi-events`` HDF5 file: the sample's fields, or a summary that reads only the weights.

Every failure is one :class:`~lfi.errors.EventFileError` line naming the file and the dataset; the arrays come
back in the sample's dtypes, so building the sample converts nothing and warns about nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from lfi.errors import EventFileError, first_line
from lfi.events.hdf5.layout import FORMAT_NAME, INFO_BLOCK, READABLE_VERSIONS
from lfi.events.hdf5.opening import open_hdf5, printable_name
from lfi.reading import reading

__all__ = ["read_fields", "read_info"]


def read_fields(path: str | os.PathLike, events: slice | None = None) -> dict[str, Any]:
    """The keyword arguments of :class:`lfi.events.EventSample` stored in ``path`` (optionally only ``events``).

    The arrays have the dtypes of the sample (an integer outside the range of its dtype is an error, a float
    beyond float32 becomes infinite), so building the sample converts nothing and warns about nothing.

    Raises
    ------
    EventFileError
        One line naming the file and the dataset: missing file or dataset, wrong dtype or shape, another
        format or version, unreadable (truncated or corrupted) data.
    """
    path = Path(path)
    reader = _Reader(path, events)
    with reading(path, reader.unreadable), open_hdf5(path) as f:
        return reader.fields(f)


def read_info(path: str | os.PathLike) -> dict[str, Any]:
    """Summary of a file, reading only the weights and process ids, block by block (memory independent of N).

    Returns
    -------
    dict
        file, events, object_slots, parameters, units, benchmarks (name → θ), cross_section_pb (per benchmark),
        cross_section_pb_by_process, negative_weight_fraction, morphing_components, morphing_basis (benchmark
        names), observables, globals, truth (dataset names) and metadata.

    Raises
    ------
    EventFileError
        As :func:`read_fields`, for the datasets it reads (and a non-finite weight).
    """
    path = Path(path)
    reader = _Reader(path, None)
    with reading(path, reader.unreadable), open_hdf5(path) as f:
        return reader.info(f)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _shown(value) -> str:
    """A short one-line repr of an attribute value."""
    value = value.item() if isinstance(value, np.generic) else value
    text = " ".join(repr(_text(value) if isinstance(value, bytes) else value).split())
    return text if len(text) <= 60 else text[:57] + "..."


def _cast(data: np.ndarray, dtype) -> np.ndarray | None:
    """``data`` as ``dtype`` (None if an integer does not fit; floats beyond the range become ±inf)."""
    dtype = np.dtype(dtype)
    if data.dtype == dtype:
        return data
    if dtype.kind in "iu" and data.size and data.dtype.kind in "iu":
        limits = np.iinfo(dtype)
        if data.min() < limits.min or data.max() > limits.max:
            return None
    return data.astype(dtype)


class _Reader:
    """Reads one open lfi event file, turning every failure into an EventFileError that names the dataset.

    ``where`` is the dataset or attribute being read, named when the HDF5 library fails inside it.
    """

    def __init__(self, path: Path, events: slice | None):
        self.path, self.events = path, events if events is not None else slice(None)
        self.f = None
        self.where = ""
        self.n = 0  # events in the file: rows of /events/weights
        self.version = 0

    def unreadable(self, reason: str) -> str:
        where = f"{self.where}: " if self.where else "HDF5 structure "
        return f"{where}unreadable ({reason}); truncated or corrupted file?"

    def fail(self, dataset: str, why: str) -> None:
        raise EventFileError(f"{self.path}: dataset {dataset}: {why}")

    # -------------------------------------------------------------- datasets and groups
    def _exists(self, name: str, what: str) -> bool:
        self.where = f"{what} /{name}"
        return name in self.f

    def node(self, name: str, dtype_kind: str | None = None, ndim: int | None = None):
        import h5py

        if not self._exists(name, "dataset"):
            self.fail("/" + name, "missing")
        node = self.f[name]
        if not isinstance(node, h5py.Dataset):
            self.fail("/" + name, f"is a {'group' if isinstance(node, h5py.Group) else type(node).__name__}, expected a dataset")
        if dtype_kind is not None and node.dtype.kind not in dtype_kind:
            self.fail("/" + name, f"dtype {node.dtype}, expected kind {dtype_kind!r}")
        if ndim is not None and node.ndim != ndim:
            self.fail("/" + name, f"shape {node.shape}, expected {ndim} dimension(s)")
        return node

    def group(self, name: str) -> list[str] | None:
        """Names in group ``name``, None if there is no such group."""
        import h5py

        if not self._exists(name, "group"):
            return None
        node = self.f[name]
        if not isinstance(node, h5py.Group):
            raise EventFileError(f"{self.path}: /{name} is a {type(node).__name__}, expected a group")
        names = list(node)
        for member in names:
            if not isinstance(member, str):  # h5py gives bytes for a name that is not UTF-8
                raise EventFileError(
                    f"{self.path}: group /{name}: member name {printable_name(member)!r} is not UTF-8; corrupted file?"
                )
        return names

    def slice_of(self, node, selection, dtype=None):
        self.where = f"dataset {printable_name(node.name)}"
        data = node[selection]
        if dtype is not None:
            cast = _cast(np.asarray(data), dtype)
            if cast is None:
                self.fail(printable_name(node.name), f"values outside the range of {np.dtype(dtype)}")
            data = cast
        return data

    def read(self, name: str, dtype_kind: str | None = None, ndim: int | None = None, dtype=None, required: bool = True):
        """A whole dataset (None if absent and not ``required``)."""
        if not required and not self._exists(name, "dataset"):
            return None
        return self.slice_of(self.node(name, dtype_kind, ndim), (), dtype)

    def per_event(self, name: str, dtype_kind: str | None = None, ndim: int | None = None, dtype=None):
        """The selected events of a per-event dataset (first dimension N, the rows of /events/weights)."""
        node = self.node(name, dtype_kind, ndim)
        if node.ndim == 0 or node.shape[0] != self.n:
            self.fail("/" + name, f"shape {node.shape}, expected {self.n} rows (the events of /events/weights)")
        return self.slice_of(node, self.events, dtype)

    def strings(self, name: str) -> list[str]:
        return [_text(x) for x in self.read(name, "SOU", ndim=1)]

    # -------------------------------------------------------------- attributes
    def attribute(self, owner: str, key: str, default):
        self.where = f"attribute /{key}" if not owner else f"attribute {key} of /{owner}"
        value = (self.f[owner] if owner else self.f).attrs.get(key, default)
        return value[()] if isinstance(value, np.ndarray) and value.ndim == 0 else value

    def attr_text(self, owner: str, key: str) -> str:
        value = self.attribute(owner, key, "")
        if not isinstance(value, (str, bytes)):
            raise EventFileError(f"{self.path}: {self.where} is {_shown(value)}, expected text")
        return _text(value)

    def attr_texts(self, owner: str, key: str) -> list[str]:
        value = self.attribute(owner, key, [])
        values = np.asarray(value, dtype=object) if not isinstance(value, (str, bytes)) else np.empty(())
        if values.ndim != 1 or not all(isinstance(v, (str, bytes)) for v in values):
            raise EventFileError(f"{self.path}: {self.where} is {_shown(value)}, expected a list of names")
        return [_text(v) for v in values]

    def metadata(self) -> dict:
        raw = self.attribute("", "metadata", "{}")
        try:
            value = json.loads(raw)  # bytes are decoded as UTF-8; anything else but text is a TypeError
        except (ValueError, TypeError) as err:
            raise EventFileError(f"{self.path}: attribute /metadata is not JSON ({first_line(err)})") from None
        if not isinstance(value, dict):
            raise EventFileError(f"{self.path}: attribute /metadata is a JSON {type(value).__name__}, expected an object")
        return value

    def check_format(self) -> None:
        fmt = self.attribute("", "format", None)
        if (_text(fmt) if isinstance(fmt, (str, bytes)) else None) != FORMAT_NAME:
            raise EventFileError(f"{self.path}: attribute /format is {_shown(fmt)}, expected {FORMAT_NAME!r}: not an lfi event file")
        version = self.attribute("", "version", -1)
        try:
            version = int(version)
        except (TypeError, ValueError, OverflowError):
            version = _shown(version)
        if version not in READABLE_VERSIONS:
            raise EventFileError(f"{self.path}: format version {version} is not supported (this lfi reads versions "
                                 f"{', '.join(map(str, READABLE_VERSIONS))})")
        self.version = version
        if not self._exists("benchmarks", "group"):
            self.fail("/benchmarks", "missing")

    # -------------------------------------------------------------- the parts every reader needs
    def _benchmarks(self) -> tuple[list[str], list[str], np.ndarray]:
        parameters = self.attr_texts("benchmarks", "parameters")
        names = self.strings("benchmarks/names")
        theta = self.read("benchmarks/theta", "f", ndim=2, dtype=np.float64)
        if theta.shape != (len(names), len(parameters)):
            self.fail("/benchmarks/theta", f"shape {theta.shape}, expected ({len(names)}, {len(parameters)}): "
                      "one row per benchmark name, one column per parameter")
        return parameters, names, theta

    def _weights(self, n_benchmarks: int):
        node = self.node("events/weights", "f", ndim=2)
        self.n = node.shape[0]
        if node.shape[1] != n_benchmarks:
            self.fail("/events/weights", f"shape {node.shape} does not fit {n_benchmarks} benchmarks")
        return node

    def _morphing(self, n_parameters: int, n_benchmarks: int) -> tuple[np.ndarray | None, np.ndarray | None]:
        components = self.read("morphing/components", "iu", ndim=2, dtype=np.int32, required=False)
        if components is None:
            return None, None
        if components.shape[0] == 0 or components.shape[1] != n_parameters:
            self.fail("/morphing/components", f"shape {components.shape}, expected (C, {n_parameters}) with C ≥ 1")
        basis = self.read("morphing/basis", "iu", ndim=1, dtype=np.int32)
        if basis.shape != (len(components),):
            self.fail("/morphing/basis", f"shape {basis.shape}, expected ({len(components)},)")
        if basis.min() < 0 or basis.max() >= n_benchmarks:
            self.fail("/morphing/basis", f"indices must lie in 0..{n_benchmarks - 1}")
        return components, basis

    def _nuisances(self, n_benchmarks: int) -> tuple[list[str], np.ndarray | None]:
        """Names and (up, down) benchmark indices of the nuisances (version 2; none in version 1)."""
        if self.version < 2 or self.group("nuisances") is None:
            return [], None
        names = self.strings("nuisances/names")
        pairs = self.read("nuisances/benchmarks", "iu", ndim=2, dtype=np.int32)
        if pairs.shape != (len(names), 2):
            self.fail("/nuisances/benchmarks", f"shape {pairs.shape}, expected ({len(names)}, 2)")
        if len(pairs) and (pairs[:, 0].min() < 0 or pairs.max() >= n_benchmarks or pairs[:, 1].min() < -1):
            self.fail("/nuisances/benchmarks", f"up indices must lie in 0..{n_benchmarks - 1}, down in -1..{n_benchmarks - 1}")
        return names, pairs

    def fields(self, f) -> dict[str, Any]:
        self.f = f
        self.check_format()
        parameters, names, theta = self._benchmarks()
        weights = self.slice_of(self._weights(len(names)), self.events, np.float64)
        components, basis = self._morphing(len(parameters), len(names))
        nuisance_names, nuisance_benchmarks = self._nuisances(len(names))
        observables = {
            name: self.per_event(f"events/observables/{name}", "f", ndim=1, dtype=np.float32)
            for name in self.group("events/observables") or []
        }
        truth_events, truth = {}, {}
        for name in self.group("truth") or []:
            if name == "events":
                for ev_name in self.group("truth/events") or []:
                    truth_events[ev_name] = self.per_event(f"truth/events/{ev_name}")
            else:
                truth[name] = self.read(f"truth/{name}")
        return dict(
            parameters=parameters,
            benchmark_names=names,
            benchmark_theta=theta,
            morphing_components=components,
            morphing_basis=basis,
            momenta=self.per_event("events/momenta", "f", ndim=3, dtype=np.float32),
            types=self.per_event("events/types", "iu", ndim=2, dtype=np.int8),
            weights=weights,
            globals_=self.per_event("events/globals", "f", ndim=2, dtype=np.float32),
            global_names=self.attr_texts("events/globals", "names"),
            observables=observables,
            process=self.per_event("events/process", "iu", ndim=1, dtype=np.int16),
            process_names=self.strings("processes/names"),
            sampled_from=self.per_event("events/sampled_from", "iu", ndim=1, dtype=np.int16),
            truth_events=truth_events,
            truth=truth,
            units=self.attr_text("benchmarks", "units"),
            metadata=self.metadata(),
            nuisance_names=nuisance_names,
            nuisance_benchmarks=nuisance_benchmarks,
        )

    def info(self, f) -> dict[str, Any]:
        self.f = f
        self.check_format()
        parameters, names, theta = self._benchmarks()
        processes = self.strings("processes/names")
        weights_node = self._weights(len(names))
        n = self.n
        process_node = self.node("events/process", "iu", ndim=1)
        if process_node.shape != (n,):
            self.fail("/events/process", f"shape {process_node.shape}, expected ({n},)")
        momenta_node = self.node("events/momenta", "f", ndim=3)
        if momenta_node.shape[0] != n:
            self.fail("/events/momenta", f"shape {momenta_node.shape}, expected ({n}, P, 4)")
        by_process = np.zeros((len(processes), len(names)))
        negative = 0
        for start in range(0, n, INFO_BLOCK):
            block = slice(start, start + INFO_BLOCK)
            w, proc = self.slice_of(weights_node, block, np.float64), self.slice_of(process_node, block)
            bad = np.argwhere(~np.isfinite(w))
            if len(bad):
                self.fail("/events/weights", f"non-finite weight {w[tuple(bad[0])]} in event {start + bad[0][0]}")
            if len(proc) and (proc.min() < 0 or proc.max() >= len(processes)):
                self.fail("/events/process", f"process ids must index /processes/names ({len(processes)} names)")
            np.add.at(by_process, proc.astype(np.intp), w)
            negative += int((w < 0).sum())
        components, basis = self._morphing(len(parameters), len(names))
        nuisance_names, pairs = self._nuisances(len(names))
        truth = []
        members = self.group("truth")
        if members is not None:
            truth = sorted(self.group("truth/events") or []) if "events" in members else []
            truth += sorted(k for k in members if k != "events")
        return {
            "file": str(self.path),
            "events": n,
            "object_slots": int(momenta_node.shape[1]),
            "parameters": parameters,
            "units": self.attr_text("benchmarks", "units"),
            "benchmarks": {name: t.tolist() for name, t in zip(names, theta)},
            "cross_section_pb": dict(zip(names, by_process.sum(axis=0).tolist())),
            "cross_section_pb_by_process": {name: row.tolist() for name, row in zip(processes, by_process)},
            "negative_weight_fraction": negative / weights_node.size if weights_node.size else 0.0,
            "morphing_components": None if components is None else components.tolist(),
            "morphing_basis": None if components is None else [names[i] for i in basis],
            "observables": sorted(self.group("events/observables") or []),
            "globals": self.attr_texts("events/globals", "names") if self._exists("events/globals", "dataset") else [],
            "truth": truth,
            "nuisances": {name: [names[up], names[down] if down >= 0 else None]
                          for name, (up, down) in zip(nuisance_names, [] if pairs is None else pairs.tolist())},
            "metadata": self.metadata(),
        }
