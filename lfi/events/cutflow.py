"""Cut flows: how many events each selection step of a generator or importer kept, and the weighted σ after it.

A file's cut flows live in ``metadata["cutflow"]`` (``docs/event-format.md`` §2), one per process::

    {"wbf": [{"step": "generated", "events": 5000, "sigma_pb": 1.2e-3},
             {"step": "quark pT >= 20 GeV", "events": 3900, "sigma_pb": 1.0e-3}, ...]}

The first step counts every generated (or read) event; every later step counts the events that pass it *and* all
steps before it. ``sigma_pb`` (optional) is the sum in pb of the SM-benchmark weights of those events (the only
benchmark, one named ``sm``, one at θ = 0, else the first), so the last step's ``sigma_pb`` is the process's cross
section in the file. Efficiencies are ratios of ``events`` and are not stored.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["CUTFLOW_KEY", "apply_cuts", "sm_column", "check_cutflows", "efficiencies", "summary_line",
           "format_table", "shortfall_warning", "combine_cutflows"]

CUTFLOW_KEY = "cutflow"
"""The metadata key of the cut flows."""

Step = dict[str, Any]


def sm_column(names: Sequence[str], theta: np.ndarray) -> int | None:
    """Index of the benchmark that counts as the SM: the only one, one named ``sm``, or the first at θ = 0.

    Parameters
    ----------
    names : sequence of str, length B
    theta : ndarray, shape (B, D)

    Returns
    -------
    int or None
        None when no benchmark qualifies.
    """
    if len(names) == 1:
        return 0
    if "sm" in names:
        return list(names).index("sm")
    at_zero = np.flatnonzero(np.all(np.asarray(theta) == 0, axis=1))
    return int(at_zero[0]) if len(at_zero) else None


def apply_cuts(cuts: Sequence[tuple[str, np.ndarray]], weights: np.ndarray | None = None,
               first: str = "generated") -> tuple[np.ndarray, list[Step]]:
    """Apply selection steps in order and count what each keeps.

    Parameters
    ----------
    cuts : sequence of (str, ndarray of bool, shape (N,))
        Each step's name and which events pass it on their own; they are combined with a logical and, in order.
        May be empty (no selection) when ``weights`` are given.
    weights : ndarray, shape (N,), optional
        SM weights in pb; with them every step records ``sigma_pb``. Required without cuts.
    first : str
        Name of the step before any cut.

    Returns
    -------
    keep : ndarray of bool, shape (N,)
        The events that pass every step.
    steps : list of dict
        ``[{"step": first, "events": N, ...}, {"step": name, "events": n_kept_so_far, ...}, ...]``.
    """
    n = len(weights) if weights is not None else len(cuts[0][1])
    keep = np.ones(n, dtype=bool)

    def step(name: str) -> Step:
        entry: Step = {"step": name, "events": int(keep.sum())}
        if weights is not None:
            entry["sigma_pb"] = float(np.sum(weights[keep]))
        return entry

    steps = [step(first)]
    for name, passed in cuts:
        keep &= np.asarray(passed, dtype=bool)
        steps.append(step(name))
    return keep, steps


def check_cutflows(flows: Any) -> str | None:
    """What is wrong with ``metadata["cutflow"]`` as read from a file (None if it is well formed)."""
    if not isinstance(flows, Mapping) or not flows:
        return "not a non-empty mapping of process names to steps"
    for process, steps in flows.items():
        if not isinstance(steps, list) or not steps:
            return f"process {process!r}: not a non-empty list of steps"
        previous = math.inf
        for entry in steps:
            if not (isinstance(entry, Mapping) and isinstance(entry.get("step"), str)
                    and isinstance(entry.get("events"), int) and not isinstance(entry.get("events"), bool)):
                return f"process {process!r}: step {entry!r} lacks a name or an integer event count"
            if not 0 <= entry["events"] <= previous:
                return f"process {process!r}: step {entry['step']!r} has {entry['events']} events after {previous}"
            sigma = entry.get("sigma_pb")
            if sigma is not None and not (isinstance(sigma, (int, float)) and math.isfinite(sigma)):
                return f"process {process!r}: step {entry['step']!r} has σ {sigma!r}"
            previous = entry["events"]
    return None


def efficiencies(steps: Sequence[Step]) -> list[tuple[float, float]]:
    """(relative to the previous step, cumulative) efficiency of every step; the first step has (1, 1).

    A step after one with no events gets NaN.
    """
    total = steps[0]["events"]
    out, previous = [], total
    for entry in steps:
        n = entry["events"]
        out.append((n / previous if previous else math.nan, n / total if total else math.nan))
        previous = n
    return out


def _percent(x: float) -> str:
    return "-" if math.isnan(x) else f"{100 * x:.0f} %"


def summary_line(flows: Mapping[str, Sequence[Step]]) -> str:
    """One line per process, e.g. ``5000 generated, 1952 kept (39 %): 4 leptons 61 %, ≥ 2 jets 64 %`` (each step's
    efficiency relative to the previous step); prefixed with the process name when there are several."""
    lines = []
    for process, steps in flows.items():
        rates = efficiencies(steps)
        text = f"{steps[0]['events']} {steps[0]['step']}, {steps[-1]['events']} kept ({_percent(rates[-1][1])})"
        if len(steps) > 1:
            text += ": " + ", ".join(f"{e['step']} {_percent(r)}" for e, (r, _) in zip(steps[1:], rates[1:]))
        lines.append(f"{process}: {text}" if len(flows) > 1 else text)
    return "\n".join(lines)


def format_table(flows: Mapping[str, Sequence[Step]]) -> str:
    """A table per process: step, events, relative and cumulative efficiency, σ after the step in pb at the SM."""
    lines: list[str] = []
    for process, steps in flows.items():
        width = max(len("step"), *(len(e["step"]) for e in steps))
        lines += [f"cut flow ({process})",
                  f"  {'step':<{width}}  {'events':>10}  {'relative':>8}  {'cumulative':>10}  {'σ [pb]':>12}"]
        for entry, (relative, cumulative) in zip(steps, efficiencies(steps)):
            sigma = entry.get("sigma_pb")
            lines.append(f"  {entry['step']:<{width}}  {entry['events']:>10,}  {_percent(relative):>8}  "
                         f"{_percent(cumulative):>10}  {'-' if sigma is None else format(sigma, '.6g'):>12}")
    return "\n".join(lines)


def shortfall_warning(requested: int, flows: Mapping[str, Sequence[Step]]) -> str | None:
    """One line when the selection kept fewer events than ``requested`` (None otherwise), e.g. ``requested 5000
    events: 5000 generated, the selection kept 1952 (39 %); ask for about 12800 to keep 5000``."""
    generated = sum(steps[0]["events"] for steps in flows.values())
    kept = sum(steps[-1]["events"] for steps in flows.values())
    if kept >= requested:
        return None
    text = f"requested {requested} events: {generated} generated, the selection kept {kept}"
    if kept == 0 or generated == 0:
        return text
    needed = requested * generated / kept
    rounded = int(round(needed, 2 - int(math.floor(math.log10(needed)))))  # three significant digits
    return f"{text} ({_percent(kept / generated)}); ask for about {rounded} to keep {requested}"


def combine_cutflows(metadata: Sequence[Mapping[str, Any]]) -> dict[str, list[Step]]:
    """The cut flows of several samples' metadata joined by process; a process found in more than one sample is
    left out (its events no longer went through one selection)."""
    seen: dict[str, int] = {}
    flows: dict[str, list[Step]] = {}
    for meta in metadata:
        for process, steps in (meta.get(CUTFLOW_KEY) or {}).items():
            seen[process] = seen.get(process, 0) + 1
            flows[process] = steps
    return {process: steps for process, steps in flows.items() if seen[process] == 1}
