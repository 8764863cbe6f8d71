"""The particles of a semi-leptonic t t̄ (H) event and the partons (columns of the ``jet_partons`` truth) each
decays to (docs/assignment.md §2).

A particle's jets form an ordered tuple; ``symmetric`` means its last two jets may be swapped (W → q q̄′ inside
t → b q q̄′, H → b b̄). The canonical form of a tuple puts those two in increasing slot order, so one unordered
pair has one index. The two tops are distinct particles here (one decays hadronically, one leptonically), so the
event's symmetry group beyond these swaps is trivial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lfi.errors import UnknownNameError

__all__ = ["PARTON_NAMES", "Particle", "Topology", "TOPOLOGIES", "topology", "JET_TRUTH_KEY"]

PARTON_NAMES = ("b_had", "q1", "q2", "b_lep", "b1_h", "b2_h")
"""The partons, in the column order of the ``jet_partons`` per-event truth."""
JET_TRUTH_KEY = "jet_partons"
"""Per-event truth (N, 6) int16: the object slot matched to each parton of :data:`PARTON_NAMES`, −1 for none."""


@dataclass(frozen=True)
class Particle:
    """One particle to reconstruct from jets.

    Attributes
    ----------
    name : str
    partons : tuple of int
        Columns of :data:`PARTON_NAMES`, in the order of the particle's jet tuple.
    symmetric : bool
        Whether the last two jets of the tuple are interchangeable.
    """

    name: str
    partons: tuple[int, ...]
    symmetric: bool

    @property
    def rank(self) -> int:
        """Jets per particle (the rank of its attention tensor)."""
        return len(self.partons)

    def canonical(self, jets: np.ndarray) -> np.ndarray:
        """``jets`` (..., rank) with the interchangeable pair in increasing order."""
        jets = np.array(jets, copy=True)
        if self.symmetric:
            pair = np.sort(jets[..., -2:], axis=-1)
            jets[..., -2:] = pair
        return jets


@dataclass(frozen=True)
class Topology:
    """The particles of one process's events."""

    name: str
    particles: tuple[Particle, ...]

    @property
    def n_jets(self) -> int:
        """Jets of a fully reconstructed event."""
        return sum(p.rank for p in self.particles)

    def targets(self, jet_partons: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """Each particle's canonical jet tuple and whether it is reconstructable.

        Parameters
        ----------
        jet_partons : ndarray, shape (N, 6)
            Object slot of every parton, −1 for none.

        Returns
        -------
        list of ndarray, each (N, rank)
            The canonical tuples (meaningless where not reconstructable).
        ndarray, shape (N, K), bool
            Particle k is reconstructable: all its partons have a jet.
        """
        jet_partons = np.asarray(jet_partons)
        tuples = [p.canonical(jet_partons[:, list(p.partons)]) for p in self.particles]
        present = np.stack([np.all(t >= 0, axis=1) for t in tuples], axis=1)
        return tuples, present


_T_HAD = Particle("t_had", (0, 1, 2), symmetric=True)
_T_LEP = Particle("t_lep", (3,), symmetric=False)
_HIGGS = Particle("higgs", (4, 5), symmetric=True)
TOPOLOGIES = {
    "tth": Topology("tth", (_T_HAD, _T_LEP, _HIGGS)),
    "ttbar": Topology("ttbar", (_T_HAD, _T_LEP)),
}
"""The topologies by process name."""


def topology(name: str) -> Topology:
    """The topology registered as ``name``; an unknown name lists the valid ones."""
    try:
        return TOPOLOGIES[name]
    except KeyError:
        raise UnknownNameError(f"unknown topology {name!r}; valid: {', '.join(TOPOLOGIES)}") from None
