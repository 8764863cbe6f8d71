"""The partons of the hard process of a t t̄ (H) event, read from the Pythia event record, for jet–parton
assignment (docs/assignment.md §1).

The decay products are taken from the event record after initial-state recoil: the daughters of the *last* copy
of each top, W and Higgs boson (status −23 or 23), not the ``process`` record, whose momenta precede the recoil
(docs/generator.md §8). Their momenta are those at the decay, before final-state radiation.

==========  ==========================================================================================
slot        parton
==========  ==========================================================================================
0 ``b_had``   the b of the top whose W decays to quarks (an s or d quark in the rare t → W s, W d decays)
1 ``q1``      the harder (p_T) quark of that W
2 ``q2``      the other quark of that W
3 ``b_lep``   the b of the top whose W decays to a lepton and a neutrino
4 ``b1_h``    the b of H → b b̄ (absent without a Higgs boson)
5 ``b2_h``    the b̄ of H → b b̄
==========  ==========================================================================================
"""

from __future__ import annotations

import numpy as np

from lfi.assignment import PARTON_NAMES
from lfi.objects import pt

from .detector import flatten_record

__all__ = ["top_decay_partons"]

_TOP, _W, _HIGGS, _B = 6, 24, 25, 5


def _last_copies(flat: dict, index: np.ndarray) -> np.ndarray:
    """Follow global indices to the last copy of the same particle (the copy whose daughters have other ids)."""
    index = index.copy()
    for _ in range(200):
        d1, d2 = flat["d1"][index], flat["d2"][index]
        same1, same2 = flat["id"][d1] == flat["id"][index], flat["id"][d2] == flat["id"][index]
        moving = same1 | same2
        if not moving.any():
            return index
        index = np.where(same1, d1, np.where(same2, d2, index))
    raise RuntimeError("a resonance has more than 200 copies in the event record")


def _daughter_pair(flat: dict, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two daughters (global indices) of each decayed entry; a decay into other than two is an error."""
    d1, d2 = flat["d1"][index], flat["d2"][index]
    if np.any(d2 != d1 + 1):
        raise RuntimeError("expected two-body decays of the tops, W bosons and Higgs boson in the event record")
    return d1, d2


def top_decay_partons(prt) -> dict[str, np.ndarray]:
    """The six partons of the module table for a batch of semi-leptonic t t̄ (H) events.

    Parameters
    ----------
    prt : awkward Array
        ``nextBatch(...).prt`` of N events, each with one t t̄ pair decaying semi-leptonically (and optionally
        one Higgs boson decaying to b b̄).

    Returns
    -------
    dict
        ``partons`` (N, 6, 4) four-momenta (E, px, py, pz) in GeV, zero where absent; ``parton_present`` (N, 6)
        bool.

    Raises
    ------
    RuntimeError
        When an event does not hold exactly two tops, one hadronic and one leptonic W, at most one Higgs boson.
    """
    flat = flatten_record(prt)
    n, ids, event = flat["n"], flat["id"], flat["event"]
    partons = np.zeros((n, len(PARTON_NAMES), 4))
    present = np.zeros((n, len(PARTON_NAMES)), bool)
    first_tops = np.flatnonzero((np.abs(ids) == _TOP) & (np.abs(ids[flat["mother"]]) != _TOP))
    tops = np.unique(_last_copies(flat, first_tops))
    if len(tops) != 2 * n or np.any(np.bincount(event[tops], minlength=n) != 2):
        raise RuntimeError(f"expected one t t̄ pair per event, found {len(tops)} tops in {n} events")
    a, b = _daughter_pair(flat, tops)
    w_first = np.where(np.abs(ids[a]) == _W, a, b)
    bottom = np.where(np.abs(ids[a]) == _W, b, a)  # a b quark, or rarely (|V_ts|, |V_td|) an s or d quark
    if np.any(np.abs(ids[w_first]) != _W) or np.any(np.abs(ids[bottom]) > _B):
        raise RuntimeError("expected every top to decay to W and a down-type quark in the event record")
    q_a, q_b = _daughter_pair(flat, _last_copies(flat, w_first))
    hadronic = (np.abs(ids[q_a]) <= _B) & (np.abs(ids[q_b]) <= _B)
    if np.any(np.bincount(event[tops], weights=hadronic, minlength=n) != 1):
        raise RuntimeError("expected exactly one hadronically decaying W per event (semi-leptonic t t̄)")
    had, lep = hadronic, ~hadronic
    partons[event[tops[had]], 0] = flat["p"][bottom[had]]
    harder = pt(flat["p"][q_a[had]]) >= pt(flat["p"][q_b[had]])
    partons[event[tops[had]], 1] = flat["p"][np.where(harder, q_a[had], q_b[had])]
    partons[event[tops[had]], 2] = flat["p"][np.where(harder, q_b[had], q_a[had])]
    partons[event[tops[lep]], 3] = flat["p"][bottom[lep]]
    present[:, :4] = True
    first_higgs = np.flatnonzero((ids == _HIGGS) & (ids[flat["mother"]] != _HIGGS))
    if len(first_higgs):
        higgs = np.unique(_last_copies(flat, first_higgs))
        if np.any(np.bincount(event[higgs], minlength=n) > 1):
            raise RuntimeError("expected at most one Higgs boson per event")
        h_a, h_b = _daughter_pair(flat, higgs)
        if np.any(np.abs(ids[h_a]) != _B) or np.any(np.abs(ids[h_b]) != _B):
            raise RuntimeError("expected H → b b̄ in the event record")
        quark_first = ids[h_a] > 0
        partons[event[higgs], 4] = flat["p"][np.where(quark_first, h_a, h_b)]
        partons[event[higgs], 5] = flat["p"][np.where(quark_first, h_b, h_a)]
        present[event[higgs], 4:] = True
    return {"partons": partons, "parton_present": present}
