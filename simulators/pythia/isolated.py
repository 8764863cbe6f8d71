"""Reconstruction with isolated leptons and photons, for final states without a known set of prompt leptons
(t t̄ H, t t̄ and any process whose leptons may come from heavy-flavour decays).

=====================  ===================================================================================
step                   definition
=====================  ===================================================================================
lepton candidates      final-state e± / μ± with p_T > 10 GeV (before smearing) inside the electron or muon
                       acceptance of :mod:`simulators.pythia.detector`
photon candidates      final-state photons with p_T > 20 GeV and |η| < 2.37
isolation              Σ p_T of the other visible final-state particles within ΔR < 0.3 below 0.15 · p_T
jets                   anti-kt R = 0.4 on the visible final-state particles other than the isolated leptons
                       and photons; b-tags, smearing and p_T > 25 GeV as in :mod:`simulators.pythia.detector`,
                       |η| < ``jet_eta_max`` (2.5)
smearing               leptons and jets as in :mod:`simulators.pythia.detector`; photons like electrons
MET                    −Σ p⃗_T of the accepted smeared jets, leptons and photons
=====================  ===================================================================================
"""

from __future__ import annotations

import numpy as np

from lfi.objects import delta_phi, eta, phi, pt

from .detector import (cluster_jets, flatten_record, lepton_acceptance, missing_momentum, pairs_within_events, smear,
                       visible_final)

__all__ = ["reconstruct_isolated", "ISOLATION"]

ISOLATION = {"radius": 0.3, "max_fraction": 0.15, "lepton_min_pt": 10.0, "photon_min_pt": 20.0, "photon_eta": 2.37}
"""Candidate thresholds (GeV) and the isolation cone of the module table."""


def _isolated(flat: dict, candidates: np.ndarray, visible: np.ndarray) -> np.ndarray:
    """Whether each candidate (global index) is isolated among the visible entries of its event."""
    if len(candidates) == 0:
        return np.zeros(0, bool)
    members = np.flatnonzero(visible)  # grouped by event, in record order
    member_event = flat["event"][members]
    start = np.searchsorted(member_event, np.arange(flat["n"]))
    count = np.bincount(member_event, minlength=flat["n"])
    item, member = pairs_within_events(flat["event"][candidates], start, count)
    p_member, p_candidate = flat["p"][members], flat["p"][candidates]
    member_eta, candidate_eta = eta(p_member), eta(p_candidate)  # once per particle, not per pair
    member_phi, candidate_phi = phi(p_member), phi(p_candidate)
    d_eta = member_eta[member] - candidate_eta[item]
    d_phi = delta_phi(member_phi[member], candidate_phi[item])
    inside = (d_eta**2 + d_phi**2 < ISOLATION["radius"] ** 2) & (members[member] != candidates[item])
    cone = np.bincount(item, weights=np.where(inside, pt(p_member)[member], 0.0), minlength=len(candidates))
    return cone < ISOLATION["max_fraction"] * pt(p_candidate)


def _pad_per_event(event: np.ndarray, values: np.ndarray, order_key: np.ndarray, n: int, slots: int):
    """Scatter ``values`` (K, ...) into (n, slots, ...) by event, highest ``order_key`` first; the rest is cut."""
    out = np.zeros((n, slots) + values.shape[1:], values.dtype)
    order = np.lexsort((-order_key, event))
    rank = np.arange(len(order)) - np.searchsorted(event[order], event[order])
    fits = rank < slots
    out[event[order][fits], rank[fits]] = values[order][fits]
    return out


def reconstruct_isolated(prt, rng: np.random.Generator, max_jets: int = 12, max_leptons: int = 4,
                         max_photons: int = 2, jet_eta_max: float = 2.5, b_efficiency: float = 0.70,
                         mistag: float = 0.01, jet_radius: float = 0.4) -> dict[str, np.ndarray]:
    """Reconstructed jets, isolated leptons and isolated photons of a batch of showered events.

    Parameters
    ----------
    prt : awkward Array
        ``nextBatch(...).prt`` of N events.
    rng : numpy Generator
        Randomness of smearing and tagging.
    max_jets, max_leptons, max_photons : int
        Objects kept per event of each kind (leading in p_T).
    jet_eta_max : float
        Jet acceptance in |η|.

    Returns
    -------
    dict
        ``jets`` (N, max_jets, 4), ``jet_btag`` (N, max_jets) bool; ``leptons`` (N, max_leptons, 4) smeared
        isolated leptons inside the acceptance, ``lepton_ids`` (N, max_leptons) PDG ids (0 = empty slot);
        ``photons`` (N, max_photons, 4); ``met``, ``met_phi`` (N,). Momenta in GeV, p_T-ordered, zero-padded.
    """
    flat = flatten_record(prt)
    n, p, ids = flat["n"], flat["p"], flat["id"]
    visible = visible_final(flat)
    # candidates among the visible e, μ and photons only (kinematics of a few per event, not of the record)
    kinds = np.flatnonzero(visible & np.isin(np.abs(ids), (11, 13, 22)))
    kind_pt, is_gamma = pt(p[kinds]), ids[kinds] == 22
    lepton_like = ~is_gamma & (kind_pt > ISOLATION["lepton_min_pt"])
    lepton_like[lepton_like] = lepton_acceptance(p[kinds[lepton_like]], ids[kinds[lepton_like]])
    photon_like = is_gamma & (kind_pt > ISOLATION["photon_min_pt"])
    photon_like[photon_like] = np.abs(eta(p[kinds[photon_like]])) < ISOLATION["photon_eta"]
    candidates = kinds[lepton_like | photon_like]
    isolated = candidates[_isolated(flat, candidates, visible)]
    is_photon = ids[isolated] == 22
    kind = np.where(is_photon | (np.abs(ids[isolated]) == 11), "electron", "muon")
    momenta = smear(p[isolated], kind, rng)
    inside = np.where(is_photon, True, lepton_acceptance(momenta, ids[isolated]))
    event = flat["event"][isolated]
    lep, pho = inside & ~is_photon, inside & is_photon
    leptons = _pad_per_event(event[lep], momenta[lep], pt(momenta[lep]), n, max_leptons)
    lepton_ids = _pad_per_event(event[lep], ids[isolated][lep].astype(np.int32), pt(momenta[lep]), n, max_leptons)
    photons = _pad_per_event(event[pho], momenta[pho], pt(momenta[pho]), n, max_photons)
    particles = visible.copy()
    particles[isolated] = False
    jets = cluster_jets(flat, particles, rng, max_jets=max_jets, eta_max=jet_eta_max, b_efficiency=b_efficiency,
                        mistag=mistag, jet_radius=jet_radius)
    sum_x, sum_y = jets.pop("jet_sum_px"), jets.pop("jet_sum_py")
    np.add.at(sum_x, event[inside], momenta[inside, 1])
    np.add.at(sum_y, event[inside], momenta[inside, 2])
    return {**jets, "leptons": leptons, "lepton_ids": lepton_ids, "photons": photons, **missing_momentum(sum_x, sum_y)}
