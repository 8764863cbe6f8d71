"""Pythia 8's own SM density for WBF Higgs production — the denominator of the reweighting
w(θ) = w_gen·|M_θ|²/|M_Pythia|² (docs/eft.md §6), kept apart from our amplitudes in :mod:`.matrix_element`."""

from __future__ import annotations

import numpy as np

from .matrix_element import charge_isospin, minkowski

__all__ = ["pythia_production_me"]


def pythia_production_me(
    p1, p2, p3, p4, id1, id2, charged, *, alpha, s2, s2bar, m_z, m_w
) -> np.ndarray:
    """Pythia 8's SM ⟨|M|²⟩ of ``HiggsSM:ff2Hff(t:ZZ)`` / ``(t:WW)`` (docs/eft.md §6), shape (N,).

    Exactly Pythia's ``Sigma3ff2HfftZZ`` / ``Sigma3ff2HfftWW::sigmaHat`` without CKM and open-width
    factors, written with p3 the partner of p1 and p4 the partner of p2:

    ZZ: α³ m_Z² (4π/(s² c²))³/4 · [c_a (p1·p2)(p3·p4) + c_b (p1·p4)(p2·p3)] / [(2p1·p3 + m_Z²)(2p2·p4 + m_Z²)]²,
    with c_a = l1²l2² + r1²r2², c_b = l1²r2² + r1²l2², l = 2(T3 − Q s̄²), r = −2Q s̄² (s̄² = sin2thetaWbar);
    WW: α³ m_W² (4π/s²)³ (p1·p2)(p3·p4) / [(2p1·p3 + m_W²)(2p2·p4 + m_W²)]².
    Pythia applies these to quark–antiquark lines too (where the kinematic structures should be swapped).

    Parameters
    ----------
    alpha : float or ndarray, shape (N,)
        α_EM as Pythia used it (``Info.alphaEM()``, running at Q²_ren by default).
    s2, s2bar : float
        ``StandardModel:sin2thetaW`` and ``StandardModel:sin2thetaWbar``.
    m_z, m_w : float
        ``23:m0`` and ``24:m0`` in GeV.
    """
    p1, p2, p3, p4 = (np.asarray(p, dtype=np.float64) for p in (p1, p2, p3, p4))
    charged = np.broadcast_to(np.asarray(charged, dtype=bool), (len(p1),))
    alpha = np.asarray(alpha, dtype=np.float64)
    pp12, pp34 = minkowski(p1, p2), minkowski(p3, p4)
    pp14, pp23 = minkowski(p1, p4), minkowski(p2, p3)
    pp13, pp24 = minkowski(p1, p3), minkowski(p2, p4)
    q_1, t3_1 = charge_isospin(id1)
    q_2, t3_2 = charge_isospin(id2)
    l1, r1 = 2 * (t3_1 - q_1 * s2bar), -2 * q_1 * s2bar
    l2, r2 = 2 * (t3_2 - q_2 * s2bar), -2 * q_2 * s2bar
    ca = l1**2 * l2**2 + r1**2 * r2**2
    cb = l1**2 * r2**2 + r1**2 * l2**2
    zz = 0.25 * m_z**2 * (4 * np.pi / (s2 * (1 - s2))) ** 3 * (ca * pp12 * pp34 + cb * pp14 * pp23)
    zz = zz / ((2 * pp13 + m_z**2) * (2 * pp24 + m_z**2)) ** 2
    ww = m_w**2 * (4 * np.pi / s2) ** 3 * pp12 * pp34 / ((2 * pp13 + m_w**2) * (2 * pp24 + m_w**2)) ** 2
    return alpha**3 * np.where(charged, ww, zz)
