"""Signal and background samples joined into one file (``lfi merge``, ``docs/event-format.md`` §3, merging).

Rules, checked against the *reference* sample (the first with parameters, else the first):

- parameters, units, benchmark names and values, the morphing setup and the globals must agree; a background
  without θ-dependence (no parameters, one benchmark, like the files of ``lfi simulate ggf|zz|tth|ttbar``)
  instead gets its weight copied to every benchmark of the reference and ``sampled_from`` = −1;
- every input brings its own processes: a process name found in two inputs is refused;
- object slots are zero-padded to the widest input; observables are reduced to those of every input, per-event
  and sample-level truth to what every input has alike (the rest would describe only some events);
- the metadata lists the inputs (``merged_from``, each input's metadata without its cut flow) and keeps their cut
  flows per process (``cutflow``).

Any other difference raises :class:`lfi.errors.EventFileError` in one line that names the input and what differs.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Sequence

import numpy as np

from lfi.errors import EventFileError, OptionError
from lfi.events.cutflow import CUTFLOW_KEY
from lfi.events.sample import EventSample

__all__ = ["merge_samples"]

log = logging.getLogger("lfi")


def _is_flat_background(sample: EventSample) -> bool:
    """No θ-dependence: no parameters and a single benchmark."""
    return sample.n_parameters == 0 and sample.n_benchmarks == 1


def _difference(reference: EventSample, sample: EventSample) -> str | None:
    """What ``sample`` disagrees on with ``reference`` among the things a merge must share (None if nothing)."""
    if sample.parameters != reference.parameters:
        return f"parameters {sample.parameters} differ from {reference.parameters}"
    if sample.units != reference.units:
        return f"units {sample.units!r} differ from {reference.units!r}"
    if sample.benchmark_names != reference.benchmark_names:
        return f"benchmarks {sample.benchmark_names} differ from {reference.benchmark_names}"
    if not np.array_equal(sample.benchmark_theta, reference.benchmark_theta):
        return "benchmark values (θ) differ"
    same_morphing = sample.can_morph == reference.can_morph and (not sample.can_morph or (
        np.array_equal(sample.morphing_components, reference.morphing_components)
        and np.array_equal(sample.morphing_basis, reference.morphing_basis)))
    if not same_morphing:
        return "morphing setup (components or basis) differs"
    if sample.nuisance_names != reference.nuisance_names or not np.array_equal(sample.nuisance_benchmarks,
                                                                                reference.nuisance_benchmarks):
        return (f"nuisance variations {sample.nuisance_names or 'none'} differ from "
                f"{reference.nuisance_names or 'none'} (inconsistent variations cannot be merged)")
    return None


def _common_truth(samples: Sequence[EventSample]) -> tuple[list[dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """Each sample's per-event truth reduced to the keys every sample has with one trailing shape, and the
    sample-level truth equal in all samples."""
    first = samples[0]
    events = {k for k, v in first.truth_events.items()
              if all(k in s.truth_events and s.truth_events[k].shape[1:] == v.shape[1:] for s in samples)}
    level = {k: v for k, v in first.truth.items() if all(k in s.truth and np.array_equal(s.truth[k], v) for s in samples)}
    return [{k: v for k, v in s.truth_events.items() if k in events} for s in samples], level


def merge_samples(samples: Sequence[EventSample], names: Sequence[str] | None = None) -> EventSample:
    """Join signal and background samples into one, each event labelled with its input's process.

    Parameters
    ----------
    samples : sequence of EventSample
        At least two; weights in pb. Backgrounds without θ-dependence may have no parameters and one benchmark.
    names : sequence of str, optional
        How to name each input in errors and in ``metadata["merged_from"]`` (file names); default ``sample K``.

    Returns
    -------
    EventSample
        N = Σ N_k events, P = max P_k slots, the reference's parameters, benchmarks and morphing; every weight
        column sums to the sum of the inputs' cross sections (pb) at that benchmark.

    Raises
    ------
    OptionError
        Fewer than two samples, or ``names`` of another length.
    EventFileError
        One line naming the input: different parameters, units, benchmarks, morphing or globals; a process that
        another input has too.
    """
    samples = list(samples)
    names = [f"sample {k}" for k in range(len(samples))] if names is None else [str(n) for n in names]
    if len(samples) < 2:
        raise OptionError(f"merge needs at least two samples, got {len(samples)}")
    if len(names) != len(samples):
        raise OptionError(f"{len(names)} names for {len(samples)} samples")
    ref = next((k for k, s in enumerate(samples) if s.n_parameters), 0)
    reference = samples[ref]
    owner: dict[str, str] = {}
    aligned = []
    for name, sample in zip(names, samples):
        if sample.global_names != reference.global_names:
            raise EventFileError(f"{name}: globals {sample.global_names} differ from {names[ref]}'s "
                                 f"{reference.global_names}")
        for process in sample.process_names:
            if process in owner:
                raise EventFileError(f"{name}: process {process!r} is also in {owner[process]}; merge joins different "
                                     "processes (rescale and concatenate runs of one process instead)")
            owner[process] = name
        if _is_flat_background(sample) and reference.n_parameters:
            sample = replace(sample, parameters=reference.parameters, units=reference.units,
                             benchmark_names=reference.benchmark_names, benchmark_theta=reference.benchmark_theta,
                             morphing_components=reference.morphing_components,
                             morphing_basis=reference.morphing_basis,
                             nuisance_names=reference.nuisance_names,
                             nuisance_benchmarks=reference.nuisance_benchmarks,
                             weights=np.repeat(sample.weights, reference.n_benchmarks, axis=1),
                             sampled_from=np.full(len(sample), -1, np.int16))
        difference = _difference(reference, sample)
        if difference:
            raise EventFileError(f"{name}: {difference} in {names[ref]}; only θ-independent backgrounds (no "
                                 "parameters, one benchmark) merge with a sample of other parameters")
        aligned.append(sample)
    observables = [k for k in reference.observables if all(k in s.observables for s in aligned)]
    dropped = sorted({k for s in aligned for k in s.observables} - set(observables))
    truth_events, truth = _common_truth(aligned)
    dropped_truth = sorted({k for s in aligned for k in [*s.truth_events, *s.truth]} - {*truth_events[0], *truth})
    for what, keys in (("observables", dropped), ("truth", dropped_truth)):
        if keys:
            log.info("merge: left out the %s %s, which not every input has alike", what, ", ".join(keys))
    aligned = [replace(s, observables={k: s.observables[k] for k in observables}, truth_events=t, truth=truth)
               for s, t in zip(aligned, truth_events)]
    merged = EventSample.concatenate(aligned)
    metadata = {
        "merged_from": [{"file": name, "processes": s.process_names, "events": len(s),
                         "metadata": {k: v for k, v in s.metadata.items() if k != CUTFLOW_KEY}}
                        for name, s in zip(names, samples)],
        "objects": all(s.metadata.get("objects", True) for s in samples),
        "dropped_observables": dropped,
        "dropped_truth": dropped_truth,
    }
    if CUTFLOW_KEY in merged.metadata:
        metadata[CUTFLOW_KEY] = merged.metadata[CUTFLOW_KEY]
    return replace(merged, metadata=metadata)
