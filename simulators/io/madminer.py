"""MadMiner v0.9 HDF5 files ↔ EventSample.

The MadMiner layout (read from MadMiner's public ``madminer/utils/interfaces/hdf5.py``; summary in
PHYSICS §5) holds datasets only, strings as fixed-length ``S256`` ASCII:

=====================================  ==================  =============================================
dataset                                shape               meaning
=====================================  ==================  =============================================
parameters/names, lha_blocks,          (D,)                parameter names and MadGraph card entries
  lha_ids, max_power, transforms
parameters/val_ranges                  (D, 2)              parameter ranges
benchmarks/names, values               (B,), (B, D)        parameter points
benchmarks/is_nuisance, is_reference   (B,) int            optional flags
morphing/components                    (C, D) int          monomial exponents
morphing/morphing_matrix               (C, B') float       w_b(θ) = Σ_c M[c,b] Π_p θ_p^{comp[c,p]}, B' ≤ B
observables/names, definitions         (O,)                observable names and expressions
samples/observations                   (N, O) f8           observables per event
samples/weights                        (N, B) f8           weight in pb at every benchmark
samples/sampling_benchmarks            (N,) int            generation benchmark, −1 = background
sample_summary/signal_events           (B,) int            events generated at each benchmark
sample_summary/background_events       () int              background events
=====================================  ==================  =============================================

MadMiner keeps observables, not object lists. The export therefore writes lfi's observables, its
globals and (by default) the object four-momenta and types as extra observable columns whose
definitions are Python string literals starting with ``lfi:`` (``'lfi:object 0 px'`` …; MadMiner
evaluates every definition, and a literal evaluates harmlessly); the import turns such columns back into
objects, so lfi → MadMiner → lfi loses nothing. A MadMiner file without them imports with
``NO_OBJECT_SLOTS`` empty object slots and metadata ``{"objects": false}``: histogram and MLP
estimators use its observables; estimators that need object lists refuse it. lfi's units, process
ids and names, and metadata travel in an extra group ``/lfi`` that MadMiner ignores (process ids are
truth, not observables, so they stay out of ``samples/observations``).

Weights: lfi's weights sum to the cross section over the whole sample, whatever benchmark each
event was generated at (``sampled_from``). MadMiner normalises each sample generated at benchmark b
on its own and combines the samples with factors N_b / N_signal (``sample_summary``; background,
−1, with factor 1), or uses only the sample closest to θ. Hence:

- export: a sample generated at one benchmark keeps its ids and weights (factor 1 either way); a
  sample imported from MadMiner gets its per-sample weights back (divided by N_b / N_signal); any
  other sample mixing several generation benchmarks is written with every event as −1, so MadMiner
  uses all events with exactly lfi's weights in every mode (the ids are kept in ``/lfi/sampled_from``);
- import: MadMiner's weights are multiplied by N_b / N_signal, which is what MadMiner itself does
  when it uses all events.

Per-event and sample-level truth (``/truth``) is not exported.

The morphing matrix relates to lfi's :class:`lfi.morphing.Morpher` as M[:, basis] = A⁻¹ with
A_bc = Π_p θ_{b,p}^{comp[c,p]} over the basis benchmarks, and M[:, b] = 0 for the others.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["write_madminer", "morphing_matrix"]  # the reader: simulators.io.madminer_import

log = logging.getLogger("lfi")

_FOUR = ("E", "px", "py", "pz")
_BLOCK = 65536  # events per read/write block


def morphing_matrix(components: np.ndarray, basis_theta: np.ndarray, basis: np.ndarray, n_benchmarks: int) -> np.ndarray:
    """MadMiner's morphing matrix for lfi's morphing setup.

    Parameters
    ----------
    components : ndarray, shape (C, D), int
    basis_theta : ndarray, shape (C, D)
        Parameter values of the basis benchmarks.
    basis : ndarray, shape (C,), int
        Indices of the basis benchmarks among all B benchmarks.
    n_benchmarks : int
        B.

    Returns
    -------
    ndarray, shape (C, B)
        M with w_b(θ) = Σ_c M[c, b] α_c(θ); columns of non-basis benchmarks are zero.
    """
    from lfi.morphing import Morpher

    monomials = Morpher(components, basis_theta).monomials(basis_theta)  # A_bc, (C basis, C components)
    matrix = np.zeros((len(components), n_benchmarks))
    matrix[:, basis] = np.linalg.inv(monomials)
    return matrix


# ---------------------------------------------------------------------------------------------- export
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
    """
    import h5py

    path = Path(path)
    columns = _export_columns(sample, objects)
    for text in [*sample.parameters, *sample.benchmark_names, *(c[0] for c in columns), *(c[1] for c in columns)]:
        _check_ascii(text, path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            _write_settings(f, sample)
            _write_samples(f, sample, columns, path)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_ascii(text: str, path: Path) -> None:
    if not text.isascii() or len(text) > 256:
        raise ValueError(f"{path}: MadMiner stores names as ASCII of at most 256 characters; cannot store {text!r}")


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
            for k, comp in enumerate(_FOUR):
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
    reference = sample.metadata.get("madminer_reference_benchmark")
    f.create_dataset("benchmarks/names", data=_strings(sample.benchmark_names))
    f.create_dataset("benchmarks/values", data=theta.astype(np.float64))
    f.create_dataset("benchmarks/is_nuisance", data=np.zeros(b, dtype=np.int64))
    f.create_dataset("benchmarks/is_reference", data=np.array([n == reference for n in sample.benchmark_names], dtype=np.int64))
    if sample.can_morph:
        basis = sample.morphing_basis
        matrix = morphing_matrix(sample.morphing_components, theta[basis], basis, b)
        f.create_dataset("morphing/components", data=sample.morphing_components.astype(np.int64))
        f.create_dataset("morphing/morphing_matrix", data=matrix)
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


def _write_samples(f, sample, columns, path: Path) -> None:
    n, o = len(sample), len(columns)
    f.create_dataset("observables/names", data=_strings([c[0] for c in columns]))
    f.create_dataset("observables/definitions", data=_strings([c[1] for c in columns]))
    chunks = (min(max(n, 1), 4096), max(o, 1)) if n and o else None
    observations = f.create_dataset("samples/observations", shape=(n, o), dtype=np.float64, chunks=chunks)
    for lo in range(0, n, _BLOCK):
        block = slice(lo, min(lo + _BLOCK, n))
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

