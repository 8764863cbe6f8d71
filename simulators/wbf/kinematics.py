"""Four-vector helpers for the WBF generator: boosts, two-body decays, massless projection.

All momenta are arrays of shape (N, 4) = (E, px, py, pz) in GeV unless stated otherwise. p_T, η, y, φ and
masses of four-momenta are those of :mod:`lfi.objects` (``pt`` and ``mass2`` are importable from here too).
"""

from __future__ import annotations

import numpy as np

from lfi.objects import mass, mass2, pt

__all__ = [
    "boost",
    "two_body_decay",
    "massless_pair",
    "undo_pythia_masses",
]


def boost(p: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Boost momenta by velocity β (the frame moving with −β sees them; i.e. rest frame → lab for β = P⃗/E).

    Parameters
    ----------
    p : ndarray, shape (N, 4)
    beta : ndarray, shape (N, 3), |β| < 1

    Returns
    -------
    ndarray, shape (N, 4)
    """
    b2 = np.sum(beta**2, axis=-1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p[..., 1:], axis=-1)
    gamma2 = np.where(b2 > 0, (gamma - 1.0) / np.where(b2 > 0, b2, 1.0), 0.0)
    out = np.empty_like(p)
    out[..., 0] = gamma * (p[..., 0] + bp)
    out[..., 1:] = p[..., 1:] + (gamma2 * bp + gamma * p[..., 0])[..., None] * beta
    return out


def two_body_decay(parent: np.ndarray, m1: np.ndarray, m2: np.ndarray, cos_theta: np.ndarray, phi_: np.ndarray):
    """Two-body decay with given rest-frame angles, boosted to the frame of ``parent``.

    Parameters
    ----------
    parent : ndarray, shape (N, 4)
    m1, m2 : ndarray, shape (N,)
        Daughter masses in GeV.
    cos_theta, phi_ : ndarray, shape (N,)
        Direction of daughter 1 in the parent rest frame.

    Returns
    -------
    d1, d2 : ndarrays, shape (N, 4)
    pstar : ndarray, shape (N,)
        Rest-frame momentum in GeV (the two-body phase space is ∝ pstar / M).
    """
    m = mass(parent)
    pstar = np.sqrt(np.maximum((m**2 - (m1 + m2) ** 2) * (m**2 - (m1 - m2) ** 2), 0.0)) / (2 * m)
    sin_theta = np.sqrt(np.maximum(1 - cos_theta**2, 0.0))
    direction = np.stack([sin_theta * np.cos(phi_), sin_theta * np.sin(phi_), cos_theta], axis=-1)
    d1 = np.concatenate([np.sqrt(m1**2 + pstar**2)[:, None], pstar[:, None] * direction], axis=1)
    d2 = np.concatenate([np.sqrt(m2**2 + pstar**2)[:, None], -pstar[:, None] * direction], axis=1)
    beta = parent[:, 1:] / parent[:, :1]
    return boost(d1, beta), boost(d2, beta), pstar


def massless_pair(ka: np.ndarray, kb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project a massive pair to massless momenta with the same total four-momentum.

    In the pair rest frame both 3-momenta are rescaled to |k| = m_pair/2 (directions kept), then boosted
    back. Used for decay leptons (m_μ = 0.106 GeV in Pythia's record).
    """
    total = ka + kb
    beta = total[:, 1:] / total[:, :1]
    ra = boost(ka, -beta)
    m = mass(total)
    direction = ra[:, 1:] / np.linalg.norm(ra[:, 1:], axis=1, keepdims=True)
    half = (0.5 * m)[:, None]
    a = np.concatenate([half, half * direction], axis=1)
    b = np.concatenate([half, -half * direction], axis=1)
    return boost(a, beta), boost(b, beta)


def undo_pythia_masses(p_in1: np.ndarray, p_in2: np.ndarray, p_h: np.ndarray, p_q1: np.ndarray, p_q2: np.ndarray):
    """Recover the massless 2 → 3 kinematics on which Pythia evaluated its matrix element.

    Pythia's 2 → 3 phase space (``PhaseSpace2to3tauycyl``) generates massless outgoing quarks, evaluates
    ``sigmaKin`` there, and only then gives the quarks their constituent masses by rescaling all three
    outgoing 3-momenta in the parton CM frame by one common factor (energy conserved, Higgs mass kept).
    This inverts that step: in the CM frame find u with √(m_H² + u²|p⃗_H|²) + u(|p⃗_q1| + |p⃗_q2|) = √ŝ,
    scale all three 3-momenta by u, set the quarks massless, boost back.

    Parameters
    ----------
    p_in1, p_in2 : ndarray, shape (N, 4)
        Incoming partons (massless, along the beams).
    p_h, p_q1, p_q2 : ndarray, shape (N, 4)
        Higgs and the two outgoing quarks as stored in the process record.

    Returns
    -------
    h, q1, q2 : ndarrays, shape (N, 4)
        Momentum-conserving kinematics with massless quarks (to ~1e-12 relative).
    """
    total = p_in1 + p_in2
    beta = total[:, 1:] / total[:, :1]
    h, a, b = (boost(p, -beta) for p in (p_h, p_q1, p_q2))
    root_s = np.sqrt(mass2(total))
    mh2 = mass2(h)
    ph2 = np.sum(h[:, 1:] ** 2, axis=1)
    pq = np.linalg.norm(a[:, 1:], axis=1) + np.linalg.norm(b[:, 1:], axis=1)
    u = np.ones(len(h))
    for _ in range(30):  # Newton; converges in a handful of steps (u − 1 ~ m_q²/E²)
        eh = np.sqrt(mh2 + u**2 * ph2)
        f = eh + u * pq - root_s
        u_new = u - f / (u * ph2 / eh + pq)
        if np.all(np.abs(u_new - u) < 1e-15):
            u = u_new
            break
        u = u_new
    out = []
    for p, massless in ((h, False), (a, True), (b, True)):
        q = p.copy()
        q[:, 1:] *= u[:, None]
        q[:, 0] = np.linalg.norm(q[:, 1:], axis=1) if massless else np.sqrt(mh2 + np.sum(q[:, 1:] ** 2, axis=1))
        out.append(boost(q, beta))
    return tuple(out)
