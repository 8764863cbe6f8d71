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

__all__ = [
    "reconstruct", "flatten_record", "visible_final", "cluster_jets", "missing_momentum", "lepton_acceptance", "smear",
    "pairs_within_events",
    "RESOLUTION", "ACCEPTANCE",
]

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


def smear(p: np.ndarray, kind: np.ndarray, rng: np.random.Generator) -> np.ndarray:
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


def flatten_record(prt) -> dict[str, np.ndarray]:
    """The awkward ``nextBatch`` record of N events as flat NumPy arrays with global indices.

    Returns
    -------
    dict
        ``id``, ``status``, ``d1``, ``d2``, ``mother`` (global indices), ``p`` (M, 4) (E, px, py, pz) in GeV,
        ``event`` (M,) event index of each entry, ``offsets`` (N,) first entry of each event, ``n`` (int).
    """
    import awkward as ak

    counts = ak.to_numpy(ak.num(prt.id))
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    shift = np.repeat(offsets, counts)
    return {
        "id": ak.to_numpy(ak.flatten(prt.id)),
        "status": ak.to_numpy(ak.flatten(prt.status)),
        "d1": ak.to_numpy(ak.flatten(prt.daughter1)) + shift,
        "d2": ak.to_numpy(ak.flatten(prt.daughter2)) + shift,
        "mother": ak.to_numpy(ak.flatten(prt.mother1)) + shift,
        "p": np.stack([ak.to_numpy(ak.flatten(getattr(prt.p, c))) for c in ("e", "px", "py", "pz")], axis=1),
        "event": np.repeat(np.arange(len(counts)), counts),
        "offsets": offsets,
        "n": len(counts),
    }


def visible_final(flat: dict) -> np.ndarray:
    """Mask of the visible final-state entries (status > 0, not a neutrino), shape (M,)."""
    return (flat["status"] > 0) & ~np.isin(np.abs(flat["id"]), _INVISIBLE)


def _last_b_hadrons(flat: dict, min_pt: float) -> np.ndarray:
    """Global indices of the B hadrons above ``min_pt`` (GeV) without a B-hadron daughter."""
    b_idx = np.flatnonzero(_is_b_hadron(flat["id"]))
    b_idx = b_idx[pt(flat["p"][b_idx]) > min_pt]
    if len(b_idx) == 0:
        return b_idx
    d1, d2 = flat["d1"][b_idx], flat["d2"][b_idx]
    own_event = d1 > flat["offsets"][flat["event"][b_idx]]  # daughter1 = 0 (no daughter) points at the event start
    has_b_daughter = np.zeros(len(b_idx), bool)
    for k in range(min(int(np.max(d2 - d1, initial=0)), 30) + 1):
        child = np.minimum(d1 + k, len(flat["id"]) - 1)
        has_b_daughter |= (d1 + k <= d2) & own_event & _is_b_hadron(flat["id"][child])
    return b_idx[~has_b_daughter]


