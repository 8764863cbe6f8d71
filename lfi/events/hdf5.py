"""The ``lfi-events`` HDF5 format (version 1): writing, reading and summarising one file.

Every failure to read is one :class:`~lfi.errors.EventFileError` line naming the file and the HDF5 dataset.
The layout is described in ``docs/event-format.md`` §3; shapes use N events, P object slots, B benchmarks,
D parameters, C morphing components and G event-level globals.

=============================  ===================  ===============================================
path                           shape, dtype         meaning
=============================  ===================  ===============================================
/benchmarks/names, /theta      (B,) str, (B, D) f8  parameter points with stored weights
/morphing/components, /basis   (C, D) i4, (C,) i4   monomial exponents; benchmark indices of the basis
/events/momenta                (N, P, 4) f4         (E, px, py, pz) in GeV, zero-padded, pT-ordered
/events/types                  (N, P) i1            0 pad, 1 jet, 2 b-jet, 3 e-, 4 e+, 5 mu-, 6 mu+, 7 photon
/events/globals                (N, G) f4            event-level inputs, names in attribute ``names``
/events/observables/<name>     (N,) f4              high-level observables
/events/weights                (N, B) f8            weight in pb at every benchmark
/events/process                (N,) i2              index into /processes/names
/events/sampled_from           (N,) i2              generation benchmark, -1 if not applicable
/truth/events/<name>           (N, ...)             optional per-event truth (sliced with the events)
/truth/<name>                  any                  optional sample-level truth
=============================  ===================  ===============================================

This module knows the file, not the sample: :func:`write` takes any object with the fields of
:class:`lfi.events.EventSample`, and :func:`read_fields` returns the keyword arguments that rebuild one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from lfi.errors import EventFileError, first_line
from lfi.files import atomic_write
from lfi.reading import error_reason, is_read_error, reading

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "open_hdf5", "write", "read_fields", "read_info"]

FORMAT_NAME = "lfi-events"
FORMAT_VERSION = 1
_CHUNK_EVENTS = 4096
_INFO_BLOCK = 1 << 16  # events per block when summarising a file

def open_hdf5(path: str | os.PathLike):
    """Open an HDF5 file for reading; a missing or unreadable file is one :class:`EventFileError` line.

    Before returning, every object is opened once (a damaged object header or B-tree is an error naming the
    object) and the global heap collections that hold variable-length strings are checked (see
    :func:`_check_global_heaps`: the HDF5 library would loop forever on a damaged one).
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise EventFileError(f"{path}: " + ("not a file" if path.exists() else "no such file"))
    try:
        f = h5py.File(path, "r")
    except (OSError, RuntimeError, ValueError) as err:
        raise EventFileError(f"{path}: not a readable HDF5 file ({error_reason(err)}); truncated or corrupted?") from None
    try:
        _check_global_heaps(f, path)
    except BaseException:
        f.close()
        raise
    return f


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_SCAN_BLOCK = 1 << 24


def _check_global_heaps(f, path: Path) -> None:
    """Refuse a file with a damaged global heap collection before HDF5 reads a string from it.

    Variable-length strings (names, attributes) live in global heap collections. The HDF5 library (2.0.0,
    in h5py 3.16) loops forever loading a collection whose object list is damaged, e.g. by a zeroed object
    header: the free-space object then has size 0 and its parser never moves on. So every collection is
    walked here as the library walks it, and one whose objects do not tile it exactly is an error. Only the
    bytes outside the datasets' raw data are searched for collections (object headers, B-trees and heaps: a
    small part of a file), so this costs little next to reading the events.
    """
    with open(path, "rb") as raw:
        head = raw.read(16)
        if not head.startswith(_HDF5_SIGNATURE) or len(head) < 16:
            return  # a user block before the superblock: not written by lfi, not checked
        lengths = head[14] if head[8] in (0, 1) else head[10]
        if lengths != 8:
            return
        size = os.fstat(raw.fileno()).st_size
        extents = _raw_data_extents(f, path)
        start = 0
        for lo, hi in sorted(extents) + [(size, size)]:
            for block in range(start, min(lo, size), _SCAN_BLOCK):  # a gap between raw data: metadata
                raw.seek(block)
                data = raw.read(min(_SCAN_BLOCK + 3, lo - block))
                at = data.find(b"GCOL")
                while at >= 0:
                    _check_collection(raw, path, block + at, size)
                    at = data.find(b"GCOL", at + 1)
            start = max(start, hi)


