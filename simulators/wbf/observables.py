"""High-level observables of WBF H → 4ℓ events (the histogram baselines of docs/statistics.md §4 use pt_j1 and delta_phi_jj).

=============  ==========================================================================================
name           definition
=============  ==========================================================================================
pt_j1, pt_j2   transverse momenta of the leading and subleading jet (GeV)
m_jj           invariant mass of the two leading jets (GeV)
delta_eta_jj   |η_j1 − η_j2| of the two leading jets
delta_phi_jj   signed: φ(jet of larger rapidity) − φ(other jet), wrapped to (−π, π] (Hankele et al., hep-ph/0609075)
m_4l, pt_4l    mass and transverse momentum of the four-lepton system (GeV)
m_z1, m_z2     the same-flavour opposite-sign pair closest to m_Z, and the remaining pair (GeV)
=============  ==========================================================================================
"""

from __future__ import annotations

import numpy as np

from lfi.objects import delta_phi, eta, mass, phi, pt, rapidity

__all__ = ["wbf_observables", "OBSERVABLES", "z_pairing"]

OBSERVABLES = ("pt_j1", "pt_j2", "m_jj", "delta_eta_jj", "delta_phi_jj", "m_4l", "pt_4l", "m_z1", "m_z2")
M_Z = 91.1876


def z_pairing(leptons: np.ndarray, pair_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masses of the Z candidates: Z1 = the SFOS pair closest to m_Z, Z2 = the other two leptons.

    Parameters
    ----------
    leptons : ndarray, shape (N, 4, 4)
        ℓ_a⁻, ℓ_a⁺, ℓ_b⁻, ℓ_b⁺ (GeV).
    pair_ids : ndarray of int, shape (N, 2)
        |PDG id| of the pairs (a, b). For equal flavours the alternative pairing (ℓ_a⁻ ℓ_b⁺)(ℓ_b⁻ ℓ_a⁺) is
        considered too.

    Returns
    -------
    m_z1, m_z2 : ndarrays, shape (N,), GeV
    """
    k = leptons
    m = lambda a, b: mass(k[:, a] + k[:, b])  # noqa: E731
    candidates = [(m(0, 1), m(2, 3)), (m(2, 3), m(0, 1))]
    same = np.abs(pair_ids[:, 0]) == np.abs(pair_ids[:, 1])
    alt = [(m(0, 3), m(2, 1)), (m(2, 1), m(0, 3))]
    best1, best2 = candidates[0]
    for z1, z2 in candidates[1:] + [(np.where(same, a, np.inf), b) for a, b in alt]:
        better = np.abs(z1 - M_Z) < np.abs(best1 - M_Z)
        best1, best2 = np.where(better, z1, best1), np.where(better, z2, best2)
    return best1, best2


def wbf_observables(jets: np.ndarray, leptons: np.ndarray, pair_ids: np.ndarray) -> dict[str, np.ndarray]:
    """The observables of the table above.

    Parameters
    ----------
    jets : ndarray, shape (N, 2, 4)
        The two leading jets (any order), GeV.
    leptons : ndarray, shape (N, 4, 4)
        ℓ_a⁻, ℓ_a⁺, ℓ_b⁻, ℓ_b⁺, GeV.
    pair_ids : ndarray, shape (N, 2)

    Returns
    -------
    dict of str to ndarray, shape (N,), float32
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # zero-padded jets of events the selection drops
        return _observables(jets, leptons, pair_ids)


def _observables(jets: np.ndarray, leptons: np.ndarray, pair_ids: np.ndarray) -> dict[str, np.ndarray]:
    pts = pt(jets)
    lead = np.argmax(pts, axis=1)
    j1 = np.take_along_axis(jets, lead[:, None, None], axis=1)[:, 0]
    j2 = np.take_along_axis(jets, (1 - lead)[:, None, None], axis=1)[:, 0]
    forward = rapidity(j1) >= rapidity(j2)
    jf, jb = np.where(forward[:, None], j1, j2), np.where(forward[:, None], j2, j1)
    dphi = delta_phi(phi(jf), phi(jb))
    four = leptons.sum(axis=1)
    m_z1, m_z2 = z_pairing(leptons, pair_ids)
    out = {
        "pt_j1": pt(j1),
        "pt_j2": pt(j2),
        "m_jj": mass(j1 + j2),
        "delta_eta_jj": np.abs(eta(j1) - eta(j2)),
        "delta_phi_jj": dphi,
        "m_4l": mass(four),
        "pt_4l": pt(four),
        "m_z1": m_z1,
        "m_z2": m_z2,
    }
    return {k: v.astype(np.float32) for k, v in out.items()}