def pairs_within_events(owner: np.ndarray, start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (item, member) pairs where member runs over ``start[owner] .. start[owner] + count[owner]``.

    ``owner`` (K,) is the event of each item; ``start``, ``count`` (N,) describe each event's block of members.
    Returns the item index (repeated) and the member index of every pair, both shape (Σ count[owner],).
    """
    per_item = count[owner]
    item = np.repeat(np.arange(len(owner)), per_item)
    first = np.repeat(start[owner], per_item)
    within = np.arange(len(item)) - np.repeat(np.cumsum(per_item) - per_item, per_item)
    return item, first + within


def cluster_jets(flat: dict, particles: np.ndarray, rng: np.random.Generator, *, max_jets: int = 8,
                 eta_max: float = ACCEPTANCE["jet"][1], b_efficiency: float = 0.70, mistag: float = 0.01,
                 jet_radius: float = 0.4) -> dict[str, np.ndarray]:
    """Anti-kt jets of the chosen particles, b-tagged, smeared and accepted (see the module table).

    Parameters
    ----------
    flat : dict
        From :func:`flatten_record`.
    particles : ndarray of bool, shape (M,)
        The entries to cluster.
    max_jets : int
        Jets kept per event (leading in p_T).
    eta_max : float
        Jet acceptance in |η| (p_T > 25 GeV always).

    Returns
    -------
    dict
        ``jets`` (N, max_jets, 4) smeared, p_T-ordered, zero-padded (GeV); ``jet_btag`` (N, max_jets) bool;
        ``jet_sum_px``, ``jet_sum_py`` (N,): Σ p_x, Σ p_y of all accepted jets (also beyond ``max_jets``), GeV.
    """
    import awkward as ak

    fastjet = _fastjet()
    n, p = flat["n"], flat["p"]
    cluster_input = ak.unflatten(
        ak.zip({"px": p[particles, 1], "py": p[particles, 2], "pz": p[particles, 3], "E": p[particles, 0]}),
        np.bincount(flat["event"][particles], minlength=n),
    )
    sequence = fastjet.ClusterSequence(cluster_input, fastjet.JetDefinition(fastjet.antikt_algorithm, jet_radius))
    raw = sequence.inclusive_jets(min_pt=0.5 * ACCEPTANCE["jet"][0])
    n_raw = ak.to_numpy(ak.num(raw))
    raw_p = np.stack([ak.to_numpy(ak.flatten(raw[c])) for c in ("E", "px", "py", "pz")], axis=1).reshape(-1, 4)
    smeared = smear(raw_p, np.full(len(raw_p), "jet"), rng)
    jet_event = np.repeat(np.arange(n), n_raw)
    # b-tagging: a jet within ΔR < R of a last B hadron of its event
    b_idx = _last_b_hadrons(flat, 5.0)
    has_b = np.zeros(len(smeared), bool)
    if len(b_idx):
        jet_start = np.concatenate([[0], np.cumsum(n_raw)[:-1]])
        hadron, jet = pairs_within_events(flat["event"][b_idx], jet_start, n_raw)
        close = delta_r(raw_p[jet], p[b_idx][hadron]) < jet_radius
        has_b[jet[close]] = True
    tagged = rng.uniform(size=len(smeared)) < np.where(has_b, b_efficiency, mistag)
    jet_pt = pt(smeared)
    keep = (jet_pt > ACCEPTANCE["jet"][0]) & (np.abs(eta(smeared)) < eta_max)
    jets = np.zeros((n, max_jets, 4))
    btag = np.zeros((n, max_jets), bool)
    order = np.lexsort((-jet_pt, jet_event))
    order = order[keep[order]]
    rank = np.arange(len(order)) - np.searchsorted(jet_event[order], jet_event[order])
    fits = rank < max_jets
    jets[jet_event[order][fits], rank[fits]] = smeared[order][fits]
    btag[jet_event[order][fits], rank[fits]] = tagged[order][fits]
    sum_x, sum_y = np.zeros(n), np.zeros(n)
    np.add.at(sum_x, jet_event[keep], smeared[keep, 1])
    np.add.at(sum_y, jet_event[keep], smeared[keep, 2])
    return {"jets": jets, "jet_btag": btag, "jet_sum_px": sum_x, "jet_sum_py": sum_y}


def missing_momentum(sum_x: np.ndarray, sum_y: np.ndarray) -> dict[str, np.ndarray]:
    """``met`` (GeV) and ``met_phi`` of −(Σ p_x, Σ p_y) of the accepted objects, each shape (N,)."""
    return {"met": np.hypot(sum_x, sum_y), "met_phi": np.arctan2(-sum_y, -sum_x)}


def reconstruct(prt, rng: np.random.Generator, max_jets: int = 8, b_efficiency: float = 0.70,
                mistag: float = 0.01, jet_radius: float = 0.4, dressing_radius: float = 0.1) -> dict[str, np.ndarray]:
    """Reconstructed objects of a batch of showered events with four prompt leptons (see the module table).

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
    flat = flatten_record(prt)
    n = flat["n"]
    # prompt leptons: hard-process order by mother (Z) then l- before l+, as in generate._hard_from_batch
    hard = np.flatnonzero((np.abs(flat["status"]) == 23) & np.isin(np.abs(flat["id"]), (11, 13)))
    if len(hard) != 4 * n:
        raise RuntimeError(f"expected 4 hard-process leptons per event, found {len(hard)} in {n} events")
    key = flat["event"][hard] * 10**9 + flat["mother"][hard] * 2 + (flat["id"][hard] < 0)
    hard = hard[np.argsort(key, kind="stable")].reshape(n, 4)
    final = _final_copies(flat, hard.ravel()).reshape(n, 4)
    lepton_ids = flat["id"][final]
    dressed, used = _dress(flat, final, flat["event"], dressing_radius)
    kind = np.where(np.abs(lepton_ids) == 11, "electron", "muon")
    leptons = smear(dressed.reshape(-1, 4), kind.ravel(), rng).reshape(n, 4, 4)
    accepted = lepton_acceptance(leptons, lepton_ids)
    # jets from all other visible final-state particles
    particles = visible_final(flat)
    particles[final.ravel()] = False
    particles[used] = False
    jets = cluster_jets(flat, particles, rng, max_jets=max_jets, b_efficiency=b_efficiency, mistag=mistag,
                        jet_radius=jet_radius)
    sum_x = jets.pop("jet_sum_px") + np.sum(leptons[..., 1] * accepted, axis=1)
    sum_y = jets.pop("jet_sum_py") + np.sum(leptons[..., 2] * accepted, axis=1)
    return {
        **jets,
        "leptons": leptons,
        "lepton_ids": lepton_ids.astype(np.int32),
        "lepton_accepted": accepted,
        **missing_momentum(sum_x, sum_y),
    }


def lepton_acceptance(momenta: np.ndarray, pdg_ids: np.ndarray) -> np.ndarray:
    """Whether each (smeared) lepton is inside the electron or muon acceptance of the module table.

    Parameters
    ----------
    momenta : ndarray, shape (..., 4)
        GeV.
    pdg_ids : ndarray, shape (...)
        ±11 or ±13.
    """
    lep_pt, lep_eta = pt(momenta), np.abs(eta(momenta))
    return np.where(
        np.abs(pdg_ids) == 11,
        (lep_pt > ACCEPTANCE["electron"][0]) & (lep_eta < ACCEPTANCE["electron"][1]),
        (lep_pt > ACCEPTANCE["muon"][0]) & (lep_eta < ACCEPTANCE["muon"][1]),
    )
