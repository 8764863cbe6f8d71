"""The pipeline every SM process shares: Pythia runs (chunks, optionally in worker processes) → reconstruction
→ the process's selection → an :class:`lfi.events.EventSample` with one benchmark (``sm``) whose weights are in pb.

Weights (docs/generator.md §6): with forced decays Pythia's ``sigmaGen`` is σ × the branching fractions of the
open channels. A process may need several runs with different decay settings (the two charge configurations of a
semi-leptonic t t̄: W⁺ → ℓν with W⁻ → qq̄′, and the swap); their cross sections add. An event of configuration c
gets w = σ_c · ŵ / Σ_c ŵ, with ŵ Pythia's own event weight (not always 1: with ``PhaseSpace:increaseMaximum = off``
about 1 % of t t̄ H events carry ŵ > 1), so that the generated weights sum to Σ_c σ_c and the selected ones to
σ × selection efficiency.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from lfi.errors import OptionError

__all__ = ["Process", "simulate_process", "simulator_for", "generate_chunk", "RECONSTRUCTIONS", "PARTONS",
           "CHUNK_EVENTS"]

RECONSTRUCTIONS = {
    "prompt_four_leptons": "simulators.pythia.detector:reconstruct",
    "isolated": "simulators.pythia.isolated:reconstruct_isolated",
}
"""Reconstruction functions by name (:mod:`simulators.pythia.detector`, :mod:`simulators.pythia.isolated`)."""
PARTONS = {"top_decays": "simulators.pythia.partons:top_decay_partons"}
"""Hard-process parton readers by name (:mod:`simulators.pythia.partons`): record → ``partons`` (N, 6, 4) and
``parton_present`` (N, 6), matched to the jets into the ``jet_partons`` truth (docs/assignment.md §1)."""
CHUNK_EVENTS = 2000
"""Events per Pythia run; fixed (not tied to the worker count) so that a seed gives the same sample for any K.
Each run pays Pythia's initialisation once (about 0.6 s, 3–7 % of 1 000 showered events)."""
_BATCH = 250  # events per nextBatch call


@dataclass(frozen=True)
class Process:
    """A Standard-Model process of the embedded generator.

    Attributes
    ----------
    name : str
        Registry name (``lfi simulate NAME``) and the process name stored in the file.
    description : str
        One line for ``lfi info`` and the docs.
    configurations : tuple of tuple of str
        Pythia settings of each run configuration; the cross sections of the configurations add.
    reconstruction : str
        A key of :data:`RECONSTRUCTIONS`.
    assemble : callable
        Module-level function: reconstructed objects (dict) → ``momenta`` (N, P, 4), ``types`` (N, P),
        ``globals_`` (N, G), ``observables`` (dict of (N,)), ``cuts`` = the selection steps in order, a list of
        (name, (N,) bool) for :func:`lfi.events.cutflow.apply_cuts`.
    selection : str
        The selection in words (stored in the file's metadata).
    global_names : tuple of str
    detector : dict
        Default options of the reconstruction function.
    partons : str, optional
        A key of :data:`PARTONS`: store the jet matched to each parton of the hard process as per-event truth.
    """

    name: str
    description: str
    configurations: tuple[tuple[str, ...], ...]
    reconstruction: str
    assemble: Callable[[dict], tuple]
    selection: str
    global_names: tuple[str, ...] = ("met", "met_phi")
    detector: dict = field(default_factory=dict)
    partons: str | None = None


def _function(target: str) -> Callable:
    module, name = target.split(":")
    return getattr(importlib.import_module(module), name)


