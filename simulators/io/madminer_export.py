"""EventSample → MadMiner v0.9 HDF5 (the layout, and how weights and objects map: :mod:`simulators.io.madminer_layout`)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from lfi.errors import EventFileError, first_line
from lfi.files import atomic_write
from simulators.io.madminer_layout import BLOCK_EVENTS, FOUR_MOMENTUM_NAMES, morphing_matrix

__all__ = ["write_madminer"]

log = logging.getLogger("lfi")


def write_madminer(sample, path: str | os.PathLike, *, objects: bool = True) -> Path:
    """Write an EventSample in the MadMiner v0.9 layout, atomically.

    Parameters
    ----------
    sample : EventSample
    path : path-like
        Destination; replaced only once the file is complete.
    objects : bool
        Also write the object list (four-momenta in GeV and type codes) as observable columns
        ``o1_E, o1_px, …, o1_type, o2_E, …`` so it survives a round trip.

    Returns
    -------
    Path

    Raises
    ------
    EventFileError
        A name MadMiner cannot store (not ASCII, longer than 256 characters), or the file cannot be
        written (no permission, no space left); nothing is left at ``path`` then.
    """
    import h5py

    path = Path(path)
    columns = _export_columns(sample, objects)
    for text in [*sample.parameters, *sample.benchmark_names, *(c[0] for c in columns), *(c[1] for c in columns)]:
        _check_ascii(text, path)
    try:
        with atomic_write(path) as tmp, h5py.File(tmp, "w") as f:
            _write_settings(f, sample)
            _write_samples(f, sample, columns, path)
    except OSError as err:  # no permission, no space left, a folder in the way
        raise EventFileError(f"{path}: cannot write the MadMiner file ({first_line(err)})") from err
    return path


def _check_ascii(text: str, path: Path) -> None:
    if not text.isascii() or len(text) > 256:
        raise EventFileError(f"{path}: MadMiner stores names as ASCII of at most 256 characters; cannot store {text!r}")


def _export_columns(sample, objects: bool) -> list[tuple[str, str, Any]]:
    """(name, definition, getter(block slice) -> (n,) array) for every observable column."""
    columns: list[tuple[str, str, Any]] = []
    for name in sample.observables:
        columns.append((name, repr("lfi:observable"), lambda s, v=sample.observables[name]: v[s]))
    taken = set(sample.observables)
    for g, name in enumerate(sample.global_names):
        column = name if name not in taken else f"global_{name}"
        taken.add(column)
        columns.append((column, repr(f"lfi:global {name}"), lambda s, g=g: sample.globals_[s, g]))
    if objects and sample.metadata.get("objects", True):
        for i in range(sample.momenta.shape[1]):
            for k, comp in enumerate(FOUR_MOMENTUM_NAMES):
                columns.append((f"o{i + 1}_{comp}", repr(f"lfi:object {i} {comp}"), lambda s, i=i, k=k: sample.momenta[s, i, k]))
            columns.append((f"o{i + 1}_type", repr(f"lfi:object {i} type"), lambda s, i=i: sample.types[s, i]))
    return columns


def _strings(values: list[str]) -> np.ndarray:
    return np.array([v.encode("ascii") for v in values], dtype="S256")


def _write_settings(f, sample) -> None:
    d, b = sample.n_parameters, sample.n_benchmarks
    theta = sample.benchmark_theta
    stored = sample.metadata.get("madminer_parameters") or {}
    if stored.get("names") != sample.parameters:
        stored = {}
    max_power = (
        sample.morphing_components.max(axis=0) if sample.can_morph else np.full(d, 2)
    ).astype(np.int64)
    ranges = np.stack([theta.min(axis=0), theta.max(axis=0)], axis=1) if b else np.zeros((d, 2))
    f.create_dataset("parameters/names", data=_strings(sample.parameters))
    f.create_dataset("parameters/lha_blocks", data=_strings(stored.get("lha_blocks", ["lfi"] * d)))
    f.create_dataset("parameters/lha_ids", data=np.asarray(stored.get("lha_ids", np.arange(1, d + 1)), dtype=np.int64))
    f.create_dataset("parameters/max_power", data=np.asarray(stored.get("max_power", max_power), dtype=np.int64))
    f.create_dataset("parameters/val_ranges", data=np.asarray(stored.get("val_ranges", ranges), dtype=np.float64).reshape(d, 2))
    f.create_dataset("parameters/transforms", data=_strings(stored.get("transforms", ["None"] * d)))
    reference = sample.metadata.get("madminer_reference_benchmark") or _nominal_benchmark(sample)
    f.create_dataset("benchmarks/names", data=_strings(sample.benchmark_names))
    f.create_dataset("benchmarks/values", data=theta.astype(np.float64))
    f.create_dataset("benchmarks/is_nuisance", data=sample.is_nuisance_benchmark.astype(np.int64))
    f.create_dataset("benchmarks/is_reference", data=np.array([n == reference for n in sample.benchmark_names], dtype=np.int64))
    if sample.can_morph:
        basis = sample.morphing_basis
        matrix = morphing_matrix(sample.morphing_components, theta[basis], basis, b)
        f.create_dataset("morphing/components", data=sample.morphing_components.astype(np.int64))
        f.create_dataset("morphing/morphing_matrix", data=matrix)
    if sample.nuisance_names:
        names = sample.benchmark_names
        f.create_dataset("nuisance_parameters/names", data=_strings(sample.nuisance_names))
        f.create_dataset("nuisance_parameters/systematics", data=_strings(sample.nuisance_names))
        for key, column in (("benchmark_positive", 0), ("benchmark_negative", 1)):
            f.create_dataset(f"nuisance_parameters/{key}", data=_strings(
                [names[i] if i >= 0 else "None" for i in sample.nuisance_benchmarks[:, column]]))
    info = {
        "writer": "lfi",
        "units": sample.units,
        "process_names": sample.process_names,
        "morphing_basis": sample.morphing_basis.tolist() if sample.can_morph else None,
        "metadata": sample.metadata,
    }
    f.create_dataset("lfi/info", data=np.bytes_(json.dumps(info)))
    f.create_dataset("lfi/process", data=sample.process, chunks=True if len(sample) else None)
    f.create_dataset("lfi/sampled_from", data=sample.sampled_from, chunks=True if len(sample) else None)


def _nominal_benchmark(sample) -> str | None:
    """The physics benchmark at the θ of the nuisance variations: MadMiner's reference for its nuisance ratios."""
    if not sample.nuisance_names:
        return None
    at = np.all(sample.benchmark_theta == sample.benchmark_theta[sample.nuisance_benchmarks[0, 0]], axis=1)
    physics = np.flatnonzero(at & ~sample.is_nuisance_benchmark)
    return sample.benchmark_names[physics[0]] if len(physics) else None