def _raw_data_extents(f, path: Path) -> list[tuple[int, int]]:
    """(start, stop) byte ranges of every dataset's raw data; a damaged object is an error naming it."""
    import h5py

    extents: list[tuple[int, int]] = []
    seen = {hash(f.id)}
    where = "/"

    def walk(group) -> None:
        nonlocal where
        for name in group:  # h5py gives bytes for a name that is not UTF-8
            where = f"{_printable(group.name).rstrip('/')}/{_printable(name)}"
            node = group.get(name)  # None for a dangling soft link
            if node is None or hash(node.id) in seen:  # hard links may form cycles
                continue
            seen.add(hash(node.id))
            if isinstance(node, h5py.Group):
                walk(node)
            elif isinstance(node, h5py.Dataset):
                offset = node.id.get_offset()
                if offset is not None:
                    extents.append((offset, offset + node.id.get_storage_size()))
                elif node.chunks is not None:
                    node.id.chunk_iter(lambda chunk: extents.append((chunk.byte_offset, chunk.byte_offset + chunk.size)))
            where = _printable(group.name)

    try:
        walk(f)
    except Exception as err:
        if not is_read_error(err):
            raise
        raise EventFileError(f"{path}: object {where}: unreadable ({error_reason(err)}); truncated or corrupted file?") from err
    return extents


def _check_collection(raw, path: Path, at: int, file_size: int) -> None:
    """Walk the global heap collection at byte ``at`` as HDF5 does; raise unless its objects tile it exactly."""
    raw.seek(at)
    header = raw.read(16)
    if len(header) < 16 or header[4] != 1 or header[5:8] != b"\0\0\0":
        return  # the four letters, not a collection header
    size = int.from_bytes(header[8:16], "little")
    if size < 16 or at + size > file_size:
        raise EventFileError(
            f"{path}: global heap collection at byte {at} has size {size}, beyond the file; truncated or corrupted file?"
        )
    data = header + raw.read(size - 16)
    position = 16
    while position + 16 <= size:  # the library takes a tail too small for an object header as free space
        index = int.from_bytes(data[position : position + 2], "little")
        length = int.from_bytes(data[position + 8 : position + 16], "little")
        step = 16 + (length + 7) // 8 * 8 if index > 0 else length
        if step <= 0 or position + step > size:
            raise EventFileError(
                f"{path}: global heap collection at byte {at} is damaged (object at byte {at + position}); "
                "truncated or corrupted file?"
            )
        position += step


# ---------------------------------------------------------------------------------------------------- writing
def write(sample, path: str | os.PathLike, compression: str | None = None) -> Path:
    """Write ``sample`` (an :class:`lfi.events.EventSample`) to ``path`` atomically.

    Parameters
    ----------
    sample : EventSample
    path : path-like
        Destination ``.h5`` file; an existing file is replaced only once writing succeeded.
    compression : {None, "lzf", "gzip"}
        HDF5 filter for the per-event datasets.
    """
    import h5py

    path = Path(path)
    try:
        with atomic_write(path) as tmp, h5py.File(tmp, "w") as f:
            _write_groups(f, sample, compression)
    except OSError as err:  # no permission, no space left, a folder in the way
        raise EventFileError(f"{path}: cannot write the event file ({error_reason(err)})") from err
    return path


