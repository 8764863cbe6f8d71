"""Event files combined into one labelled set for classification: signal (label 1) against everything else
(label 0), with each event's SM weight in pb, its process, a split by event and class-balanced training weights.

Shapes: N events, P object slots (the largest of the files; smaller files are zero-padded), G globals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from lfi.errors import EventFileError, OptionError, UnknownNameError

__all__ = ["LabelledEvents", "combine_for_classification", "split_events", "balanced_weights", "yield_weights",
           "SPLIT_FRACTIONS"]

SPLIT_FRACTIONS = (0.6, 0.2, 0.2)
"""Default train / validation / test fractions of the events of every process."""


@dataclass
class LabelledEvents:
    """Events of several files, labelled signal (1) or background (0).

    Attributes
    ----------
    momenta : ndarray, shape (N, P, 4), float32
        (E, px, py, pz) in GeV.
    types : ndarray, shape (N, P), int8
    globals_ : ndarray, shape (N, G), float32
    global_names : list of str
    labels : ndarray, shape (N,), int64
        1 for the signal process, 0 otherwise.
    weights : ndarray, shape (N,), float64
        Weight at the SM in pb; per process they sum to its selected cross section.
    process : ndarray, shape (N,), int64
        Index into ``process_names``.
    process_names : list of str
    signal : str
        The signal process.
    files : list of str
    """

    momenta: np.ndarray
    types: np.ndarray
    globals_: np.ndarray
    global_names: list[str]
    labels: np.ndarray
    weights: np.ndarray
    process: np.ndarray
    process_names: list[str]
    signal: str
    files: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def cross_sections(self) -> dict[str, float]:
        """Selected cross section of every process in pb."""
        return {name: float(self.weights[self.process == k].sum()) for k, name in enumerate(self.process_names)}

    def counts(self) -> dict[str, int]:
        """Events of every process."""
        return {name: int(np.sum(self.process == k)) for k, name in enumerate(self.process_names)}


def _sm_column(sample, path: str) -> int:
    """Index of the benchmark whose weights count as the SM: the only one, one named ``sm``, or θ = 0."""
    from lfi.events.cutflow import sm_column

    column = sm_column(sample.benchmark_names, sample.benchmark_theta)
    if column is not None:
        return column
    raise EventFileError(f"{path}: no SM benchmark (none named 'sm', none at theta = 0) to take the weights from; "
                         f"benchmarks are {sample.benchmark_names}")


def combine_for_classification(paths: Sequence[str | os.PathLike], signal: str | None = None) -> LabelledEvents:
    """Read event files and label their events.

    Parameters
    ----------
    paths : sequence of path-like
        Event files (``lfi simulate``, ``lfi import``); each may hold several processes.
    signal : str, optional
        The signal process name; default: the first process of the first file.

    Raises
    ------
    EventFileError
        A file that cannot be read, without an SM benchmark, or whose globals or parameters differ from the
        first file's; a process whose total weight is not positive.
    UnknownNameError
        ``signal`` is no process of the files (the message lists them).
    OptionError
        Fewer than two files' worth of classes: all events are signal, or none is.
    """
    from lfi.events import EventSample

    if not paths:
        raise OptionError("--data: give at least two event files (signal first, then the backgrounds)")
    samples = []
    for path in paths:
        sample = EventSample.load(path)
        samples.append((str(path), sample))
    first_path, first = samples[0]
    parameters = [s.parameters for _, s in samples if s.parameters]
    for path, sample in samples[1:]:
        if sample.global_names != first.global_names:
            raise EventFileError(f"{path}: globals {sample.global_names} differ from {first_path}'s "
                                 f"{first.global_names}: the files do not share one object schema")
        if sample.parameters and parameters and sample.parameters != parameters[0]:
            raise EventFileError(f"{path}: parameters {sample.parameters} differ from {parameters[0]} of another "
                                 "file: the files do not describe one model")
    slots = max(s.momenta.shape[1] for _, s in samples)
    names: list[str] = []
    parts = {"momenta": [], "types": [], "globals_": [], "weights": [], "process": []}
    for path, sample in samples:
        pad = slots - sample.momenta.shape[1]
        parts["momenta"].append(np.pad(sample.momenta, ((0, 0), (0, pad), (0, 0))))
        parts["types"].append(np.pad(sample.types, ((0, 0), (0, pad))))
        parts["globals_"].append(sample.globals_)
        parts["weights"].append(sample.weights[:, _sm_column(sample, path)])
        index = []
        for name in sample.process_names:
            if name not in names:
                names.append(name)
            index.append(names.index(name))
        parts["process"].append(np.asarray(index, np.int64)[sample.process])
    merged = {k: np.concatenate(v) for k, v in parts.items()}
    for k, name in enumerate(names):
        total = merged["weights"][merged["process"] == k].sum()
        if not total > 0:
            files = [p for p, s in samples if name in s.process_names]
            raise EventFileError(f"{', '.join(files)}: process {name!r} has total weight {total:g} pb; a class "
                                 "needs a positive cross section")
    signal = names[0] if signal is None else signal
    if signal not in names:
        raise UnknownNameError(f"--signal {signal!r} is no process of the files; processes: {', '.join(names)}")
    labels = (merged["process"] == names.index(signal)).astype(np.int64)
    if labels.all():
        raise OptionError(f"every event is signal ({signal}): give background files too")
    return LabelledEvents(labels=labels, process_names=names, signal=signal, global_names=list(first.global_names),
                          files=[Path(p).name for p, _ in samples], **merged)


def split_events(process: np.ndarray, fractions: Sequence[float] = SPLIT_FRACTIONS,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random train / validation / test indices, the same fractions of every process.

    Parameters
    ----------
    process : ndarray, shape (N,)
        Process index of each event.
    fractions : (float, float, float)
        Positive, summing to 1.
    seed : int

    Returns
    -------
    train, validation, test : ndarray of int
        Sorted event indices.
    """
    fractions = np.asarray(fractions, float)
    if fractions.shape != (3,) or np.any(fractions <= 0) or abs(fractions.sum() - 1) > 1e-9:
        raise OptionError(f"split fractions must be three positive numbers summing to 1, got {fractions.tolist()}")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for k in np.unique(process):
        members = rng.permutation(np.flatnonzero(process == k))
        cuts = np.round(np.cumsum(fractions)[:2] * len(members)).astype(int)
        for part, chunk in zip(parts, np.split(members, cuts)):
            part.append(chunk)
    return tuple(np.sort(np.concatenate(p)) for p in parts)


def yield_weights(events: LabelledEvents, index: np.ndarray) -> np.ndarray:
    """Weights (pb) of the events ``index`` rescaled per process so that they sum to its full selected cross
    section: a split then predicts the yields of the whole sample, shape (len(index),)."""
    w = events.weights[index].copy()
    for k, sigma in enumerate(events.cross_sections().values()):
        mine = events.process[index] == k
        part = w[mine].sum()
        if mine.any() and part != 0:
            w[mine] *= sigma / part
    return w


def balanced_weights(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Training weights: within a class proportional to the cross-section weights, each class summing to
    half the number of events (mean weight 1), shape (N,)."""
    out = np.zeros(len(labels))
    for label in (0, 1):
        mine = labels == label
        total = weights[mine].sum()
        if not total > 0:
            raise OptionError(f"the {'signal' if label else 'background'} events of this split carry no positive "
                              "weight: use more events")
        out[mine] = weights[mine] * (len(labels) / 2) / total
    return out
