"""Jet–parton assignment (docs/assignment.md): which reconstructed jets are the decay products of the tops and
the Higgs boson of a t t̄ (H) event. NumPy only; the attention head lives in :mod:`estimators.assignment`.

Public API
----------
PARTON_NAMES, Particle, Topology, TOPOLOGIES, topology   the particles of an event and their partons
match_partons                                          truth matching by ΔR (unique, greedy)
Chi2Assignment                                         the χ² permutation fit on the top, W and H masses
efficiency_table, reconstructable_fractions            the efficiency table by jet multiplicity
candidate_observables                                  kinematics of the assigned top, W and Higgs candidates
"""

from __future__ import annotations

from lfi._lazy import lazy_attributes

from .topology import PARTON_NAMES, TOPOLOGIES, Particle, Topology, topology

__all__ = ["PARTON_NAMES", "Particle", "Topology", "TOPOLOGIES", "topology", "match_partons", "Chi2Assignment",
           "efficiency_table", "reconstructable_fractions", "candidate_observables"]

__getattr__, __dir__ = lazy_attributes(__name__, {
    "match_partons": "lfi.assignment.matching",
    "Chi2Assignment": "lfi.assignment.chi2",
    "efficiency_table": "lfi.assignment.efficiency",
    "reconstructable_fractions": "lfi.assignment.efficiency",
    "candidate_observables": "lfi.assignment.candidates",
})
