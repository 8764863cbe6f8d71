"""Reading an lfi event file into an EventSample, turning every failure into one EventFileError line.

Used by :meth:`lfi.events.EventSample.load`; every message names the file and the HDF5 dataset.
"""

from __future__ import annotations

import json
from pathlib import Path

from lfi.events import FORMAT_NAME, FORMAT_VERSION, EventFileError, EventSample, _short

__all__ = ["read_sample"]


def read_sample(f, path: Path, events: slice | None = None) -> EventSample:
    """The EventSample stored in the open HDF5 file ``f`` (optionally only ``events``)."""
    return _Reader(f, path, events).sample()


class _Reader:
    """Reads one open HDF5 file into an EventSample, turning every failure into an EventFileError."""

    def __init__(self, f, path: Path, events: slice | None):
        self.f, self.path, self.events = f, path, events if events is not None else slice(None)

    def fail(self, dataset: str, why: str) -> None:
        raise EventFileError(f"{self.path}: dataset {dataset}: {why}")

    def read(self, name: str, dtype_kind: str | None = None, per_event: bool = True, required: bool = True):
        if name not in self.f:
            if required:
                self.fail("/" + name, "missing")
            return None
        node = self.f[name]
        if not hasattr(node, "dtype"):
            self.fail("/" + name, "is a group, expected a dataset")
        if dtype_kind is not None and node.dtype.kind not in dtype_kind:
            self.fail("/" + name, f"dtype {node.dtype}, expected kind {dtype_kind!r}")
        try:
            data = node[self.events] if per_event else node[()]
        except (OSError, ValueError, KeyError) as err:
            self.fail("/" + name, f"unreadable ({_short(err)}); truncated or corrupted file?")
        return data

    def strings(self, name: str) -> list[str]:
        raw = self.read(name, "SOU", per_event=False)
        return [x.decode() if isinstance(x, bytes) else str(x) for x in raw]

    def sample(self) -> EventSample:
        f = self.f
        fmt = f.attrs.get("format")
        fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
        if fmt != FORMAT_NAME:
            raise EventFileError(f"{self.path}: attribute /format is {fmt!r}, expected {FORMAT_NAME!r}: not an lfi event file")
        version = int(f.attrs.get("version", -1))
        if version != FORMAT_VERSION:
            raise EventFileError(f"{self.path}: format version {version} is not supported (this lfi reads version {FORMAT_VERSION})")
        bench = f["benchmarks"] if "benchmarks" in f else self.fail("/benchmarks", "missing")
        parameters = [str(p) for p in bench.attrs.get("parameters", [])]
        morph_components = self.read("morphing/components", "iu", per_event=False, required=False)
        morph_basis = self.read("morphing/basis", "iu", per_event=False, required=morph_components is not None)
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
        names = f["events/globals"].attrs.get("names", [])
        try:
            return EventSample(
                parameters=parameters,
                benchmark_names=self.strings("benchmarks/names"),
                benchmark_theta=self.read("benchmarks/theta", "f", per_event=False),
                morphing_components=morph_components,
                morphing_basis=morph_basis,
                momenta=self.read("events/momenta", "f"),
                types=self.read("events/types", "iu"),
                weights=self.read("events/weights", "f"),
                globals_=globals_,
                global_names=[n.decode() if isinstance(n, bytes) else str(n) for n in names],
                observables=observables,
                process=self.read("events/process", "iu"),
                process_names=self.strings("processes/names"),
                sampled_from=self.read("events/sampled_from", "iu"),
                truth_events=truth_events,
                truth=truth,
                units=str(bench.attrs.get("units", "")),
                metadata=json.loads(f.attrs.get("metadata", "{}")),
            )
        except EventFileError as err:
            raise EventFileError(str(err).replace("<memory>", str(self.path), 1)) from None
