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

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "open_hdf5", "write", "read_fields", "read_info"]

FORMAT_NAME = "lfi-events"
FORMAT_VERSION = 1
_CHUNK_EVENTS = 4096
_INFO_BLOCK = 1 << 16  # events per block when summarising a file


def open_hdf5(path: str | os.PathLike):
    """Open an HDF5 file for reading; a missing or unreadable file is one :class:`EventFileError` line."""
    import h5py

    path = Path(path)
    if not path.is_file():
        raise EventFileError(f"{path}: no such file")
    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise EventFileError(f"{path}: not a readable HDF5 file ({first_line(err)}); truncated or corrupted?") from None


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
    with atomic_write(path) as tmp, h5py.File(tmp, "w") as f:
        _write_groups(f, sample, compression)
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

    Raises
    ------
    EventFileError
        One line naming the file and the dataset: missing file or dataset, wrong dtype, another format or
        version, unreadable (truncated) data.
    """
    path = Path(path)
    with open_hdf5(path) as f:
        return _Reader(f, path, events).fields()


def read_info(path: str | os.PathLike) -> dict[str, Any]:
    """Summary of a file, reading only the weights and process ids, block by block (memory independent of N).

    Returns
    -------
    dict
        file, events, object_slots, parameters, units, benchmarks (name → θ), cross_section_pb (per benchmark),
        cross_section_pb_by_process, negative_weight_fraction, morphing_components, morphing_basis (benchmark
        names), observables, globals, truth (dataset names) and metadata.
    """
    path = Path(path)
    with open_hdf5(path) as f:
        reader = _Reader(f, path, None)
        reader.check_format()
        names = reader.strings("benchmarks/names")
        theta = reader.read("benchmarks/theta", "f", per_event=False)
        processes = reader.strings("processes/names")
        weights_node = reader.node("events/weights", "f")
        process_node = reader.node("events/process", "iu")
        momenta_node = reader.node("events/momenta", "f")
        n = len(weights_node)
        if weights_node.ndim != 2 or weights_node.shape[1] != len(names) or process_node.shape != (n,):
            reader.fail("/events/weights", f"shape {weights_node.shape} does not fit {len(names)} benchmarks")
        by_process = np.zeros((len(processes), len(names)))
        negative = 0
        for start in range(0, n, _INFO_BLOCK):
            block = slice(start, start + _INFO_BLOCK)
            w, proc = reader.slice_of(weights_node, block), reader.slice_of(process_node, block)
            if len(proc) and (proc.min() < 0 or proc.max() >= len(processes)):
                reader.fail("/events/process", f"process ids must index /processes/names ({len(processes)} names)")
            np.add.at(by_process, proc.astype(np.intp), w)
            negative += int((w < 0).sum())
        components = reader.read("morphing/components", "iu", per_event=False, required=False)
        basis = reader.read("morphing/basis", "iu", per_event=False, required=components is not None)
        truth = []
        if "truth" in f:
            truth = sorted(f["truth/events"]) if "truth/events" in f else []
            truth += sorted(k for k in f["truth"] if k != "events")
        return {
            "file": str(path),
            "events": n,
            "object_slots": int(momenta_node.shape[1]) if momenta_node.ndim == 3 else 0,
            "parameters": [str(p) for p in f["benchmarks"].attrs.get("parameters", [])],
            "units": str(f["benchmarks"].attrs.get("units", "")),
            "benchmarks": {name: t.tolist() for name, t in zip(names, theta)},
            "cross_section_pb": dict(zip(names, by_process.sum(axis=0).tolist())),
            "cross_section_pb_by_process": {name: row.tolist() for name, row in zip(processes, by_process)},
            "negative_weight_fraction": negative / weights_node.size if weights_node.size else 0.0,
            "morphing_components": None if components is None else components.tolist(),
            "morphing_basis": None if components is None else [names[i] for i in basis],
            "observables": sorted(f["events/observables"]) if "events/observables" in f else [],
            "globals": [_text(x) for x in f["events/globals"].attrs.get("names", [])] if "events/globals" in f else [],
            "truth": truth,
            "metadata": reader.metadata(),
        }


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class _Reader:
    """Reads one open HDF5 file, turning every failure into an EventFileError that names the dataset."""

    def __init__(self, f, path: Path, events: slice | None):
        self.f, self.path, self.events = f, path, events if events is not None else slice(None)

    def fail(self, dataset: str, why: str) -> None:
        raise EventFileError(f"{self.path}: dataset {dataset}: {why}")

    def node(self, name: str, dtype_kind: str | None = None):
        if name not in self.f:
            self.fail("/" + name, "missing")
        node = self.f[name]
        if not hasattr(node, "dtype"):
            self.fail("/" + name, "is a group, expected a dataset")
        if dtype_kind is not None and node.dtype.kind not in dtype_kind:
            self.fail("/" + name, f"dtype {node.dtype}, expected kind {dtype_kind!r}")
        return node

    def slice_of(self, node, selection):
        try:
            return node[selection]
        except (OSError, ValueError, KeyError) as err:
            self.fail(node.name, f"unreadable ({first_line(err)}); truncated or corrupted file?")

    def read(self, name: str, dtype_kind: str | None = None, per_event: bool = True, required: bool = True):
        if name not in self.f and not required:
            return None
        return self.slice_of(self.node(name, dtype_kind), self.events if per_event else ())

    def strings(self, name: str) -> list[str]:
        return [_text(x) for x in self.read(name, "SOU", per_event=False)]

    def metadata(self) -> dict:
        try:
            return json.loads(self.f.attrs.get("metadata", "{}"))
        except json.JSONDecodeError as err:
            raise EventFileError(f"{self.path}: attribute /metadata is not JSON ({first_line(err)})") from None

    def check_format(self) -> None:
        fmt = _text(self.f.attrs.get("format"))
        if fmt != FORMAT_NAME:
            raise EventFileError(f"{self.path}: attribute /format is {fmt!r}, expected {FORMAT_NAME!r}: not an lfi event file")
        version = int(self.f.attrs.get("version", -1))
        if version != FORMAT_VERSION:
            raise EventFileError(f"{self.path}: format version {version} is not supported (this lfi reads version {FORMAT_VERSION})")
        if "benchmarks" not in self.f:
            self.fail("/benchmarks", "missing")

    def fields(self) -> dict[str, Any]:
        f = self.f
        self.check_format()
        bench = f["benchmarks"]
        components = self.read("morphing/components", "iu", per_event=False, required=False)
        observables = {}
        if "events/observables" in f:
            for name in f["events/observables"]:
                observables[name] = self.read(f"events/observables/{name}", "f")
        truth_events, truth = {}, {}
        if "truth" in f:
            for name in f["truth"]:
                if name == "events":
                    for ev_name in f["truth/events"]:
                        truth_events[ev_name] = self.read(f"truth/events/{ev_name}")
                else:
                    truth[name] = self.read(f"truth/{name}", per_event=False)
        globals_ = self.read("events/globals", "f")
        return dict(
            parameters=[str(p) for p in bench.attrs.get("parameters", [])],
            benchmark_names=self.strings("benchmarks/names"),
            benchmark_theta=self.read("benchmarks/theta", "f", per_event=False),
            morphing_components=components,
            morphing_basis=self.read("morphing/basis", "iu", per_event=False, required=components is not None),
            momenta=self.read("events/momenta", "f"),
            types=self.read("events/types", "iu"),
            weights=self.read("events/weights", "f"),
            globals_=globals_,
            global_names=[_text(n) for n in f["events/globals"].attrs.get("names", [])],
            observables=observables,
            process=self.read("events/process", "iu"),
            process_names=self.strings("processes/names"),
            sampled_from=self.read("events/sampled_from", "iu"),
            truth_events=truth_events,
            truth=truth,
            units=str(bench.attrs.get("units", "")),
            metadata=self.metadata(),
        )