def generate_chunk(task: dict[str, Any]) -> dict[str, Any]:
    """Generate and reconstruct one chunk of events (runs in a worker process).

    Parameters
    ----------
    task : dict
        ``n`` (events), ``seed``, ``settings`` (list of str), ``reconstruction`` (key of :data:`RECONSTRUCTIONS`),
        ``detector`` (its options), ``configuration`` (int), ``verbose`` (bool), ``partons`` (key of
        :data:`PARTONS` or None).

    Returns
    -------
    dict
        ``objects`` (dict of per-event arrays), ``event_weight`` (N,) Pythia's weights, ``sigma_pb``,
        ``sigma_err_pb``, ``configuration``.
    """
    import awkward as ak

    from simulators.pythia.runner import make_pythia, silenced

    n, verbose = int(task["n"]), bool(task.get("verbose", False))
    reconstruct = _function(RECONSTRUCTIONS[task["reconstruction"]])
    read_partons = _function(PARTONS[task["partons"]]) if task.get("partons") else None
    pythia = make_pythia(task["settings"], task["seed"], verbose)
    rng = np.random.default_rng([int(task["seed"]), 7])
    objects, weights = [], []
    with silenced(not verbose):
        done = 0
        while done < n:
            size = min(_BATCH, n - done)
            batch = pythia.nextBatch(size)
            if len(batch.prt) != size:
                raise RuntimeError(f"Pythia returned {len(batch.prt)} of {size} requested events")
            reconstructed = reconstruct(batch.prt, rng, **task.get("detector", {}))
            if read_partons is not None:
                reconstructed.update(read_partons(batch.prt))
            objects.append(reconstructed)
            weights.append(ak.to_numpy(batch.info.weights[:, 0]).astype(np.float64))
            done += size
        info = pythia.infoPython()
        sigma, sigma_err = info.sigmaGen() * 1e9, info.sigmaErr() * 1e9
    return {
        "objects": {k: np.concatenate([o[k] for o in objects]) for k in objects[0]},
        "event_weight": np.concatenate(weights),
        "sigma_pb": float(sigma),
        "sigma_err_pb": float(sigma_err),
        "configuration": int(task["configuration"]),
    }


def _weights(chunks: list[dict[str, Any]], n_configurations: int) -> tuple[np.ndarray, float, float]:
    """Event weights in pb (see the module docstring), σ = Σ_c σ_c and its statistical error (pb)."""
    config = np.concatenate([np.full(len(c["event_weight"]), c["configuration"]) for c in chunks])
    raw = np.concatenate([c["event_weight"] for c in chunks])
    weights = np.zeros_like(raw)
    sigma, variance = 0.0, 0.0
    for c in range(n_configurations):
        mine = [ch for ch in chunks if ch["configuration"] == c]
        n = np.array([len(ch["event_weight"]) for ch in mine], dtype=float)
        sigma_c = float(np.sum(n * [ch["sigma_pb"] for ch in mine]) / n.sum())
        variance += float(np.sum((n * [ch["sigma_err_pb"] for ch in mine]) ** 2) / n.sum() ** 2)
        total = raw[config == c].sum()
        if not total > 0:
            raise RuntimeError(f"configuration {c}: Pythia's event weights sum to {total}")
        weights[config == c] = sigma_c * raw[config == c] / total
        sigma += sigma_c
    return weights, sigma, float(np.sqrt(variance))


