"""Object lists: from flat per-object arrays to the padded, pT-ordered arrays of the event contract.

Shapes: N events, P object slots, K objects in total over all events (a flat, jagged layout where
``counts[i]`` objects belong to event ``i``). Momenta are (E, px, py, pz) in GeV; type codes and the
kinematics of four-momenta are those of :mod:`lfi.objects` (0 pad, 1 jet, 2 b-jet, 3 e−, 4 e+, 5 μ−,
6 μ+, 7 photon).
"""

from __future__ import annotations

import numpy as np

from lfi.objects import ANTIMUON, BJET, ELECTRON, JET, delta_phi, eta, mass, phi, pt

__all__ = [
    "order_objects",
    "scatter_objects",
    "pad_objects",
    "missing_et",
    "standard_observables",
    "OBSERVABLE_NAMES",
]

OBSERVABLE_NAMES = (
    "n_jets",
    "n_leptons",
    "pt_j1",
    "pt_j2",
    "eta_j1",
    "eta_j2",
    "m_jj",
    "delta_eta_jj",
    "delta_phi_jj",
    "m_4l",
)


def order_objects(
    counts: np.ndarray, momenta: np.ndarray, types: np.ndarray, max_objects: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Sort each event's objects by pT (highest first) and keep at most ``max_objects``; stays flat.

    The flat (jagged) form is compact — it holds only real objects — so readers keep chunks of
    events in it and pad only once, into the output (:func:`scatter_objects`).

    Parameters
    ----------
    counts : ndarray, shape (N,), int
        Number of objects in each event; the flat arrays hold event 0's objects first.
    momenta : ndarray, shape (K, 4)
        (E, px, py, pz) in GeV, K = counts.sum().
    types : ndarray, shape (K,), int
        Type codes 1..7.
    max_objects : int, optional
        Keep at most this many objects per event (the highest-pT ones).

    Returns
    -------
    counts : ndarray, shape (N,), int64
        Objects kept per event.
    momenta : ndarray, shape (K', 4), float32
    types : ndarray, shape (K',), int8
    n_dropped : int
        Objects beyond ``max_objects`` that were dropped (K − K').
    """
    counts = np.asarray(counts, dtype=np.int64)
    momenta = np.asarray(momenta, dtype=np.float64).reshape(-1, 4)
    types = np.asarray(types)
    if len(momenta) != counts.sum() or len(types) != len(momenta):
        raise ValueError(f"object arrays have {len(momenta)} rows, counts add up to {counts.sum()}")
    event = np.repeat(np.arange(len(counts)), counts)
    order = np.lexsort((-pt(momenta), event))  # by event, then pT descending
    if max_objects is not None:
        rank = np.arange(len(order)) - (np.cumsum(counts) - counts)[event]
        order = order[rank < max_objects]
        kept = np.minimum(counts, max_objects)
    else:
        kept = counts
    return kept, momenta[order].astype(np.float32), types[order].astype(np.int8), int(len(types) - len(order))


def scatter_objects(
    counts: np.ndarray, momenta: np.ndarray, types: np.ndarray, out_momenta: np.ndarray, out_types: np.ndarray
) -> None:
    """Write a flat object list into zero-initialised padded arrays, in the order given.

    Parameters
    ----------
    counts : ndarray, shape (N,), int
    momenta : ndarray, shape (K, 4)
    types : ndarray, shape (K,)
    out_momenta : ndarray, shape (N, P, 4)
        Filled in place; P must be at least ``counts.max()``.
    out_types : ndarray, shape (N, P)
        Filled in place.
    """
    counts = np.asarray(counts, dtype=np.int64)
    rows = np.repeat(np.arange(len(counts)), counts)
    slots = np.arange(len(rows)) - (np.cumsum(counts) - counts)[rows]
    out_momenta[rows, slots] = momenta
    out_types[rows, slots] = types


def pad_objects(
    counts: np.ndarray, momenta: np.ndarray, types: np.ndarray, max_objects: int | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Flat object list → zero-padded, pT-ordered arrays (N, P, 4) float32 and (N, P) int8, and the number dropped.

    P is the largest number of objects kept in one event (see :func:`order_objects` for the arguments).
    """
    counts, momenta, types, dropped = order_objects(counts, momenta, types, max_objects)
    width = int(counts.max()) if len(counts) else 0
    out_momenta = np.zeros((len(counts), width, 4), dtype=np.float32)
    out_types = np.zeros((len(counts), width), dtype=np.int8)
    scatter_objects(counts, momenta, types, out_momenta, out_types)
    return out_momenta, out_types, dropped


def missing_et(px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """(met, met_phi) from the summed invisible transverse momentum, shape (N, 2); GeV, rad."""
    return np.stack([np.hypot(px, py), np.arctan2(py, px)], axis=-1)


def _pick(mask: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """Slot index of the rank-th (0-based) True entry per event and whether it exists, shapes (N,)."""
    position = np.cumsum(mask, axis=1)
    hit = mask & (position == rank + 1)
    return hit.argmax(axis=1), hit.any(axis=1)


def standard_observables(momenta: np.ndarray, types: np.ndarray) -> dict[str, np.ndarray]:
    """High-level observables of the two leading jets and the four leading leptons.

    Jets are types 1 and 2, charged leptons types 3–6; "leading" means highest pT; η is
    :func:`lfi.objects.eta` (±1000 for a jet along the beam, p_T = 0). An observable
    that needs objects the event lacks is 0 (``m_jj`` with fewer than two jets, ``m_4l`` with
    fewer than four leptons). ``delta_phi_jj`` is signed: φ of the more forward jet (larger η)
    minus φ of the other, wrapped to (−π, π] — the variable sensitive to the CP structure of WBF.

    Parameters
    ----------
    momenta : ndarray, shape (N, P, 4)
        (E, px, py, pz) in GeV, pT-ordered.
    types : ndarray, shape (N, P), int

    Returns
    -------
    dict of str to ndarray, shape (N,), float32
        The names in ``OBSERVABLE_NAMES``; pT and masses in GeV, angles in rad.
    """
    momenta = np.asarray(momenta, dtype=np.float64)
    n = len(momenta)
    rows = np.arange(n)
    is_jet = (types == JET) | (types == BJET)
    is_lepton = (types >= ELECTRON) & (types <= ANTIMUON)
    obs = {name: np.zeros(n, dtype=np.float64) for name in OBSERVABLE_NAMES}
    obs["n_jets"] = is_jet.sum(axis=1).astype(np.float64)
    obs["n_leptons"] = is_lepton.sum(axis=1).astype(np.float64)
    if momenta.shape[1] == 0:
        return {k: v.astype(np.float32) for k, v in obs.items()}
    (i1, has1), (i2, has2) = _pick(is_jet, 0), _pick(is_jet, 1)
    j1, j2 = momenta[rows, i1], momenta[rows, i2]
    pt1, eta1, phi1 = pt(j1), eta(j1), phi(j1)
    pt2, eta2, phi2 = pt(j2), eta(j2), phi(j2)
    obs["pt_j1"] = np.where(has1, pt1, 0.0)
    obs["eta_j1"] = np.where(has1, eta1, 0.0)
    obs["pt_j2"] = np.where(has2, pt2, 0.0)
    obs["eta_j2"] = np.where(has2, eta2, 0.0)
    obs["m_jj"] = np.where(has2, mass(j1 + j2), 0.0)
    obs["delta_eta_jj"] = np.where(has2, np.abs(eta1 - eta2), 0.0)
    forward = eta1 >= eta2
    dphi = delta_phi(np.where(forward, phi1, phi2), np.where(forward, phi2, phi1))
    obs["delta_phi_jj"] = np.where(has2, dphi, 0.0)
    leptons = np.zeros((n, 4))
    has4 = np.ones(n, dtype=bool)
    for rank in range(4):
        index, has = _pick(is_lepton, rank)
        leptons = leptons + momenta[rows, index] * has[:, None]
        has4 &= has
    obs["m_4l"] = np.where(has4, mass(leptons), 0.0)
    return {k: v.astype(np.float32) for k, v in obs.items()}
