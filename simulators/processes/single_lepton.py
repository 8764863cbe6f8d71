"""Objects and selection of the semi-leptonic t t̄ (H) analysis (``tth``, ``ttbar``), in the spirit of
arXiv:2211.05143: up to 18 objects per event — jets (type 1), b-jets (2), e∓ (3, 4), μ∓ (5, 6), photons (7) —
ordered by p_T, plus MET and its φ.

=============  ===============================================================================================
selection      exactly one isolated e/μ, with p_T > 25 GeV (no second isolated lepton above 10 GeV);
               ≥ 4 jets (p_T > 25 GeV, |η| < 2.5) of which ≥ 2 b-tagged; H_T = Σ p_T(jets) > 250 GeV
observables    ``ht`` (GeV), ``n_jets``, ``n_bjets``, ``lepton_pt`` (GeV), ``m_bb`` (GeV, the two leading
               b-jets; 0 with fewer), ``met`` (GeV)
=============  ===============================================================================================
"""

from __future__ import annotations

import numpy as np

from lfi.objects import BJET, JET, PAD, PHOTON, lepton_types, mass, pt

__all__ = ["assemble_single_lepton", "SINGLE_LEPTON_SELECTION", "SEMILEPTONIC_W_DECAYS", "LEPTON_PT_MIN", "HT_MIN",
           "semileptonic_process"]

LEPTON_PT_MIN = 25.0
HT_MIN = 250.0
SINGLE_LEPTON_SELECTION = (f"exactly 1 isolated e/mu (pT > {LEPTON_PT_MIN:g} GeV), >= 4 jets (pT > 25 GeV, |eta| < 2.5), "
                           f">= 2 b-tags, H_T > {HT_MIN:g} GeV")


def _leading_pair_mass(jets: np.ndarray, tagged: np.ndarray) -> np.ndarray:
    """Invariant mass (GeV) of the two leading tagged jets of each event; 0 with fewer than two."""
    rank = np.cumsum(tagged, axis=1) * tagged  # 1 for the leading tagged jet, 2 for the next
    pair = np.einsum("nj,njk->nk", (rank == 1) | (rank == 2), jets)
    return np.where(tagged.sum(axis=1) >= 2, mass(pair), 0.0)


def assemble_single_lepton(objects: dict[str, np.ndarray]):
    """Event arrays and the selection from :func:`simulators.pythia.isolated.reconstruct_isolated` output.

    Returns
    -------
    momenta : ndarray, shape (N, J + L + G, 4)
        GeV, p_T-ordered, zero-padded.
    types : ndarray, shape (N, J + L + G), int8
    globals_ : ndarray, shape (N, 2)
        ``met`` (GeV), ``met_phi``.
    observables : dict of str to ndarray, shape (N,)
    cuts : list of (str, ndarray of bool, shape (N,))
        The selection steps in order, for :func:`lfi.events.cutflow.apply_cuts`.
    """
    jets, btag = objects["jets"], objects["jet_btag"]
    leptons, ids, photons = objects["leptons"], objects["lepton_ids"], objects["photons"]
    has_jet = jets[..., 0] > 0
    jet_types = np.where(has_jet, np.where(btag, BJET, JET), PAD).astype(np.int8)
    photon_types = np.where(photons[..., 0] > 0, PHOTON, PAD).astype(np.int8)
    momenta = np.concatenate([jets, leptons, photons], axis=1)
    types = np.concatenate([jet_types, lepton_types(ids), photon_types], axis=1)
    order = np.argsort(-np.where(types != PAD, pt(momenta), -1.0), axis=1, kind="stable")
    momenta = np.take_along_axis(momenta, order[..., None], axis=1)
    types = np.take_along_axis(types, order, axis=1)
    n_jets = has_jet.sum(axis=1)
    n_bjets = (has_jet & btag).sum(axis=1)
    lepton_pt = pt(leptons)
    ht = np.sum(pt(jets) * has_jet, axis=1)
    cuts = [
        ("1 isolated lepton", (lepton_pt[:, 0] > LEPTON_PT_MIN) & (ids[:, 1] == 0)),
        ("≥ 4 jets", n_jets >= 4),
        ("≥ 2 b-tags", n_bjets >= 2),
        (f"H_T > {HT_MIN:g} GeV", ht > HT_MIN),
    ]
    observables = {
        "ht": ht,
        "n_jets": n_jets.astype(np.float64),
        "n_bjets": n_bjets.astype(np.float64),
        "lepton_pt": lepton_pt[:, 0],
        "m_bb": _leading_pair_mass(jets, has_jet & btag),
        "met": objects["met"],
    }
    globals_ = np.stack([objects["met"], objects["met_phi"]], axis=1).astype(np.float32)
    return momenta, types, globals_, observables, cuts


SEMILEPTONIC_W_DECAYS = (
    ("24:onMode = off", "24:onPosIfAny = 11 13", "24:onNegIfAny = 1 2 3 4 5"),
    ("24:onMode = off", "24:onPosIfAny = 1 2 3 4 5", "24:onNegIfAny = 11 13"),
)
"""The two charge configurations of a semi-leptonic t t̄ decay (W⁺ → e/μ ν with W⁻ → quarks, and the swap):
two Pythia runs of equal σ whose cross sections add (docs/generator.md §6)."""


def semileptonic_process(name: str, description: str, production: tuple[str, ...]):
    """A semi-leptonic t t̄ (+ X) process: ``production`` settings run in both charge configurations, isolated
    objects, the selection above, and the jet matched to each parton of the top (and Higgs) decays as per-event
    truth (docs/assignment.md §1)."""
    from .pipeline import Process

    return Process(name=name, description=description,
                   configurations=tuple(production + w for w in SEMILEPTONIC_W_DECAYS), reconstruction="isolated",
                   assemble=assemble_single_lepton, selection=SINGLE_LEPTON_SELECTION, partons="top_decays")