def simulate_process(process: Process, n_events: int, seed: int = 0, *, workers: int = 1,
                     progress: bool | None = None, verbose: bool = False, pythia_extra: tuple[str, ...] = (),
                     detector: dict | None = None):
    """Generate ``n_events`` events of ``process`` at 13 TeV, reconstruct and select them.

    Parameters
    ----------
    process : Process
    n_events : int
        Events generated (split evenly over the process's configurations); the selection keeps fewer.
    seed : int
        Master seed; chunk seeds derive from it, independent of ``workers``.
    workers : int
        Pythia processes run in parallel (spawned).
    progress : bool, optional
        Progress bar on stderr; default: when stderr is a terminal.
    verbose : bool
        Let Pythia print its banner and statistics.
    pythia_extra : tuple of str
        Further Pythia settings, appended to every configuration (they win).
    detector : dict, optional
        Options of the reconstruction function, over the process's defaults.

    Returns
    -------
    lfi.events.EventSample
        No parameters, one benchmark ``sm``; weights in pb summing to σ × BR × selection efficiency;
        ``metadata`` records σ and the cut flow (:mod:`lfi.events.cutflow`: events and σ after every step);
        ``truth_events["jet_partons"]`` for a process with ``partons``.
    """
    from lfi.events import EventSample
    from lfi.events.cutflow import CUTFLOW_KEY, apply_cuts
    from simulators.pythia.runner import chunk_seeds, chunk_sizes, progress_bar, run_workers

    n_events, workers = int(n_events), int(workers)
    n_configs = len(process.configurations)
    if n_events < n_configs:
        raise OptionError(f"n_events must be ≥ {n_configs} for {process.name} (one per decay configuration), "
                          f"got {n_events}")
    if workers < 1:
        raise OptionError(f"workers must be ≥ 1, got {workers}")
    options = {**process.detector, **(detector or {})}
    per_config = [n_events // n_configs + (c < n_events % n_configs) for c in range(n_configs)]
    plan = [(c, size) for c in range(n_configs) for size in chunk_sizes(per_config[c], CHUNK_EVENTS)]
    tasks = [
        {"n": size, "seed": s, "configuration": c, "settings": list(process.configurations[c]) + list(pythia_extra),
         "reconstruction": process.reconstruction, "detector": options, "verbose": verbose,
         "partons": process.partons}
        for (c, size), s in zip(plan, chunk_seeds(seed, len(plan)))
    ]
    sizes = [size for _, size in plan]
    bar, advance = progress_bar(progress, n_events, sizes, process.name)
    try:
        chunks = run_workers(generate_chunk, tasks, workers, advance)
    finally:
        if bar is not None:
            bar.close()
    weights, sigma, sigma_err = _weights(chunks, n_configs)
    objects = {k: np.concatenate([c["objects"][k] for c in chunks]) for k in chunks[0]["objects"]}
    momenta, types, globals_, observables, cuts = process.assemble(objects)
    truth_events = {}
    if process.partons:
        from lfi.assignment.matching import match_partons
        from lfi.assignment.topology import JET_TRUTH_KEY

        truth_events[JET_TRUTH_KEY] = match_partons(objects["partons"], objects["parton_present"], momenta, types)
    keep, steps = apply_cuts(cuts, weights)
    if not keep.any():
        raise OptionError(f"--events {n_events}: no {process.name} event passed the selection ({process.selection}); "
                          "generate more events")
    n_kept = int(keep.sum())
    metadata = {
        "simulator": process.name,
        "process": process.name,
        "description": process.description,
        "level": "detector",
        "seed": int(seed),
        "n_requested": n_events,
        "workers": workers,
        "chunk_events": CHUNK_EVENTS,
        "sigma_pb": sigma,
        "sigma_err_pb": sigma_err,
        CUTFLOW_KEY: {process.name: steps},
        "selection": process.selection,
        "pythia_settings": [list(c) + list(pythia_extra) for c in process.configurations],
        "detector": {process.reconstruction: options},
        "cross_section_note": "sigma_pb is Pythia's sigmaGen summed over the decay configurations: production times "
                              "the branching fractions of the forced decays, before the selection",
    }
    return EventSample(
        parameters=[],
        benchmark_names=["sm"],
        benchmark_theta=np.zeros((1, 0)),
        momenta=momenta[keep],
        types=types[keep],
        weights=weights[keep, None],
        globals_=globals_[keep],
        global_names=list(process.global_names),
        observables={k: v[keep] for k, v in observables.items()},
        process=np.zeros(n_kept, np.int16),
        process_names=[process.name],
        sampled_from=np.zeros(n_kept, np.int16),
        truth_events={k: v[keep] for k, v in truth_events.items()},
        metadata=metadata,
    )


def simulator_for(process: Process) -> Callable:
    """The ``simulate(n_events, seed=0, **options)`` function that the simulator registry calls for ``process``."""

    def simulate(n_events: int, seed: int = 0, *, workers: int = 1, progress: bool | None = None,
                 verbose: bool = False, pythia_extra: tuple[str, ...] = (), detector: dict | None = None):
        return simulate_process(process, n_events, seed, workers=workers, progress=progress, verbose=verbose,
                                pythia_extra=pythia_extra, detector=detector)

    simulate.__doc__ = (f"Generate {process.description} events at 13 TeV, reconstructed and selected "
                        f"({process.selection}); options and the returned sample as in "
                        ":func:`simulators.processes.pipeline.simulate_process`.")
    simulate.__name__ = simulate.__qualname__ = "simulate"
    return simulate
