"""Random phase-space points for checks of the matrix element (independent of Pythia).

* :func:`random_production` — massless q q′ → q q′ H kinematics (momentum conserving, m_H fixed).
* :func:`decay_phase_space` — weighted H → ℓℓℓ′ℓ′ points for integrating Γ(H → 4ℓ)(θ) over the exact
  four-body phase space with a cut m_ℓℓ > m_min on both pairs.
* :func:`random_lorentz` — a random proper orthochronous Lorentz transformation (rotation × boost).
"""

from __future__ import annotations

import numpy as np

from .kinematics import boost, two_body_decay

__all__ = ["random_production", "decay_phase_space", "random_lorentz"]


def random_production(n: int, rng: np.random.Generator, root_s_max: float = 3000.0, m_h: float = 125.0):
    """Random massless 2 → 3 kinematics p1 p2 → p3 p4 H.

    Parameters
    ----------
    n : int
    rng : numpy Generator
    root_s_max : float
        √ŝ is drawn uniformly in (m_h + 10, root_s_max) GeV.
    m_h : float

    Returns
    -------
    p1, p2, p3, p4, ph : ndarrays, shape (n, 4)
        Incoming partons along ±z (with a random longitudinal boost), outgoing partons, Higgs (GeV).
    """
    root_s = rng.uniform(m_h + 10.0, root_s_max, n)
    zero = np.zeros(n)
    cm = np.stack([root_s, zero, zero, zero], axis=1)
    m_x = m_h + rng.uniform(0, 1, n) * (root_s - m_h)
    p3, x = two_body_decay(cm, zero, m_x, rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n))[:2]
    p4, ph = two_body_decay(x, zero, np.full(n, m_h), rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n))[:2]
    half = 0.5 * root_s
    p1 = np.stack([half, zero, zero, half], axis=1)
    p2 = np.stack([half, zero, zero, -half], axis=1)
    beta = np.stack([zero, zero, rng.uniform(-0.9, 0.9, n)], axis=1)
    return tuple(boost(p, beta) for p in (p1, p2, p3, p4, ph))


def random_lorentz(rng: np.random.Generator, max_beta: float = 0.95) -> np.ndarray:
    """A random Lorentz transformation Λ (4 × 4, acting as p' = Λ p on column vectors): rotation then boost."""
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    rot = np.eye(4)
    rot[1:, 1:] = q
    direction = rng.normal(size=3)
    beta = direction / np.linalg.norm(direction) * rng.uniform(0.1, max_beta)
    b2 = beta @ beta
    gamma = 1 / np.sqrt(1 - b2)
    bst = np.eye(4)
    bst[0, 0] = gamma
    bst[0, 1:] = bst[1:, 0] = gamma * beta
    bst[1:, 1:] += (gamma - 1) * np.outer(beta, beta) / b2
    return bst @ rot


def _mass_sampler(rng, n, lo2, hi2, m0, width):
    """Draw m² from ½ Breit–Wigner + ½ log-flat on [lo2, hi2]; return m² and the density g(m²)."""
    a_lo, a_hi = np.arctan((lo2 - m0**2) / (m0 * width)), np.arctan((hi2 - m0**2) / (m0 * width))
    use_bw = rng.uniform(size=n) < 0.5
    bw = m0**2 + m0 * width * np.tan(a_lo + rng.uniform(size=n) * (a_hi - a_lo))
    logm = np.exp(np.log(lo2) + rng.uniform(size=n) * np.log(hi2 / lo2))
    m2 = np.where(use_bw, bw, logm)
    g_bw = m0 * width / ((m2 - m0**2) ** 2 + (m0 * width) ** 2) / (a_hi - a_lo)
    g_log = 1.0 / (m2 * np.log(hi2 / lo2))
    return m2, 0.5 * (g_bw + g_log)


def decay_phase_space(n: int, rng: np.random.Generator, m_h: float = 125.0, m_min: float = 12.0, m_z: float = 91.1876,
                      width_z: float = 2.441404):
    """Weighted points of the H → 4 massless leptons phase space with m_12, m_34 > m_min.

    The four-body phase space factorises as dΦ4 ∝ dm12² dm34² β(m_H; m12, m34) dΩ_Z dΩ_1 dΩ_2; masses are
    drawn from a mixture of a Breit–Wigner and a log-flat density (so both the Z peak and the γ* region
    are sampled), angles uniformly. Integrals ∫ f dΦ4 ∝ mean(f · weight).

    Returns
    -------
    k1, k2, k3, k4 : ndarrays, shape (n, 4)
        ℓ_a⁻, ℓ_a⁺, ℓ_b⁻, ℓ_b⁺ in the Higgs rest frame (GeV).
    weight : ndarray, shape (n,)
        Phase-space weight (arbitrary constant normalisation); 0 outside the kinematic limits.
    """
    hi2 = (m_h - m_min) ** 2
    m12sq, g1 = _mass_sampler(rng, n, m_min**2, hi2, m_z, width_z)
    m34sq, g2 = _mass_sampler(rng, n, m_min**2, hi2, m_z, width_z)
    m12, m34 = np.sqrt(m12sq), np.sqrt(m34sq)
    ok = m12 + m34 < m_h
    m12, m34 = np.where(ok, m12, m_min), np.where(ok, m34, m_min)
    zero = np.zeros(n)
    higgs = np.stack([np.full(n, m_h), zero, zero, zero], axis=1)
    angles = [(rng.uniform(-1, 1, n), rng.uniform(0, 2 * np.pi, n)) for _ in range(3)]
    z1, z2, pstar = two_body_decay(higgs, m12, m34, *angles[0])
    k1, k2 = two_body_decay(z1, zero, zero, *angles[1])[:2]
    k3, k4 = two_body_decay(z2, zero, zero, *angles[2])[:2]
    weight = np.where(ok, (2 * pstar / m_h) / (g1 * g2), 0.0)
    return k1, k2, k3, k4, weight