def _write_samples(f, sample, columns, path: Path) -> None:
    n, o = len(sample), len(columns)
    f.create_dataset("observables/names", data=_strings([c[0] for c in columns]))
    f.create_dataset("observables/definitions", data=_strings([c[1] for c in columns]))
    chunks = (min(max(n, 1), 4096), max(o, 1)) if n and o else None
    observations = f.create_dataset("samples/observations", shape=(n, o), dtype=np.float64, chunks=chunks)
    for lo in range(0, n, BLOCK_EVENTS):
        block = slice(lo, min(lo + BLOCK_EVENTS, n))
        if o:
            observations[block] = np.stack([np.asarray(get(block), dtype=np.float64) for _, _, get in columns], axis=1)
    sampled = sample.sampled_from.astype(np.int64)
    counts = np.bincount(sampled[sampled >= 0], minlength=sample.n_benchmarks)
    weights = sample.weights.astype(np.float64)
    if (counts > 0).sum() > 1:
        if "madminer_sample_factors" in sample.metadata:
            # imported from MadMiner: undo the N_b / N_signal combination, back to per-sample weights
            factors = np.append(counts / counts.sum(), 1.0)
            weights = weights / factors[sampled][:, None]
        else:
            log.info(
                "%s: events come from several generation benchmarks; written as sampling benchmark -1 so that "
                "MadMiner uses every event with lfi's weights",
                path,
            )
            sampled = np.full_like(sampled, -1)
    f.create_dataset("samples/weights", data=weights)
    f.create_dataset("samples/sampling_benchmarks", data=sampled)
    f.create_dataset("sample_summary/signal_events", data=np.bincount(sampled[sampled >= 0], minlength=sample.n_benchmarks))
    f.create_dataset("sample_summary/background_events", data=np.int64((sampled < 0).sum()))

