"""Sharded event samples: a directory of independent event files plus a manifest, read as one sample.

A sharded sample (``docs/event-format.md`` §10) is what ``lfi simulate … --shards S`` writes, on a local process pool
or on a Dask cluster::

    DIR/manifest.json          {"format": "lfi-shards", "version": 1, "simulator": ..., "options": {...},
                                "seed": 0, "events": N, "shards": [{"file": "shard_0000.h5", "seed": ..,
                                "events": n_0, "kept": k_0, "bytes": b_0, "done": true}, ...]}
    DIR/shard_0000.h5 ...      each a complete event file of its own n_i generated events (weights sum to σ)

Shard i is an independent run of n_i generated (or, for an import, read) events, so its weights estimate σ on their
own. Read as one sample, shard i's weights are scaled by n_i / N (N = Σ n_i over the shards of its process; an
import's shards carry a ``process``, generated shards are all one): the usual combination of independent runs.
The per-event truth that is itself a weight (``weight_coefficients``, pb) is scaled alike; sample-level truth that
differs between shards (σ-polynomial estimates, ``sigma_coefficients``) is combined the same way, and truth equal in
every shard is kept as it is. Cut flows add up step by step.

Every reader of an event file (``EventSample.load``, ``EventSample.read_info``, hence every command's ``--data``)
accepts such a directory. Reading refuses, in one line, a directory whose manifest lists a shard not yet written.
"""

from __future__ import annotations

import copy
import functools
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from lfi.errors import EventFileError
from lfi.events.cutflow import CUTFLOW_KEY

__all__ = ["MANIFEST", "SHARDS_FORMAT", "is_sharded", "read_manifest", "shard_done", "load_sharded",
           "read_sharded_info", "shard_event_counts", "run_shares"]

MANIFEST = "manifest.json"
SHARDS_FORMAT = "lfi-shards"
SHARDS_VERSION = 1
#: Per-event truth that is a weight (pb) and scales with the weights.
WEIGHT_LIKE_TRUTH = ("weight_coefficients",)


def is_sharded(path: str | os.PathLike) -> bool:
    """True if ``path`` is a directory with a shard manifest."""
    path = Path(path)
    return path.is_dir() and (path / MANIFEST).is_file()


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a sharded sample, checked for its format and fields.

    Raises
    ------
    EventFileError
        One line naming the manifest: unreadable, another format or version, a malformed shard entry.
    """
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise EventFileError(f"{path}: not a readable shard manifest ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != SHARDS_FORMAT:
        raise EventFileError(f"{path}: not an {SHARDS_FORMAT} manifest")
    if manifest.get("version") != SHARDS_VERSION:
        raise EventFileError(f"{path}: manifest version {manifest.get('version')!r}; this lfi reads {SHARDS_VERSION}")
    shards = manifest.get("shards")
    if not isinstance(shards, list) or not shards:
        raise EventFileError(f"{path}: key 'shards' must be a non-empty list")
    for i, entry in enumerate(shards):
        if not isinstance(entry, dict) or "file" not in entry or (entry.get("done") and "events" not in entry):
            raise EventFileError(f"{path}: shard {i} needs the key 'file', and 'events' once it is done")
        if Path(entry["file"]).name != entry["file"]:
            raise EventFileError(f"{path}: shard {i}: file {entry['file']!r} must be a name inside the directory")
    return manifest


def shard_done(directory: str | os.PathLike, entry: dict[str, Any]) -> bool:
    """True if the manifest marks the shard as written and its file is there with the recorded size."""
    path = Path(directory) / entry["file"]
    return bool(entry.get("done")) and path.is_file() and path.stat().st_size == entry.get("bytes")


def _complete_shards(directory: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    manifest = read_manifest(directory)
    shards = manifest["shards"]
    missing = [i for i, entry in enumerate(shards) if not shard_done(directory, entry)]
    if missing:
        names = ", ".join(shards[i]["file"] for i in missing[:3]) + (" …" if len(missing) > 3 else "")
        raise EventFileError(f"{directory}: {len(missing)} of {len(shards)} shards are missing or incomplete ({names}); "
                             "rerun the same lfi simulate command to write them")
    return manifest, shards


def shard_event_counts(directory: str | os.PathLike) -> list[int]:
    """Events kept in each shard, in manifest order."""
    _, shards = _complete_shards(Path(directory))
    return [int(entry["kept"]) for entry in shards]


def load_sharded(sample_type: type, directory: str | os.PathLike, events: slice | None = None):
    """All shards (or the events ``events`` of their concatenation) as one sample.

    Parameters
    ----------
    sample_type : type
        :class:`~lfi.events.EventSample` (passed in by its ``load``, which calls this).
    directory : path-like
        A directory with a manifest (:func:`is_sharded`).
    events : slice, optional
        Events of the concatenated sample to read (step 1); only the shards it touches are opened.
    """
    directory = Path(directory)
    manifest, shards = _complete_shards(directory)
    fractions = run_shares(shards)
    counts = [int(entry["kept"]) for entry in shards]
    pieces = []
    for entry, fraction, part in zip(shards, fractions, _shard_slices(counts, events, directory)):
        if part is None:
            continue
        pieces.append(_scaled(sample_type.load(directory / entry["file"], part), fraction))
    if not pieces:  # an empty slice: zero events of the first shard keep the sample's structure
        pieces.append(_scaled(sample_type.load(directory / shards[0]["file"], slice(0, 0)), fractions[0]))
    truth, flows = _shared_parts(sample_type, str(directory), json.dumps(manifest, sort_keys=True))
    sample = sample_type.concatenate([replace(p, truth={k: v.copy() for k, v in truth.items()}) for p in pieces])
    flows = copy.deepcopy(flows)  # the cached parts stay as read
    metadata = {k: v for k, v in sample.metadata.items() if k != CUTFLOW_KEY}
    metadata.update({"seed": manifest.get("seed"), "n_requested": manifest.get("events"),
                     "shards": {"directory": str(directory), "count": len(shards)}})
    if flows:
        metadata[CUTFLOW_KEY] = flows
    return replace(sample, metadata=metadata)


def run_shares(shards: list[dict[str, Any]]) -> list[float]:
    """Each shard's share n_i / N of its process's events (shards without a ``process`` are all one process): the
    factor its weights get when the shards are read as one sample."""
    totals: dict[Any, int] = {}
    for entry in shards:
        totals[entry.get("process")] = totals.get(entry.get("process"), 0) + int(entry["events"])
    return [int(entry["events"]) / totals[entry.get("process")] if totals[entry.get("process")] else 1.0
            for entry in shards]


def _shard_slices(counts: list[int], events: slice | None, directory: Path) -> list[slice | None]:
    """The slice of each shard that ``events`` of the concatenation covers (None where it covers nothing)."""
    if events is None:
        return [slice(None)] * len(counts)
    start, stop, step = events.indices(sum(counts))
    if step != 1:
        raise EventFileError(f"{directory}: a sharded sample is read in contiguous slices (step 1), got step {step}")
    slices: list[slice | None] = []
    offset = 0
    for n in counts:
        lo, hi = max(start - offset, 0), min(stop - offset, n)
        slices.append(slice(lo, hi) if hi > lo else None)
        offset += n
    return slices


def _scaled(sample, fraction: float):
    truth_events = {k: (v * fraction if k in WEIGHT_LIKE_TRUTH else v) for k, v in sample.truth_events.items()}
    return replace(sample, weights=sample.weights * fraction, truth_events=truth_events)


@functools.lru_cache(maxsize=4)
def _shared_parts(sample_type: type, directory: str, manifest: str) -> tuple[dict, dict]:
    """What every read of a sharded sample shares, from each shard's header (no events): the sample-level truth
    (equal in every shard → kept, else the n_i/N-weighted sum) and the summed cut flows. Kept for the last few
    manifests, so that reading a file chunk by chunk opens each shard's header once."""
    shards = json.loads(manifest)["shards"]
    fractions = run_shares(shards)
    headers = [sample_type.load(Path(directory) / entry["file"], slice(0, 0)) for entry in shards]
    truth = {}
    for key in headers[0].truth:
        values = [np.asarray(h.truth[key]) for h in headers]
        same = all(np.array_equal(values[0], v) for v in values[1:])
        truth[key] = values[0] if same else sum(f * v for f, v in zip(fractions, values))
    return truth, _summed_cutflows([h.metadata for h in headers], fractions)


