"""Assignment efficiencies by jet multiplicity, in the layout of the SPANet tables (Shmakov et al.,
arXiv:2106.03898; docs/assignment.md §5).

Definitions, in every jet-multiplicity bin:

- a particle is *reconstructable* when each of its partons has its own jet (the ``jet_partons`` truth);
- *particle efficiency*: among the events where the particle is reconstructable, the fraction whose predicted jet
  tuple equals the true one (the interchangeable pair in either order);
- *event efficiency* over **all events**: among the events with at least one reconstructable particle, the
  fraction in which every reconstructable particle is right; over **full events** (every particle
  reconstructable): the fraction in which all are right.
"""

from __future__ import annotations

import numpy as np

from .topology import Topology

__all__ = ["efficiency_table", "reconstructable_fractions", "jet_bins"]


def jet_bins(topology: Topology) -> list[tuple[str, int, int]]:
    """The jet-multiplicity bins of the tables: (label, low, high) with low ≤ n_jets ≤ high.

    ``= n``, ``= n + 1``, ``≥ n + 2`` with n the jets of a full event (6 for t t̄ H, 4 for t t̄)."""
    n = topology.n_jets
    return [(f"= {n}", n, n), (f"= {n + 1}", n + 1, n + 1), (f"≥ {n + 2}", n + 2, 10**6)]


def reconstructable_fractions(topology: Topology, jet_partons: np.ndarray, n_jets: np.ndarray) -> list[dict]:
    """The fraction of events with every particle reconstructable, by jet multiplicity (4, 5, …, ≥ 8) and overall.

    Returns
    -------
    list of dict
        ``jets`` (label), ``events``, ``full_fraction``.
    """
    _, present = topology.targets(jet_partons)
    full = present.all(axis=1)
    rows = []
    for label, low, high in [(str(k), k, k) for k in range(4, 8)] + [("≥ 8", 8, 10**6), ("all", 0, 10**6)]:
        inside = (n_jets >= low) & (n_jets <= high)
        rows.append({"jets": label, "events": int(inside.sum()),
                     "full_fraction": float(full[inside].mean()) if inside.any() else float("nan")})
    return rows


def efficiency_table(topology: Topology, jet_partons: np.ndarray, predicted: list[np.ndarray],
                     n_jets: np.ndarray) -> list[dict]:
    """Event and particle efficiencies of an assignment, by jet multiplicity (see the module docstring).

    Parameters
    ----------
    topology : Topology
    jet_partons : ndarray, shape (N, 6)
        The truth.
    predicted : list of ndarray, one (N, rank) per particle
        Object slots (any order of the interchangeable pair; −1 for unassigned).
    n_jets : ndarray, shape (N,)

    Returns
    -------
    list of dict
        One per (events, bin) with ``events`` ("all" or "full"), ``jets`` (bin label), ``n`` (events in the bin),
        ``event`` (efficiency) and ``<particle>`` (particle efficiency) for each particle; the bins of
        :func:`jet_bins` and "all" (every multiplicity of at least ``topology.n_jets``).
    """
    truth, present = topology.targets(jet_partons)
    correct = np.stack([np.all(p.canonical(guess) == t, axis=1)
                        for p, guess, t in zip(topology.particles, predicted, truth)], axis=1)
    full = present.all(axis=1)
    bins = jet_bins(topology) + [("all", topology.n_jets, 10**6)]
    rows = []
    for events, selected in (("all", present.any(axis=1)), ("full", full)):
        for label, low, high in bins:
            inside = selected & (n_jets >= low) & (n_jets <= high)
            row = {"events": events, "jets": label, "n": int(inside.sum()),
                   "event": _mean(np.all(correct | ~present, axis=1)[inside])}
            for k, particle in enumerate(topology.particles):
                row[particle.name] = _mean(correct[inside & present[:, k], k])
            rows.append(row)
    return rows


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else float("nan")
