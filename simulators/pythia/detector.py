"""From a showered Pythia event record to reconstructed objects: prompt leptons, anti-kt jets, b-tags, a simple
Gaussian detector and missing transverse momentum.

Input is the awkward record of ``Pythia.nextBatch`` (fields ``id, status, daughter1, daughter2, p``).

=====================  ===================================================================================
step                   definition
=====================  ===================================================================================
prompt leptons         the hard-process leptons (status ±23, e or μ) followed to their final copies
                       (after QED radiation), dressed with the final-state photons within ΔR < 0.1
jets                   anti-kt R = 0.4 (fastjet) on all other visible final-state particles (no neutrinos)
b-tagging              a jet containing a last B hadron with p_T > 5 GeV within ΔR < 0.4 is tagged with
                       probability ``b_efficiency`` (0.70); other jets with ``mistag`` (0.01)
smearing (Gaussian)    jets σ_E/E = 50 %/√(E/GeV) ⊕ 3 %; electrons σ_E/E = 10 %/√(E/GeV) ⊕ 0.7 %;
                       muons σ_pT/pT = 1 % ⊕ 1e-4·p_T/GeV; the four-momentum is scaled, direction kept
acceptance (smeared)   jets p_T > 25 GeV, |η| < 4.5; electrons p_T > 7 GeV, |η| < 2.47; muons p_T > 5 GeV,
                       |η| < 2.7
MET                    −Σ p⃗_T of the accepted smeared jets and leptons
=====================  ===================================================================================
"""

from __future__ import annotations

import numpy as np

from lfi.objects import delta_r, eta, pt

__all__ = ["reconstruct", "RESOLUTION", "ACCEPTANCE"]

RESOLUTION = {"jet": (0.50, 0.03), "electron": (0.10, 0.007), "muon": (0.01, 1e-4)}
ACCEPTANCE = {"jet": (25.0, 4.5), "electron": (7.0, 2.47), "muon": (5.0, 2.7)}
_INVISIBLE = (12, 14, 16)
_FASTJET_READY = False


def _fastjet():
    """Import fastjet, with its banner (printed on first clustering, to fd 1) silenced once."""
    global _FASTJET_READY
    import awkward as ak
    import fastjet

    if not _FASTJET_READY:
        from .runner import silenced

        with silenced():
            dummy = ak.Array([[{"px": 1.0, "py": 0.0, "pz": 0.0, "E": 1.0}]])
            fastjet.ClusterSequence(dummy, fastjet.JetDefinition(fastjet.antikt_algorithm, 0.4)).inclusive_jets()
        _FASTJET_READY = True
    return fastjet


def _final_copies(flat: dict, start: np.ndarray) -> np.ndarray:
    """Follow global indices down the record to the final copy of the same particle (same id, status > 0)."""
    index = start.copy()
    for _ in range(100):
        moving = flat["status"][index] < 0
        if not moving.any():
            return index
        cur = index[moving]
        d1, d2 = flat["d1"][cur], flat["d2"][cur]
        same1 = flat["id"][d1] == flat["id"][cur]
        same2 = flat["id"][d2] == flat["id"][cur]
        nxt = np.where(same1, d1, np.where(same2, d2, cur))
        stuck = nxt == cur
        if stuck.any():
            raise RuntimeError("could not follow a hard-process lepton to its final copy in the event record")
        index[moving] = nxt
    raise RuntimeError("lepton history deeper than 100 copies in the event record")


