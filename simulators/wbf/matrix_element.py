"""Tree-level helicity amplitudes for WBF Higgs production and H → 4ℓ with the O_W, O_WW vertex (docs/eft.md §3–4).

Conventions (docs/eft.md §1–2): metric (+,−,−,−); all momenta in GeV; θ = (f_W, f_WW) in TeV⁻², F = f·1e-6 GeV⁻²;
HISZ operators with f_B = f_BB = 0. The HVV vertex with both boson momenta incoming (V1: q1, index α;
V2: q2, index β) is

    Γ^{αβ} = i g m_W [ A g^{αβ} + B (q1·q2 g^{αβ} − q2^α q1^β) ]  (+ terms ∝ q1^α q1^β, q2^α q2^β)

with A, B from the table of docs/eft.md §3 (full q² dependence of A kept, including the contact terms). For a
photon leg the q^α q^β term is kept such that the vertex is transverse (A_γ (q² g − q q)); it vanishes on the
conserved massless currents used here. The amplitude is linear in θ, so every amplitude is returned as three
pieces (SM, per unit f_W, per unit f_WW); |M|² is then an exact polynomial: quadratic for production or decay
alone (6 coefficients), quartic for production × decay (15 coefficients), ordered as
``lfi.morphing.monomial_components(2, degree)``.

Electroweak inputs: one consistent set, :meth:`EWInputs.madminer` (m_Z = 91.1876 GeV, α⁻¹ = 127.9,
G_F = 1.16637e-5 GeV⁻² → s² = 0.2337, m_W = m_Z c = 79.82 GeV; Γ_Z = 2.441404 GeV as in MadGraph's SM
parameter card). CKM mixing is not part of these amplitudes (it factorises: see ``truth``).

Spinors: massless two-component Weyl spinors, ψ_L = √(2E) ξ₋(p̂), ψ_R = √(2E) ξ₊(p̂); the current
J^μ_L(a, b) = ψ_L(a)† σ̄^μ ψ_L(b) is ū(a) γ^μ P_L u(b) for a quark line (a = outgoing, b = incoming), v̄(a) γ^μ
P_L v(b) for an antiquark line (a = incoming, b = outgoing) and ū(a) γ^μ P_L v(b) for a decay pair (a = ℓ⁻,
b = ℓ⁺): for massless fermions all three are the same function, up to phases that drop out of |M|².
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "EWInputs",
    "TEV2_TO_GEV2",
    "charge_isospin",
    "production_amplitudes",
    "production_kernels",
    "combine_kernels",
    "line_couplings",
    "production_coefficients",
    "decay_amplitudes",
    "decay_coefficients",
    "squared_coefficients",
    "multiply_polynomials",
    "vertex_coefficients",
    "contract_vertex",
    "currents",
    "minkowski",
]

TEV2_TO_GEV2 = 1e-6
"""1 TeV⁻² in GeV⁻²: F = f · TEV2_TO_GEV2."""


@dataclass(frozen=True)
class EWInputs:
    """Electroweak parameters of the amplitudes (GeV, dimensionless).

    Parameters
    ----------
    alpha : float
        Fine-structure constant used in the couplings.
    s2 : float
        sin²θ_W (used in the couplings g = e/s, g_Z = g/c and in the vertex table).
    m_z, m_w : float
        Z and W masses in GeV (t-channel propagators, decay Breit–Wigner, the factor g·m_W of the vertex).
    width_z : float
        Z width in GeV (only in the decay's s-channel Breit–Wigner; t-channel propagators carry no width).
    """

    alpha: float
    s2: float
    m_z: float
    m_w: float
    width_z: float

    @classmethod
    def madminer(cls) -> "EWInputs":
        """MadMiner's input set: m_Z = 91.1876 GeV, α⁻¹ = 127.9, G_F = 1.16637e-5 GeV⁻² (tree-level relations)."""
        m_z, alpha, g_f = 91.1876, 1.0 / 127.9, 1.16637e-5
        s2c2 = np.pi * alpha / (np.sqrt(2.0) * g_f * m_z**2)
        s2 = 0.5 * (1.0 - np.sqrt(1.0 - 4.0 * s2c2))
        return cls(alpha=alpha, s2=float(s2), m_z=m_z, m_w=float(m_z * np.sqrt(1.0 - s2)), width_z=2.441404)

    @property
    def c2(self) -> float:
        return 1.0 - self.s2

    @property
    def e(self) -> float:
        return float(np.sqrt(4.0 * np.pi * self.alpha))

    @property
    def g(self) -> float:
        return self.e / float(np.sqrt(self.s2))

    def as_dict(self) -> dict:
        return {"alpha": self.alpha, "sin2thetaW": self.s2, "m_Z": self.m_z, "m_W": self.m_w, "width_Z": self.width_z}


# ----------------------------------------------------------------------------------------- kinematics helpers
def minkowski(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a·b = a⁰b⁰ − a⃗·b⃗ over the last axis (no complex conjugation)."""
    return a[..., 0] * b[..., 0] - a[..., 1] * b[..., 1] - a[..., 2] * b[..., 2] - a[..., 3] * b[..., 3]


def _spinors(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Massless Weyl spinors (ψ_L, ψ_R), each shape (N, 2) complex, normalised to ψ†ψ = 2E.

    The branch is chosen per event for numerical stability (E + p_z or E − p_z in the denominator);
    both branches differ by a phase only.
    """
    e, px, py, pz = (p[:, i].astype(np.float64) for i in range(4))
    e = np.sqrt(px**2 + py**2 + pz**2)  # massless by construction
    up = pz >= 0.0
    ep = np.where(up, e + pz, 1.0)
    em = np.where(up, 1.0, e - pz)
    ra, rb = np.sqrt(ep), np.sqrt(em)
    pt_plus = px + 1j * py
    pt_minus = px - 1j * py
    right = np.where(
        up[:, None],
        np.stack([ep + 0j, pt_plus], axis=1) / ra[:, None],
        np.stack([pt_minus, em + 0j], axis=1) / rb[:, None],
    )
    left = np.where(
        up[:, None],
        np.stack([-pt_minus, ep + 0j], axis=1) / ra[:, None],
        np.stack([-(em + 0j), pt_plus], axis=1) / rb[:, None],
    )
    return left, right


def currents(pa: np.ndarray, pb: np.ndarray) -> np.ndarray:
    """Chiral currents J^μ_λ(a, b) = ψ_λ(a)† σ̄^μ (λ = L) or σ^μ (λ = R) ψ_λ(b).

    Parameters
    ----------
    pa, pb : ndarray, shape (N, 4)
        Massless momenta (E, px, py, pz) in GeV (see the module docstring for which is a and b).

    Returns
    -------
    ndarray, shape (N, 2, 4), complex
        Index 1: chirality (0 = L, 1 = R); index 2: contravariant Lorentz index μ.
    """
    la, ra = _spinors(pa)
    lb, rb = _spinors(pb)
    out = np.empty((len(pa), 2, 4), dtype=np.complex128)
    for k, (a, b, sign) in enumerate(((la, lb, -1.0), (ra, rb, 1.0))):
        a = np.conj(a)
        out[:, k, 0] = a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1]
        out[:, k, 1] = sign * (a[:, 0] * b[:, 1] + a[:, 1] * b[:, 0])
        out[:, k, 2] = sign * (-1j * a[:, 0] * b[:, 1] + 1j * a[:, 1] * b[:, 0])
        out[:, k, 3] = sign * (a[:, 0] * b[:, 0] - a[:, 1] * b[:, 1])
    return out


# ----------------------------------------------------------------------------------------- couplings
def charge_isospin(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Electric charge Q and weak isospin T3 of the *particle* of each PDG id (sign of the id ignored).

    Parameters
    ----------
    ids : ndarray of int, shape (N,)
        Quarks 1–6, charged leptons 11/13/15, neutrinos 12/14/16.

    Returns
    -------
    (Q, T3) : two ndarrays of float, shape (N,)
    """
    a = np.abs(np.asarray(ids))
    quark = (a >= 1) & (a <= 6)
    lepton = (a >= 11) & (a <= 16)
    if not np.all(quark | lepton):
        bad = np.asarray(ids)[~(quark | lepton)][0]
        raise ValueError(f"no electroweak couplings for PDG id {bad}: need quarks 1-6 or leptons 11-16")
    up = a % 2 == 0
    charge = np.where(quark, np.where(up, 2.0 / 3.0, -1.0 / 3.0), np.where(up, 0.0, -1.0))
    return charge, np.where(up, 0.5, -0.5)


def line_couplings(ids: np.ndarray, ew: EWInputs) -> dict[str, np.ndarray]:
    """Fermion–boson couplings c^V_λ, each shape (N, 2) for λ = (L, R) (docs/eft.md §2)."""
    q, t3 = charge_isospin(ids)
    gz = ew.g / np.sqrt(ew.c2)
    n = len(q)
    return {
        "Z": np.stack([gz * (t3 - q * ew.s2), gz * (-q * ew.s2)], axis=1),
        "A": np.stack([ew.e * q, ew.e * q], axis=1),
        "W": np.tile([ew.g / np.sqrt(2.0), 0.0], (n, 1)),
    }


def vertex_coefficients(v1: str, v2: str, q1sq: np.ndarray, q2sq: np.ndarray, ew: EWInputs):
    """The HVV vertex factors of docs/eft.md §3 in units of i·g·m_W, split into θ-pieces.

    Parameters
    ----------
    v1, v2 : {"W", "Z", "A"}
        Bosons on legs 1 and 2 ("A" = photon); W only as the pair W W.
    q1sq, q2sq : ndarray, shape (N,)
        Virtualities q² of the two legs in GeV².
    ew : EWInputs

    Returns
    -------
    A, B, C1, C2 : ndarrays, shape (N, 3)
        Pieces (SM, per TeV⁻² of f_W, per TeV⁻² of f_WW) of the coefficients of g^{αβ} (A, dimensionless),
        (q1·q2 g^{αβ} − q2^α q1^β) (B, GeV⁻²), q1^α q1^β (C1, GeV⁻²) and q2^α q2^β (C2, GeV⁻²).
    """
    n = len(q1sq)
    f = TEV2_TO_GEV2
    s_c = np.sqrt(ew.s2 / ew.c2)
    A, B, C1, C2 = (np.zeros((n, 3)) for _ in range(4))
    pair = v1 + v2
    if pair in ("WW", "ZZ"):
        A[:, 0] = 1.0 if pair == "WW" else 1.0 / ew.c2
        A[:, 1] = -0.5 * f * (q1sq + q2sq)
        B[:, 1] = -f
        B[:, 2] = 2.0 * f * (1.0 if pair == "WW" else ew.c2)
    elif pair == "AZ":
        A[:, 1] = -s_c * 0.5 * f * q1sq
        C1[:, 1] = s_c * 0.5 * f  # completes A_γ (q1² g − q1 q1): transverse photon leg
        B[:, 1] = -s_c * 0.5 * f
        B[:, 2] = s_c * 2.0 * ew.c2 * f
    elif pair == "ZA":
        A[:, 1] = -s_c * 0.5 * f * q2sq
        C2[:, 1] = s_c * 0.5 * f
        B[:, 1] = -s_c * 0.5 * f
        B[:, 2] = s_c * 2.0 * ew.c2 * f
    elif pair == "AA":
        B[:, 2] = 2.0 * ew.s2 * f
    else:
        raise ValueError(f"no HVV vertex for the boson pair {v1!r} {v2!r}; use WW, ZZ, AZ, ZA or AA")
    return A, B, C1, C2


def contract_vertex(v1: str, v2: str, q1: np.ndarray, q2: np.ndarray, e1: np.ndarray, e2: np.ndarray, ew: EWInputs):
    """Γ^{αβ} e1_α e2_β / (i g m_W) for arbitrary vectors e1, e2, split into θ-pieces.

    Parameters
    ----------
    q1, q2 : ndarray, shape (N, 4)
        Incoming boson momenta in GeV.
    e1, e2 : ndarray, shape (N, 4) or (N, K, 4), real or complex
        Polarisations or currents of legs 1 and 2 (broadcast over K, e.g. helicities).

    Returns
    -------
    ndarray, shape (N, 3) or (N, K, 3)
        Pieces (SM, per TeV⁻² f_W, per TeV⁻² f_WW).
    """
    A, B, C1, C2 = vertex_coefficients(v1, v2, minkowski(q1, q1), minkowski(q2, q2), ew)
    extra = (slice(None),) + (None,) * (np.ndim(e1) - 2)
    q1x, q2x = q1[extra], q2[extra]
    e1e2 = minkowski(e1, e2)[..., None]
    e1q1, e1q2 = minkowski(e1, q1x)[..., None], minkowski(e1, q2x)[..., None]
    e2q1, e2q2 = minkowski(e2, q1x)[..., None], minkowski(e2, q2x)[..., None]
    q1q2 = minkowski(q1, q2)[extra][..., None]
    A, B, C1, C2 = (x[extra] for x in (A, B, C1, C2))
    return A * e1e2 + B * (q1q2 * e1e2 - e1q2 * e2q1) + C1 * e1q1 * e2q1 + C2 * e1q2 * e2q2


def _boson_pairs(charged: bool, photons: bool) -> list[tuple[str, str]]:
    if charged:
        return [("W", "W")]
    return [("Z", "Z"), ("A", "Z"), ("Z", "A"), ("A", "A")] if photons else [("Z", "Z")]


def _amplitudes(J1, J2, q1, q2, c1, c2, props1, props2, pairs, ew: EWInputs) -> np.ndarray:
    """Sum over boson pairs of g m_W c1 c2 P1 P2 Γ·J1 J2; shape (N, 2, 2, 3) for (λ1, λ2, θ-piece)."""
    n = len(q1)
    # Currents of all helicity combinations: (N, 4 = λ1λ2, 4 = μ).
    e1 = np.repeat(J1, 2, axis=1)  # λ1 = L, L, R, R
    e2 = np.tile(J2, (1, 2, 1))  # λ2 = L, R, L, R
    amp = np.zeros((n, 4, 3), dtype=np.complex128)
    for v1, v2 in pairs:
        cc = (c1[v1][:, :, None] * c2[v2][:, None, :]).reshape(n, 4)
        factor = ew.g * ew.m_w * cc * (props1[v1] * props2[v2])[:, None]
        amp += factor[..., None] * contract_vertex(v1, v2, q1, q2, e1, e2, ew)
    return amp.reshape(n, 2, 2, 3)


# ----------------------------------------------------------------------------------------- production
def production_kernels(p1, p2, p3, p4, bar1, bar2, ew: EWInputs, photons: bool = True, pairs=None) -> dict:
    """Production amplitudes per boson pair with unit fermion couplings.

    M_{λ1λ2} = Σ_{V1V2} c^{V1}_{λ1}(line 1) c^{V2}_{λ2}(line 2) K^{V1V2}_{λ1λ2}: the couplings of
    :func:`production_amplitudes` factor out, so that one kernel serves every flavour assignment.

    Parameters
    ----------
    p1, p2, p3, p4 : ndarray, shape (N, 4)
        As in :func:`production_amplitudes`.
    bar1, bar2 : bool or ndarray of bool, shape (N,)
        Whether line 1 / line 2 is an antiquark line.
    photons : bool
        Include the kernels with photons (keys ("A", "Z"), ("Z", "A"), ("A", "A")).
    pairs : list of (str, str), optional
        Compute only these boson pairs.

    Returns
    -------
    dict of (str, str) to ndarray, shape (N, 2, 2, 3), complex
        Keys ("W", "W"), ("Z", "Z") and, with photons, the photon pairs.
    """
    p1, p2, p3, p4 = (np.asarray(p, dtype=np.float64) for p in (p1, p2, p3, p4))
    n = len(p1)
    bar1 = np.broadcast_to(np.asarray(bar1, dtype=bool), (n,))[:, None]
    bar2 = np.broadcast_to(np.asarray(bar2, dtype=bool), (n,))[:, None]
    J1 = currents(np.where(bar1, p1, p3), np.where(bar1, p3, p1))
    J2 = currents(np.where(bar2, p2, p4), np.where(bar2, p4, p2))
    q1, q2 = p1 - p3, p2 - p4
    t1, t2 = minkowski(q1, q1), minkowski(q2, q2)
    props1 = {"W": 1.0 / (t1 - ew.m_w**2), "Z": 1.0 / (t1 - ew.m_z**2), "A": 1.0 / t1}
    props2 = {"W": 1.0 / (t2 - ew.m_w**2), "Z": 1.0 / (t2 - ew.m_z**2), "A": 1.0 / t2}
    unit = {v: np.ones((n, 2)) for v in "WZA"}
    if pairs is None:
        pairs = _boson_pairs(True, photons) + _boson_pairs(False, photons)
    return {pair: _amplitudes(J1, J2, q1, q2, unit, unit, props1, props2, [pair], ew) for pair in pairs}


def combine_kernels(kernels: dict, c1: dict, c2: dict, pairs) -> np.ndarray:
    """Σ over ``pairs`` of c1^{V1}_{λ1} c2^{V2}_{λ2} K^{V1V2}_{λ1λ2}; couplings of shape (N, 2) or (2,)."""
    out = 0.0
    for v1, v2 in pairs:
        cc = np.asarray(c1[v1])[..., :, None] * np.asarray(c2[v2])[..., None, :]
        out = out + cc[..., None] * kernels[(v1, v2)]
    return out


def production_amplitudes(
    p1: np.ndarray,
    p2: np.ndarray,
    p3: np.ndarray,
    p4: np.ndarray,
    id1: np.ndarray,
    id2: np.ndarray,
    charged: np.ndarray | bool,
    ew: EWInputs,
    photons: bool = True,
) -> np.ndarray:
    """Helicity amplitudes of q q′ → q q′ H in one t-channel topology (line 1: p1 → p3, line 2: p2 → p4).

    Parameters
    ----------
    p1, p2 : ndarray, shape (N, 4)
        Incoming massless parton momenta (E, px, py, pz) in GeV.
    p3, p4 : ndarray, shape (N, 4)
        Outgoing massless partons; p3 is the partner of p1 on the same fermion line.
    id1, id2 : ndarray of int, shape (N,)
        PDG ids of the incoming partons (negative: antiquark line). Neutral-current couplings use these.
    charged : bool or ndarray of bool, shape (N,)
        True: W W fusion (charged current, only left-handed lines); False: Z Z (+ γ Z + Z γ + γ γ).
    ew : EWInputs
    photons : bool
        Include the photon channels in neutral-current events.

    Returns
    -------
    ndarray, shape (N, 2, 2, 3), complex
        M_{λ1 λ2} pieces (SM, per TeV⁻² of f_W, per TeV⁻² of f_WW) in GeV⁻¹ (a 2 → 3 amplitude), for
        λ = 0 (L), 1 (R) of line 1 and line 2.
    """
    id1, id2 = np.asarray(id1), np.asarray(id2)
    p = [np.asarray(x, dtype=np.float64) for x in (p1, p2, p3, p4)]
    n = len(id1)
    charged = np.broadcast_to(np.asarray(charged, dtype=bool), (n,))
    out = np.zeros((n, 2, 2, 3), dtype=np.complex128)
    for is_cc in (True, False):
        sel = np.flatnonzero(charged == is_cc)
        if len(sel) == 0:
            continue
        pairs = _boson_pairs(is_cc, photons)
        kernels = production_kernels(*(x[sel] for x in p), id1[sel] < 0, id2[sel] < 0, ew, photons, pairs)
        c1, c2 = line_couplings(id1[sel], ew), line_couplings(id2[sel], ew)
        out[sel] = combine_kernels(kernels, c1, c2, pairs)
    return out


def squared_coefficients(amplitudes: np.ndarray, average: float = 1.0) -> np.ndarray:
    """Quadratic θ-polynomial of Σ_hel |M|² from amplitude pieces.

    Parameters
    ----------
    amplitudes : ndarray, shape (N, ..., 3), complex
        Pieces (SM, f_W, f_WW) for every helicity configuration (all middle axes are summed).
    average : float
        Factor applied to the helicity sum (¼ for the spin average of two incoming fermions).

    Returns
    -------
    ndarray, shape (N, 6)
        Coefficients of 1, f_W, f_WW, f_W², f_W f_WW, f_WW² (f in TeV⁻²).
    """
    a = amplitudes.reshape(len(amplitudes), -1, 3)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    terms = [
        np.abs(a0) ** 2,
        2 * (a0 * np.conj(a1)).real,
        2 * (a0 * np.conj(a2)).real,
        np.abs(a1) ** 2,
        2 * (a1 * np.conj(a2)).real,
        np.abs(a2) ** 2,
    ]
    return average * np.stack([t.sum(axis=1) for t in terms], axis=1)


def production_coefficients(p1, p2, p3, p4, id1, id2, charged, ew: EWInputs, photons: bool = True) -> np.ndarray:
    """Spin-averaged ⟨|M|²⟩ of production as a quadratic polynomial in θ, shape (N, 6).

    Same arguments as :func:`production_amplitudes`; colour factor 1 (as Pythia's formula). Coefficients
    ordered as ``monomial_components(2, 2)``: 1, f_W, f_WW, f_W², f_W f_WW, f_WW² (f in TeV⁻²).
    """
    amps = production_amplitudes(p1, p2, p3, p4, id1, id2, charged, ew, photons)
    return squared_coefficients(amps, average=0.25)


# ----------------------------------------------------------------------------------------- decay
def decay_amplitudes(k1, k2, k3, k4, id_a, id_b, ew: EWInputs, photons: bool = True) -> np.ndarray:
    """Helicity amplitudes of H → V1* V2* → ℓ_a⁻ ℓ_a⁺ ℓ_b⁻ ℓ_b⁺ (V = Z, and γ if ``photons``).

    Parameters
    ----------
    k1, k2 : ndarray, shape (N, 4)
        ℓ_a⁻ and ℓ_a⁺ (the pair from V1), massless, GeV.
    k3, k4 : ndarray, shape (N, 4)
        ℓ_b⁻ and ℓ_b⁺ (the pair from V2).
    id_a, id_b : int or ndarray of int
        Lepton PDG ids of the two pairs (11, 13).
    photons : bool
        Include H → Z γ*, γ* Z and γ* γ* (needs a cut on m_ℓℓ).

    Returns
    -------
    ndarray, shape (N, 2, 2, 3), complex
        Pieces (SM, per TeV⁻² f_W, per TeV⁻² f_WW) for the chiralities of the two pairs. Γ_H and the
        Higgs propagator are not included (they are θ-independent).
    """
    k1, k2, k3, k4 = (np.asarray(k, dtype=np.float64) for k in (k1, k2, k3, k4))
    n = len(k1)
    J1, J2 = currents(k1, k2), currents(k3, k4)
    q1, q2 = k1 + k2, k3 + k4
    s1, s2 = minkowski(q1, q1), minkowski(q2, q2)
    bw = 1j * ew.m_z * ew.width_z
    props1 = {"Z": 1.0 / (s1 - ew.m_z**2 + bw), "A": 1.0 / s1 + 0j}
    props2 = {"Z": 1.0 / (s2 - ew.m_z**2 + bw), "A": 1.0 / s2 + 0j}
    c1 = line_couplings(np.broadcast_to(id_a, (n,)), ew)
    c2 = line_couplings(np.broadcast_to(id_b, (n,)), ew)
    return _amplitudes(J1, J2, q1, q2, c1, c2, props1, props2, _boson_pairs(False, photons), ew)


def decay_coefficients(k1, k2, k3, k4, id_a, id_b, ew: EWInputs, photons: bool = True) -> np.ndarray:
    """Σ_hel |M(H → 4ℓ)|² as a quadratic polynomial in θ, shape (N, 6) (see :func:`decay_amplitudes`)."""
    return squared_coefficients(decay_amplitudes(k1, k2, k3, k4, id_a, id_b, ew, photons))


# ----------------------------------------------------------------------------------------- polynomials
def multiply_polynomials(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Product of two per-event polynomials in θ = (f_W, f_WW).

    Parameters
    ----------
    a, b : ndarray, shape (N, 6)
        Quadratic coefficients ordered as ``monomial_components(2, 2)``.

    Returns
    -------
    ndarray, shape (N, 15)
        Quartic coefficients ordered as ``monomial_components(2, 4)``.
    """
    from lfi.morphing import monomial_components

    comp2 = monomial_components(2, 2)
    comp4 = monomial_components(2, 4)
    index = {tuple(c): i for i, c in enumerate(comp4)}
    out = np.zeros((len(a), len(comp4)))
    for i, ci in enumerate(comp2):
        for j, cj in enumerate(comp2):
            out[:, index[tuple(ci + cj)]] += a[:, i] * b[:, j]
    return out