def _write_groups(f, sample, compression: str | None) -> None:
    import h5py

    text = h5py.string_dtype("utf-8")
    f.attrs["format"] = FORMAT_NAME
    f.attrs["version"] = FORMAT_VERSION
    f.attrs["metadata"] = json.dumps(sample.metadata)
    n = len(sample)

    def put(name: str, data: np.ndarray, per_event: bool = True) -> None:
        data = np.asarray(data)
        kwargs = {}
        if per_event and data.ndim >= 1 and data.size > 0:
            kwargs["chunks"] = (min(n, _CHUNK_EVENTS),) + data.shape[1:]
            kwargs["compression"] = compression
        f.create_dataset(name, data=data, **kwargs)

    bench = f.create_group("benchmarks")
    bench.create_dataset("names", data=np.array(sample.benchmark_names, dtype=object), dtype=text)
    bench.create_dataset("theta", data=sample.benchmark_theta)
    bench.attrs.create("parameters", data=sample.parameters, shape=(len(sample.parameters),), dtype=text)
    bench.attrs["units"] = sample.units
    if sample.can_morph:
        f.create_dataset("morphing/components", data=sample.morphing_components)
        f.create_dataset("morphing/basis", data=sample.morphing_basis)
    f.create_dataset("processes/names", data=np.array(sample.process_names, dtype=object), dtype=text)
    put("events/momenta", sample.momenta)
    put("events/types", sample.types)
    put("events/globals", sample.globals_)
    f["events/globals"].attrs.create("names", data=sample.global_names, shape=(len(sample.global_names),), dtype=text)
    f.require_group("events/observables")
    for name, values in sample.observables.items():
        put(f"events/observables/{name}", values)
    put("events/weights", sample.weights)
    put("events/process", sample.process)
    put("events/sampled_from", sample.sampled_from)
    if sample.truth_events or sample.truth:
        f.require_group("truth/events")
        for name, values in sample.truth_events.items():
            put(f"truth/events/{name}", values)
        for name, values in sample.truth.items():
            put(f"truth/{name}", values, per_event=False)


# ---------------------------------------------------------------------------------------------------- reading
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


def _printable(name: str | bytes) -> str:
    return name.decode("utf-8", "backslashreplace") if isinstance(name, bytes) else name


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
                    f"{self.path}: group /{name}: member name {_printable(member)!r} is not UTF-8; corrupted file?"
                )
        return names

    def slice_of(self, node, selection, dtype=None):
        self.where = f"dataset {_printable(node.name)}"
        data = node[selection]
        if dtype is not None:
            cast = _cast(np.asarray(data), dtype)
            if cast is None:
                self.fail(_printable(node.name), f"values outside the range of {np.dtype(dtype)}")
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
        if version != FORMAT_VERSION:
            raise EventFileError(f"{self.path}: format version {version} is not supported (this lfi reads version {FORMAT_VERSION})")
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

    def fields(self, f) -> dict[str, Any]:
        self.f = f
        self.check_format()
        parameters, names, theta = self._benchmarks()
        weights = self.slice_of(self._weights(len(names)), self.events, np.float64)
        components, basis = self._morphing(len(parameters), len(names))
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
        for start in range(0, n, _INFO_BLOCK):
            block = slice(start, start + _INFO_BLOCK)
            w, proc = self.slice_of(weights_node, block, np.float64), self.slice_of(process_node, block)
            bad = np.argwhere(~np.isfinite(w))
            if len(bad):
                self.fail("/events/weights", f"non-finite weight {w[tuple(bad[0])]} in event {start + bad[0][0]}")
            if len(proc) and (proc.min() < 0 or proc.max() >= len(processes)):
                self.fail("/events/process", f"process ids must index /processes/names ({len(processes)} names)")
            np.add.at(by_process, proc.astype(np.intp), w)
            negative += int((w < 0).sum())
        components, basis = self._morphing(len(parameters), len(names))
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
            "metadata": self.metadata(),
        }