def _summed_cutflows(metadata: list[dict], fractions: list[float]) -> dict[str, list[dict]]:
    """Each process's cut flow added over the shards (their metadata): events summed, σ as the n_i/N-weighted sum."""
    flows: dict[str, list[dict]] = {}
    for meta, fraction in zip(metadata, fractions):
        for process, steps in (meta.get(CUTFLOW_KEY) or {}).items():
            if process not in flows:
                flows[process] = [{**s, "events": 0, **({"sigma_pb": 0.0} if "sigma_pb" in s else {})} for s in steps]
            if [s["step"] for s in steps] != [s["step"] for s in flows[process]]:
                return {}  # shards with different selections: no common cut flow
            for total, step in zip(flows[process], steps):
                total["events"] += int(step["events"])
                if "sigma_pb" in total and "sigma_pb" in step:
                    total["sigma_pb"] += fraction * float(step["sigma_pb"])
    return flows


def read_sharded_info(directory: str | os.PathLike) -> dict[str, Any]:
    """:func:`lfi.events.hdf5.read_info` of a sharded sample: events added, cross sections combined as the weights
    are (n_i/N-weighted sums), the rest from the first shard, plus ``shards`` (count and directory)."""
    from lfi.events.hdf5 import read_info

    directory = Path(directory)
    manifest, shards = _complete_shards(directory)
    infos = [read_info(directory / entry["file"]) for entry in shards]
    fractions = run_shares(shards)
    info = dict(infos[0])
    info["file"] = str(directory)
    info["events"] = sum(i["events"] for i in infos)
    info["object_slots"] = max(i["object_slots"] for i in infos)
    info["cross_section_pb"] = {name: sum(f * i["cross_section_pb"][name] for f, i in zip(fractions, infos))
                                for name in info["cross_section_pb"]}
    info["cross_section_pb_by_process"] = {
        process: (np.sum([f * np.asarray(i["cross_section_pb_by_process"].get(process, 0.0))
                          for f, i in zip(fractions, infos)], axis=0)).tolist()
        for process in dict.fromkeys(p for i in infos for p in i["cross_section_pb_by_process"])}
    negative = sum(i["negative_weight_fraction"] * i["events"] for i in infos)
    info["negative_weight_fraction"] = negative / info["events"] if info["events"] else 0.0
    metadata = {k: v for k, v in (info.get("metadata") or {}).items() if k != CUTFLOW_KEY}
    metadata.update({"seed": manifest.get("seed"), "n_requested": manifest.get("events"),
                     "shards": {"directory": str(directory), "count": len(shards)}})
    flows = _summed_cutflows([i.get("metadata") or {} for i in infos], fractions)
    info["metadata"] = metadata | ({CUTFLOW_KEY: flows} if flows else {})
    return info
