"""Sharded generation and import: one simulation split into independent shards, or several input files imported
one per shard, run on a local process pool or on a Dask cluster.

Each shard is a complete run of the simulator with its own seed (``simulators.pythia.runner.chunk_seeds`` of the
master seed) and its share of the events, written atomically to ``DIR/shard_NNNN.h5``; ``DIR/manifest.json`` (written
first, completed last) holds the plan. The same seed and shard count give the same shards wherever they run: on the
local pool (``workers``), on a ``dask.distributed`` cluster (``scheduler``, e.g. ``tcp://host:8786``, or one that
dask-jobqueue started on HTCondor or Slurm), in any order. A rerun of the same command after a killed worker or a killed
client writes only the shards that are missing; a shard file that exists is complete (atomic write) and is kept when
its recorded seed is the planned one. The directory reads as one sample (:mod:`lfi.events.shards`).

Dask is an optional extra (``pip install 'lfi[cluster]'``), imported only when a scheduler is given.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any, Mapping

from lfi.errors import OptionError
from lfi.events.shards import MANIFEST, SHARDS_FORMAT, SHARDS_VERSION, read_manifest
from lfi.files import atomic_write_text

__all__ = ["simulate_sharded", "import_sharded", "make_shard", "make_import_shard", "shard_plan"]

log = logging.getLogger("lfi")


def shard_plan(n_events: int, shards: int, seed: int) -> list[dict[str, Any]]:
    """File name, seed and generated events of every shard: ``n_events`` split as evenly as possible.

    Raises
    ------
    OptionError
        Fewer events than shards, or fewer than one shard.
    """
    from simulators.pythia.runner import chunk_seeds

    if shards < 1:
        raise OptionError(f"--shards must be ≥ 1, got {shards}")
    if n_events < shards:
        raise OptionError(f"--events {n_events} cannot fill --shards {shards}: every shard needs at least one event")
    base, extra = divmod(int(n_events), int(shards))
    return [{"file": f"shard_{i:04d}.h5", "seed": s, "events": base + (i < extra)}
            for i, s in enumerate(chunk_seeds(seed, shards))]


def make_shard(task: Mapping[str, Any]) -> None:
    """Simulate one shard and write it atomically (runs in a pool process or on a Dask worker).

    Parameters
    ----------
    task : mapping
        ``simulator`` (registry name), ``options`` (keyword arguments of its ``simulate``), ``events``, ``seed``,
        ``path`` (the shard file).
    """
    import simulators

    sample = simulators.get(task["simulator"]).simulate(int(task["events"]), seed=int(task["seed"]), **task["options"])
    sample.save(task["path"])


def simulate_sharded(simulator: str, n_events: int, out: str | os.PathLike, *, shards: int, seed: int = 0,
                     options: Mapping[str, Any] | None = None, workers: int = 1, scheduler: str | None = None,
                     progress: bool | None = None) -> Path:
    """Simulate ``n_events`` in ``shards`` independent shards into the directory ``out``.

    Parameters
    ----------
    simulator : str
        Registry name (``lfi simulate``'s first argument).
    n_events : int
        Generated events in all (before selection), split evenly over the shards.
    out : path-like
        Directory of the sharded sample; created if needed. A directory with a manifest of the same run is completed.
    shards : int
        Number of shards (tasks); each is one simulator run in one process.
    seed : int
        Master seed; shard i gets the i-th derived seed.
    options : mapping, optional
        Keyword arguments of the simulator's ``simulate`` (``level``, ``nuisances``, ...; ``workers`` is set to 1:
        the shard is the unit of parallelism).
    workers : int
        Local processes (ignored with ``scheduler``).
    scheduler : str, optional
        Address of a running ``dask.distributed`` scheduler; the shards become its tasks.
    progress : bool, optional
        A progress bar over the shards (default: when stderr is a terminal).

    Returns
    -------
    Path
        ``out``, now holding every shard and the completed manifest.

    Raises
    ------
    OptionError
        ``out`` holds other files, or the shards of a different run (the differing key is named).
    """
    out = Path(out)
    options = {k: v for k, v in (options or {}).items() if k != "workers"}
    _check_simulator_options(simulator, options)
    manifest = {"format": SHARDS_FORMAT, "version": SHARDS_VERSION, "simulator": simulator,
                "options": json.loads(json.dumps(options)), "seed": int(seed), "events": int(n_events),
                "shards": shard_plan(n_events, shards, seed)}
    _prepare_directory(out, manifest)
    todo = [entry for entry in manifest["shards"] if not _shard_written(out, entry)]
    if len(todo) < len(manifest["shards"]):
        log.info("%s: %d of %d shards already written; writing the other %d", out,
                 len(manifest["shards"]) - len(todo), len(manifest["shards"]), len(todo))
    tasks = [{"simulator": simulator, "options": {**options, **_single_process(simulator)}, "events": entry["events"],
              "seed": entry["seed"], "path": str(out / entry["file"])} for entry in todo]
    if tasks:
        _run(make_shard, tasks, workers, scheduler, progress)
    return _complete(out, manifest)


def make_import_shard(task: Mapping[str, Any]) -> None:
    """Read one input file (``lhe`` or ``delphes``) into a shard, add the observables, apply the cuts and write it
    atomically (runs in a pool process or on a Dask worker).

    Parameters
    ----------
    task : mapping
        ``format``, ``input`` (the file), ``options`` (keyword arguments of the reader, ``process`` included),
        ``observables`` ({name: expression}), ``cuts`` (expressions), ``path`` (the shard file).
    """
    from lfi.events import add_observables, select_events
    from simulators.io.delphes import read_delphes
    from simulators.io.lhe import read_lhe

    reader = {"lhe": read_lhe, "delphes": read_delphes}[task["format"]]
    sample = reader([task["input"]], **task["options"])
    if task["observables"]:
        sample = add_observables(sample, task["observables"])
    if task["cuts"]:
        sample = select_events(sample, task["cuts"])
    sample.save(task["path"])


def import_sharded(fmt: str, inputs: list[str], out: str | os.PathLike, *, options: Mapping[str, Any],
                   description: Mapping[str, Any], processes: list[str], observables: Mapping[str, str] | None = None,
                   cuts: list[str] | None = None, workers: int = 1, scheduler: str | None = None,
                   progress: bool | None = None) -> Path:
    """Import every input file into a shard of its own, on ``workers`` local processes or a Dask scheduler.

    Files of one process are independent runs: read as one sample, each shard's weights get its share of its
    process's events, as :func:`simulators.io.common.assemble` gives them in a single import.

    Parameters
    ----------
    fmt : {"lhe", "delphes"}
    inputs : list of str
        Input files, one shard each.
    out : path-like
        Directory of the sharded sample (as for :func:`simulate_sharded`).
    options : mapping
        Keyword arguments of the reader except ``process`` (objects such as the benchmarks are passed as they are).
    description : mapping
        The same options as JSON-able values (the command line's), recorded in the manifest and compared on a rerun.
    processes : list of str
        The process name of each input.
    observables, cuts
        Added and applied in each shard (``--observable``, ``--cut``).
    """
    out = Path(out)
    inputs = [str(Path(i).resolve()) for i in inputs]
    manifest = {"format": SHARDS_FORMAT, "version": SHARDS_VERSION, "simulator": f"import {fmt}",
                "options": {**json.loads(json.dumps(description)), "observables": dict(observables or {}),
                            "cuts": list(cuts or [])}, "seed": None, "events": None,
                "shards": [{"file": f"shard_{i:04d}.h5", "seed": None, "input": path, "process": process}
                           for i, (path, process) in enumerate(zip(inputs, processes))]}
    _prepare_directory(out, manifest)
    tasks = [{"format": fmt, "input": entry["input"], "options": {**options, "process": entry["process"]},
              "observables": dict(observables or {}), "cuts": list(cuts or []), "path": str(out / entry["file"])}
             for entry in manifest["shards"] if not _shard_written(out, entry)]
    if tasks:
        _run(make_import_shard, tasks, workers, scheduler, progress)
    return _complete(out, manifest)


def _check_simulator_options(simulator: str, options: Mapping[str, Any]) -> None:
    import inspect

    import simulators

    accepted = inspect.signature(simulators.get(simulator).simulate).parameters
    unknown = [k for k in options if k not in accepted]
    if unknown:
        raise OptionError(f"{unknown[0]!r} is not an option of the {simulator} simulator")


def _single_process(simulator: str) -> dict[str, int]:
    """``workers=1`` for simulators that take it: a shard runs in one process."""
    import inspect

    import simulators

    return {"workers": 1} if "workers" in inspect.signature(simulators.get(simulator).simulate).parameters else {}


def _prepare_directory(out: Path, manifest: dict[str, Any]) -> None:
    """Create ``out`` with the manifest, or check that its manifest plans the same run."""
    if (out / MANIFEST).exists():
        old = read_manifest(out)
        for key in ("simulator", "options", "seed") + (("events",) if manifest["events"] is not None else ()):
            if old.get(key) != manifest[key]:
                raise OptionError(f"{out} holds the shards of another run ({key}: {old.get(key)!r} there, "
                                  f"{manifest[key]!r} now); choose another --out")
        if [{k: e.get(k) for k in planned} for e, planned in zip(old["shards"], manifest["shards"])] != \
                manifest["shards"] or len(old["shards"]) != len(manifest["shards"]):
            raise OptionError(f"{out} holds the shards of another run (a different shard plan: "
                              f"{len(old['shards'])} shards there, {len(manifest['shards'])} now); choose another --out")
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OptionError(f"--out {out} exists and is not an empty directory; a sharded sample needs its own directory")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1))


def _shard_written(out: Path, entry: Mapping[str, Any]) -> bool:
    """A shard file is complete once it exists (atomic write); it counts when it carries the planned seed."""
    path = out / entry["file"]
    if not path.is_file():
        return False
    from lfi.errors import EventFileError
    from lfi.events.sample import EventSample

    try:
        metadata = EventSample.load(path, slice(0, 0)).metadata
    except EventFileError:
        return False
    if "input" in entry:  # an imported shard: the file it was read from
        return [f.get("path") for f in metadata.get("files", [])] == [entry["input"]]
    return metadata.get("seed") == entry["seed"]


def _shard_record(path: Path) -> dict[str, int]:
    """Events kept in a shard file and its size; for an import also the events read (its ``files`` metadata)."""
    from lfi.events.hdf5 import read_info

    info = read_info(path)
    files = (info.get("metadata") or {}).get("files")
    record = {"kept": int(info["events"]), "bytes": path.stat().st_size}
    return {**record, "events": int(files[0]["events"])} if files else record


def _complete(out: Path, manifest: dict[str, Any]) -> Path:
    """Record every shard's events (read from its file), size and completion, and write the completed manifest."""
    for entry in manifest["shards"]:
        entry.update(_shard_record(out / entry["file"]), done=True)
    manifest["events"] = sum(int(entry["events"]) for entry in manifest["shards"])
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1))
    return out


def _run(function, tasks: list[dict], workers: int, scheduler: str | None, progress: bool | None) -> None:
    """``function(task)`` for every task: on the Dask scheduler if one is given, else on ``workers`` processes."""
    from simulators.pythia.runner import progress_bar, run_workers

    bar, advance = progress_bar(progress, len(tasks), [1] * len(tasks), "shards")
    try:
        if scheduler:
            _run_on_dask(function, tasks, scheduler, advance)
        else:
            run_workers(function, tasks, workers, advance)
    finally:
        if bar is not None:
            bar.close()


def _run_on_dask(function, tasks: list[dict], scheduler: str, advance) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise OptionError("--scheduler needs Dask: pip install 'lfi[cluster]'") from None
    try:
        with Client(scheduler, timeout="30s") as client:
            run = uuid.uuid4().hex[:8]  # keys unique to this run on a shared scheduler
            futures = client.map(function, tasks, key=[f"lfi-{run}-{Path(t['path']).stem}" for t in tasks], pure=False)
            for i, future in enumerate(as_completed(futures)):
                future.result()
                if advance is not None:
                    advance(i)
    except OSError as err:
        raise OptionError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({err})") from None
