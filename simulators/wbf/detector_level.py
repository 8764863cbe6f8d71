"""Detector-level WBF events: objects, globals, observables and the selection, from reconstructed chunks.

Selection: at least two jets (p_T > 25 GeV, |η| < 4.5) and all four prompt leptons accepted
(:mod:`simulators.pythia.detector`). Objects are the accepted jets (type 1, or 2 if b-tagged) and the four
leptons (3 e⁻, 4 e⁺, 5 μ⁻, 6 μ⁺), ordered by p_T; observables use the two leading jets.
"""

from __future__ import annotations

import numpy as np

from lfi.objects import BJET, JET, PAD, lepton_types, pt

from .observables import wbf_observables

__all__ = ["detector_objects"]


def detector_objects(objects: dict[str, np.ndarray]):
    """Event-sample arrays from :func:`simulators.pythia.detector.reconstruct` output.

    Returns
    -------
    momenta : ndarray, shape (N, J + 4, 4)
    types : ndarray, shape (N, J + 4), int8
    globals_ : ndarray, shape (N, 2): met (GeV), met_phi
    observables : dict of str to ndarray, shape (N,)
    cuts : list of (str, ndarray of bool, shape (N,))
        The selection steps in order (four leptons, two jets), for :func:`lfi.events.cutflow.apply_cuts`.
    """
    jets, btag = objects["jets"], objects["jet_btag"]
    leptons, ids = objects["leptons"], objects["lepton_ids"]
    n, n_jets = len(jets), jets.shape[1]
    has_jet = jets[..., 0] > 0
    cuts = [("4 leptons", objects["lepton_accepted"].all(axis=1)), ("≥ 2 jets", has_jet.sum(axis=1) >= 2)]
    momenta = np.concatenate([jets, leptons], axis=1)
    types = np.zeros((n, n_jets + 4), np.int8)
    types[:, :n_jets] = np.where(has_jet, np.where(btag, BJET, JET), PAD)
    types[:, n_jets:] = lepton_types(ids)
    pts = np.where(types != PAD, pt(momenta), -1.0)
    order = np.argsort(-pts, axis=1, kind="stable")
    momenta = np.take_along_axis(momenta, order[..., None], axis=1)
    types = np.take_along_axis(types, order, axis=1)
    pair_ids = np.abs(ids[:, [0, 2]])
    observables = wbf_observables(jets[:, :2], leptons, pair_ids)
    globals_ = np.stack([objects["met"], objects["met_phi"]], axis=1).astype(np.float32)
    return momenta, types, globals_, observables, cuts