def _is_b_hadron(pid: np.ndarray) -> np.ndarray:
    a = np.abs(pid)
    return ((a // 100) % 10 == 5) | ((a // 1000) % 10 == 5)


def _smear(p: np.ndarray, kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Scale four-momenta (M, 4) by 1 + N(0, σ) with the resolution of each object kind ("jet", "electron", "muon")."""
    e = np.maximum(p[:, 0], 1e-9)
    ptv = pt(p)
    sigma = np.zeros(len(p))
    for name, (a, b) in RESOLUTION.items():
        sel = kind == name
        if name == "muon":
            sigma[sel] = np.hypot(a, b * ptv[sel])
        else:
            sigma[sel] = np.hypot(a / np.sqrt(e[sel]), b)
    factor = np.maximum(1.0 + sigma * rng.standard_normal(len(p)), 0.0)
    return p * factor[:, None]


def _dress(flat: dict, final: np.ndarray, event_of: np.ndarray, radius: float):
    """Add final-state photons within ΔR < radius to the nearest prompt lepton; returns (N, 4, 4) and photon indices."""
    leptons = flat["p"][final].copy()  # (N, 4, 4)
    photons = np.flatnonzero((flat["status"] > 0) & (flat["id"] == 22))
    if len(photons) == 0:
        return leptons, photons
    pg = flat["p"][photons]
    lep = leptons[event_of[photons]]  # (M, 4, 4)
    dr = delta_r(lep, pg[:, None])
    nearest = np.argmin(dr, axis=1)
    close = dr[np.arange(len(photons)), nearest] < radius
    np.add.at(leptons, (event_of[photons][close], nearest[close]), pg[close])
    return leptons, photons[close]


def reconstruct(prt, rng: np.random.Generator, max_jets: int = 8, b_efficiency: float = 0.70,
                mistag: float = 0.01, jet_radius: float = 0.4, dressing_radius: float = 0.1) -> dict[str, np.ndarray]:
    """Reconstructed objects of a batch of showered events (see the module table).

    Parameters
    ----------
    prt : awkward Array
        ``nextBatch(...).prt`` of N events.
    rng : numpy Generator
        Randomness of smearing and tagging.
    max_jets : int
        Jets kept per event (leading in p_T).

    Returns
    -------
    dict
        ``jets`` (N, max_jets, 4) smeared, accepted, p_T-ordered, zero-padded (GeV); ``jet_btag`` (N, max_jets)
        bool; ``leptons`` (N, 4, 4) smeared prompt leptons in hard-process order (ℓ_a⁻, ℓ_a⁺, ℓ_b⁻, ℓ_b⁺);
        ``lepton_ids`` (N, 4); ``lepton_accepted`` (N, 4) bool; ``met``, ``met_phi`` (N,).
    """
    import awkward as ak

    fastjet = _fastjet()
    counts = ak.to_numpy(ak.num(prt.id))
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    flat = {
        "id": ak.to_numpy(ak.flatten(prt.id)),
        "status": ak.to_numpy(ak.flatten(prt.status)),
        "d1": ak.to_numpy(ak.flatten(prt.daughter1)) + np.repeat(offsets, counts),
        "d2": ak.to_numpy(ak.flatten(prt.daughter2)) + np.repeat(offsets, counts),
        "p": np.stack([ak.to_numpy(ak.flatten(getattr(prt.p, c))) for c in ("e", "px", "py", "pz")], axis=1),
    }
    n = len(counts)
    # prompt leptons: hard-process order by mother (Z) then l- before l+, as in generate._hard_from_batch
    mother = ak.to_numpy(ak.flatten(prt.mother1)) + np.repeat(offsets, counts)
    hard = np.flatnonzero((np.abs(flat["status"]) == 23) & np.isin(np.abs(flat["id"]), (11, 13)))
    event = np.repeat(np.arange(n), counts)[hard]
    key = event * 10**9 + mother[hard] * 2 + (flat["id"][hard] < 0)
    hard = hard[np.argsort(key, kind="stable")].reshape(n, 4)
    final = _final_copies(flat, hard.ravel()).reshape(n, 4)
    lepton_ids = flat["id"][final]
    event_of = np.repeat(np.arange(n), counts)
    dressed, used = _dress(flat, final, event_of, dressing_radius)
    kind = np.where(np.abs(lepton_ids) == 11, "electron", "muon")
    leptons = _smear(dressed.reshape(-1, 4), kind.ravel(), rng).reshape(n, 4, 4)
    lep_pt, lep_eta = pt(leptons), np.abs(eta(leptons))
    is_e = np.abs(lepton_ids) == 11
    accepted = np.where(
        is_e,
        (lep_pt > ACCEPTANCE["electron"][0]) & (lep_eta < ACCEPTANCE["electron"][1]),
        (lep_pt > ACCEPTANCE["muon"][0]) & (lep_eta < ACCEPTANCE["muon"][1]),
    )
    # jets from all other visible final-state particles
    visible = (flat["status"] > 0) & ~np.isin(np.abs(flat["id"]), _INVISIBLE)
    visible[final.ravel()] = False
    visible[used] = False
    p = flat["p"]
    particles = ak.unflatten(
        ak.zip({"px": p[visible, 1], "py": p[visible, 2], "pz": p[visible, 3], "E": p[visible, 0]}),
        np.bincount(np.repeat(np.arange(n), counts)[visible], minlength=n),
    )
    sequence = fastjet.ClusterSequence(particles, fastjet.JetDefinition(fastjet.antikt_algorithm, jet_radius))
    raw = sequence.inclusive_jets(min_pt=0.5 * ACCEPTANCE["jet"][0])
    n_raw = ak.to_numpy(ak.num(raw))
    raw_p = np.stack([ak.to_numpy(ak.flatten(raw[c])) for c in ("E", "px", "py", "pz")], axis=1)
    smeared = _smear(raw_p, np.full(len(raw_p), "jet"), rng)
    jet_event = np.repeat(np.arange(n), n_raw)
    # b-tagging by ΔR to last B hadrons
    b_idx = np.flatnonzero(_is_b_hadron(flat["id"]) & (pt(p) > 5.0))
    if len(b_idx):
        d1, d2 = flat["d1"][b_idx], flat["d2"][b_idx]
        has_b_daughter = np.zeros(len(b_idx), bool)
        for k in range(min(int(np.max(d2 - d1, initial=0)), 30) + 1):
            child = np.minimum(d1 + k, len(flat["id"]) - 1)
            has_b_daughter |= (d1 + k <= d2) & (d1 > np.repeat(offsets, counts)[b_idx]) & _is_b_hadron(flat["id"][child])
        b_idx = b_idx[~has_b_daughter]
    b_event = np.repeat(np.arange(n), counts)[b_idx]
    has_b = np.zeros(len(smeared), bool)
    for ev_b, pb in zip(b_event, p[b_idx]):
        sel = np.flatnonzero(jet_event == ev_b)
        has_b[sel[delta_r(raw_p[sel], pb) < jet_radius]] = True
    tagged = rng.uniform(size=len(smeared)) < np.where(has_b, b_efficiency, mistag)
    jet_pt = pt(smeared)
    keep = (jet_pt > ACCEPTANCE["jet"][0]) & (np.abs(eta(smeared)) < ACCEPTANCE["jet"][1])
    jets = np.zeros((n, max_jets, 4))
    btag = np.zeros((n, max_jets), bool)
    order = np.lexsort((-jet_pt, jet_event))
    order = order[keep[order]]
    rank = np.arange(len(order)) - np.searchsorted(jet_event[order], jet_event[order])
    fits = rank < max_jets
    jets[jet_event[order][fits], rank[fits]] = smeared[order][fits]
    btag[jet_event[order][fits], rank[fits]] = tagged[order][fits]
    # missing transverse momentum of the accepted objects
    sum_x = np.zeros(n)
    sum_y = np.zeros(n)
    np.add.at(sum_x, jet_event[keep], smeared[keep, 1])
    np.add.at(sum_y, jet_event[keep], smeared[keep, 2])
    sum_x += np.sum(leptons[..., 1] * accepted, axis=1)
    sum_y += np.sum(leptons[..., 2] * accepted, axis=1)
    return {
        "jets": jets,
        "jet_btag": btag,
        "leptons": leptons,
        "lepton_ids": lepton_ids.astype(np.int32),
        "lepton_accepted": accepted,
        "met": np.hypot(sum_x, sum_y),
        "met_phi": np.arctan2(-sum_y, -sum_x),
    }
