"""Writing an :class:`lfi.events.EventSample` as an ``lfi-events`` HDF5 file, atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from lfi.errors import EventFileError
from lfi.events.hdf5.layout import CHUNK_EVENTS, FORMAT_NAME, FORMAT_VERSION
from lfi.files import atomic_write
from lfi.reading import error_reason

__all__ = ["write"]


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
    f.attrs["version"] = FORMAT_VERSION if sample.nuisance_names else 1
    f.attrs["metadata"] = json.dumps(sample.metadata)
    n = len(sample)

    def put(name: str, data: np.ndarray, per_event: bool = True) -> None:
        data = np.asarray(data)
        kwargs = {}
        if per_event and data.ndim >= 1 and data.size > 0:
            kwargs["chunks"] = (min(n, CHUNK_EVENTS),) + data.shape[1:]
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
    if sample.nuisance_names:
        f.create_dataset("nuisances/names", data=np.array(sample.nuisance_names, dtype=object), dtype=text)
        f.create_dataset("nuisances/benchmarks", data=sample.nuisance_benchmarks)
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
