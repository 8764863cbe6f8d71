"""The HVV vertex table of docs/eft.md §3 against the Lagrangian it comes from, and against HISZ's effective couplings.

Independent facts pinned here (see the F_WW note in ``test_wbf_validation``):

* **Field expansion.** The trilinear h V1 V2 Feynman rule is derived numerically from
  L = (Dφ)†(Dφ) + F_W (ig/2)(D^μφ)†σ^a(D^νφ)W^a_μν − F_WW (g²/4)(φ†φ)W^a_μνW^aμν, D_μ = ∂_μ + igT^aW^a_μ + ig′YB_μ,
  W^a_μν = ∂_μW^a_ν − ∂_νW^a_μ − gε^{abc}W^b_μW^c_ν, in unitary gauge φ = (0, (v + h)/√2), W^± = (W¹ ∓ iW²)/√2,
  W³ = cZ + sA, B = −sZ + cA — by a small multilinear "marker" algebra: every field is Σ_legs x_k ε_k e^{−ip_k·x}, the
  vertex is i × (coefficient of x_h x_1 x_2), ∂_ν → −ip_ν. Nothing of ``matrix_element`` is used in the derivation.
* **HISZ couplings.** Hagiwara, Ishihara, Szalapski, Zeppenfeld (PRD 48 (1993) 2182), as used by VBFNLO:
  L_eff = g^(1)_HWW (W⁺_μν W^−μ ∂^ν H + h.c.) + g^(2)_HWW H W⁺_μν W^−μν + g^(1)_HZZ Z_μν Z^μ ∂^ν H + g^(2)_HZZ H Z_μν Z^μν
  + g^(1)_HZγ A_μν Z^μ ∂^ν H + g^(2)_HZγ H A_μν Z^μν + g_Hγγ H A_μν A^μν with (f_B = f_BB = 0)
  g^(1)_HWW = g m_W F_W/2, g^(2)_HWW = −g m_W F_WW, g^(1)_HZZ = g m_W F_W/2, g^(2)_HZZ = −g m_W c² F_WW/2,
  g^(1)_HZγ = g m_W s F_W/(2c), g^(2)_HZγ = −g m_W s c F_WW, g_Hγγ = −g m_W s² F_WW/2.
* **Traces.** Neutral-current production (ZZ + γZ + Zγ + γγ, quark and antiquark lines) from Dirac traces with
  the tabulated vertex equals the helicity amplitudes (the charged current is in ``test_wbf_matrix_element``).

Result: the table's A and B, in particular B_WW = 2F_WW − F_W and B_ZZ = 2c²F_WW − F_W, are what the Lagrangian gives.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulators.wbf import matrix_element as me

EW = me.EWInputs.madminer()
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])
PAIRS = [("W", "W"), ("Z", "Z"), ("A", "Z"), ("Z", "A"), ("A", "A")]
PIECES = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0)]  # (f_W, f_WW) in TeV⁻²: SM, unit f_W, unit f_WW


# ------------------------------------------------------------------------------------- multilinear marker algebra
class _Poly(dict):
    """Polynomial in the leg markers x_h (bit 0), x_1 (bit 1), x_2 (bit 2); monomials with a repeated marker dropped."""

    def __add__(self, other):
        out = _Poly(self)
        for k, v in other.items():
            out[k] = out.get(k, 0) + v
        return out

    def __mul__(self, other):
        if not isinstance(other, _Poly):
            return _Poly({k: v * other for k, v in self.items()})
        out = _Poly()
        for ka, va in self.items():
            for kb, vb in other.items():
                if not ka & kb:
                    out[ka | kb] = out.get(ka | kb, 0) + va * vb
        return out

    __rmul__ = __mul__


_ZERO, _ONE = _Poly(), _Poly({0: 1.0})
_SIGMA = [np.array([[0, 1], [1, 0]], complex), np.array([[0, -1j], [1j, 0]]), np.array([[1, 0], [0, -1]], complex)]


def _lagrangian_vertex(v1, v2, q1, q2, e1, e2, f_w, f_ww, ew=EW):
    """Γ^{αβ} e1_α e2_β / (i g m_W) of h V1(q1, e1) V2(q2, e2) derived from the Lagrangian (all momenta incoming).

    e1, e2 are covariant polarisation vectors; f_w, f_ww in TeV⁻².
    """
    g, s, c = ew.g, np.sqrt(ew.s2), np.sqrt(ew.c2)
    gp, v = g * s / c, 2 * ew.m_w / g
    fw, fww = f_w * me.TEV2_TO_GEV2, f_ww * me.TEV2_TO_GEV2
    gdiag = np.diag(METRIC)
    low = lambda p: METRIC @ p  # noqa: E731

    def leg(bit, q, e):  # (field components A_μ, derivatives ∂_ν A_μ as [ν][μ])
        return ([_Poly({bit: e[m]}) for m in range(4)],
                [[_Poly({bit: -1j * low(q)[n] * e[m]}) for m in range(4)] for n in range(4)])

    def lin(*terms):  # Σ coefficient × field
        comp = [sum((t[1][0][m] * t[0] for t in terms), _ZERO) for m in range(4)]
        der = [[sum((t[1][1][n][m] * t[0] for t in terms), _ZERO) for m in range(4)] for n in range(4)]
        return comp, der

    none = ([_ZERO] * 4, [[_ZERO] * 4 for _ in range(4)])
    field = {"Wp": none, "Wm": none, "Z": none, "A": none}
    l1, l2 = leg(2, q1, e1), leg(4, q2, e2)
    if (v1, v2) == ("W", "W"):
        field["Wp"], field["Wm"] = l1, l2
    elif v1 == v2:
        field[v1] = lin((1, l1), (1, l2))
    else:
        field[v1], field[v2] = l1, l2
    r = 1 / np.sqrt(2)
    W = [lin((r, field["Wp"]), (r, field["Wm"])), lin((1j * r, field["Wp"]), (-1j * r, field["Wm"])),
         lin((c, field["Z"]), (s, field["A"]))]
    B = lin((-s, field["Z"]), (c, field["A"]))
    h = _Poly({1: 1.0})
    qh = -(q1 + q2)
    phi = [_ZERO, (_ONE * v + h) * r]
    dphi = [[_ZERO, _Poly({1: -1j * low(qh)[m] * r})] for m in range(4)]

    def d_phi(m, sign):  # D_μφ (sign = +1) or (D_μφ)† (sign = −1, as a row; the fields are hermitian)
        out = list(dphi[m])
        for i in range(2):
            for j in range(2):
                acc = _ZERO
                for a in range(3):
                    sa = _SIGMA[a][i, j] if sign > 0 else _SIGMA[a][j, i]
                    if sa != 0:
                        acc = acc + W[a][0][m] * (sign * 0.5j * g * sa)
                if i == j:
                    acc = acc + B[0][m] * (sign * 0.5j * gp)
                out[i] = out[i] + acc * phi[j]
        return out

    D = [d_phi(m, 1) for m in range(4)]
    Dd = [d_phi(m, -1) for m in range(4)]
    eps = {(0, 1, 2): 1, (1, 2, 0): 1, (2, 0, 1): 1, (0, 2, 1): -1, (2, 1, 0): -1, (1, 0, 2): -1}

    def w_munu(a, m, n):
        out = W[a][1][m][n] + W[a][1][n][m] * (-1)
        for (a_, b_, c_), sign in eps.items():
            if a_ == a:
                out = out + W[b_][0][m] * W[c_][0][n] * (-g * sign)
        return out

    lag = _ZERO
    for m in range(4):
        for i in range(2):
            lag = lag + Dd[m][i] * D[m][i] * gdiag[m]
    phisq = phi[1] * phi[1]
    for a in range(3):
        for m in range(4):
            for n in range(4):
                if m == n:
                    continue
                wmn = w_munu(a, m, n)
                bil = _ZERO
                for i in range(2):
                    for j in range(2):
                        if _SIGMA[a][i, j] != 0:
                            bil = bil + Dd[m][i] * D[n][j] * _SIGMA[a][i, j]
                lag = lag + bil * wmn * (0.5j * g * fw * gdiag[m] * gdiag[n])
                lag = lag + phisq * wmn * wmn * (-0.25 * g * g * fww * gdiag[m] * gdiag[n])
    return lag.get(7, 0.0) / (g * ew.m_w)


def _off_shell(rng):
    q1, q2 = rng.normal(size=4) * 120, rng.normal(size=4) * 120
    return q1, q2


def _transverse(rng, q):
    e = rng.normal(size=4) + 1j * rng.normal(size=4)
    return e - (e @ METRIC @ q) / (q @ METRIC @ q) * q  # e·q = 0 (a conserved current)


@pytest.mark.parametrize("pair", PAIRS)
def test_vertex_table_is_the_lagrangian_vertex(pair):
    """On conserved currents (e_k·q_k = 0) every θ-piece of the table equals the field expansion of L."""
    rng = np.random.default_rng(sum(map(ord, "".join(pair))))
    for _ in range(3):
        q1, q2 = _off_shell(rng)
        e1, e2 = _transverse(rng, q1), _transverse(rng, q2)
        table = me.contract_vertex(*pair, q1[None], q2[None], e1[None], e2[None], EW)[0]
        derived_sm = _lagrangian_vertex(*pair, q1, q2, METRIC @ e1, METRIC @ e2, 0.0, 0.0)
        scale = abs(table[1]) + abs(table[2]) + abs(derived_sm)
        assert abs(table[0] - derived_sm) < 1e-12 * max(scale, 1.0)
        for k in (1, 2):
            derived = _lagrangian_vertex(*pair, q1, q2, METRIC @ e1, METRIC @ e2, *PIECES[k]) - derived_sm
            assert derived == pytest.approx(table[k], rel=1e-9, abs=1e-14), (pair, k)


@pytest.mark.parametrize("pair", PAIRS)
def test_b_coefficients_from_the_lagrangian(pair):
    """B (coefficient of −q2^α q1^β) and A read off the derived tensor: B_WW = 2F_WW − F_W, B_ZZ = 2c²F_WW − F_W, ..."""
    rng = np.random.default_rng(7)
    q1, q2 = _off_shell(rng)
    basis = np.eye(4)
    structures = [METRIC, np.outer(q2, q1), np.outer(q1, q2), np.outer(q1, q1), np.outer(q2, q2)]
    design = np.stack([x.ravel() for x in structures], axis=1).astype(complex)
    s, c2 = np.sqrt(EW.s2), EW.c2
    sq = lambda q: q @ METRIC @ q  # noqa: E731
    expected_b = {("W", "W"): (-1, 2), ("Z", "Z"): (-1, 2 * c2), ("A", "Z"): (-s / np.sqrt(c2) / 2, 2 * s * np.sqrt(c2)),
                  ("Z", "A"): (-s / np.sqrt(c2) / 2, 2 * s * np.sqrt(c2)), ("A", "A"): (0, 2 * s**2)}[pair]
    for k in (1, 2):
        tensor = np.array([[_lagrangian_vertex(*pair, q1, q2, basis[a], basis[b], *PIECES[k])
                            - _lagrangian_vertex(*pair, q1, q2, basis[a], basis[b], 0.0, 0.0)
                            for b in range(4)] for a in range(4)]) / me.TEV2_TO_GEV2
        coef, *_ = np.linalg.lstsq(design, tensor.ravel(), rcond=None)
        assert np.abs(design @ coef - tensor.ravel()).max() <= 1e-9 * np.abs(tensor).max()
        b = -coef[1]
        a = coef[0] - b * (q1 @ METRIC @ q2)
        assert b.real == pytest.approx(expected_b[k - 1], rel=1e-10, abs=1e-12)
        assert abs(coef[2]) <= 1e-9 * max(abs(b), 1.0)  # no q1^α q2^β structure
        if k == 2:  # O_WW: pure B structure, no contact term
            assert abs(a) < 1e-9 * abs(b) * abs(q1 @ METRIC @ q2)
        elif pair in (("W", "W"), ("Z", "Z")):
            assert a.real == pytest.approx(-0.5 * (sq(q1) + sq(q2)), rel=1e-10)


def _hisz_vertex(pair, q1, q2, e1, e2, f_w, f_ww, ew=EW):
    """Γ e1 e2 / (i g m_W) from HISZ's effective couplings (PRD 48 (1993) 2182; f_B = f_BB = 0), e_k·q_k = 0.

    Momentum-space rules (all momenta incoming, ∂ → −ip): g1 (V1_μν V2^μ ∂^ν H [+ (1↔2)]) and g2 H V1_μν V2^μν give
    i g1 [−q1² e1·e2 − (q1·q2 e1·e2 − e1·q2 e2·q1)] per ordering and i g2 (−2)(q1·q2 e1·e2 − e1·q2 e2·q1) per ordering.
    """
    s, c = np.sqrt(ew.s2), np.sqrt(ew.c2)
    gmw = ew.g * ew.m_w
    fw, fww = f_w * me.TEV2_TO_GEV2, f_ww * me.TEV2_TO_GEV2
    dot = lambda a, b: a @ METRIC @ b  # noqa: E731
    t = dot(q1, q2) * dot(e1, e2) - dot(e1, q2) * dot(e2, q1)
    one = {"W": 1.0, "Z": 1.0 / ew.c2}
    if pair == ("W", "W"):
        g1, g2, sm, both = gmw * fw / 2, -gmw * fww, 1.0, True  # W⁺ and W⁻ terms (h.c.): both orderings
    elif pair == ("Z", "Z"):
        g1, g2, sm, both = gmw * fw / 2, -gmw * c**2 * fww / 2, one["Z"], True  # identical fields: both orderings
    elif pair == ("A", "A"):
        g1, g2, sm, both = 0.0, -gmw * s**2 * fww / 2, 0.0, True
    else:
        g1, g2, sm, both = gmw * s * fw / (2 * c), -gmw * s * c * fww, 0.0, False
    if both:
        g1_part = g1 * (-(dot(q1, q1) + dot(q2, q2)) * dot(e1, e2) - 2 * t)
        g2_part = g2 * (-4 * t) if pair != ("W", "W") else g2 * (-2 * t)
    else:  # A_μν Z^μ ∂^ν H: only the photon leg carries the field strength
        qa = q1 if pair[0] == "A" else q2
        g1_part = g1 * (-dot(qa, qa) * dot(e1, e2) - t)
        g2_part = g2 * (-2 * t)
    return sm * dot(e1, e2) + (g1_part + g2_part) / gmw


@pytest.mark.parametrize("pair", PAIRS)
def test_vertex_table_is_hisz(pair):
    rng = np.random.default_rng(11)
    for _ in range(5):
        q1, q2 = _off_shell(rng)
        e1, e2 = _transverse(rng, q1), _transverse(rng, q2)
        table = me.contract_vertex(*pair, q1[None], q2[None], e1[None], e2[None], EW)[0]
        for k, (fw, fww) in enumerate(PIECES):
            value = _hisz_vertex(pair, q1, q2, e1, e2, fw, fww) - (_hisz_vertex(pair, q1, q2, e1, e2, 0, 0) if k else 0)
            assert value == pytest.approx(table[k], rel=1e-10, abs=1e-14), (pair, k)


# ------------------------------------------------------------------------------------- neutral current by traces
_I2, _Z2 = np.eye(2), np.zeros((2, 2))
_GAMMA = [np.block([[_I2, _Z2], [_Z2, -_I2]]).astype(complex)] + [np.block([[_Z2, s], [-s, _Z2]]) for s in _SIGMA]
_G5 = np.block([[_Z2, _I2], [_I2, _Z2]]).astype(complex)
_PROJ = [(np.eye(4) - _G5) / 2, (np.eye(4) + _G5) / 2]


def _line_tensor(p_in, p_out, chirality, antiquark):
    """Σ_spins J_μ J_ν* (lower indices): Tr[p̸_out γ^μ P p̸_in γ^ν] (quark), Tr[p̸_in γ^μ P p̸_out γ^ν] (antiquark)."""
    slash = lambda p: sum(METRIC[m, m] * p[m] * _GAMMA[m] for m in range(4))  # noqa: E731
    first, second = (slash(p_in), slash(p_out)) if antiquark else (slash(p_out), slash(p_in))
    upper = np.array([[np.trace(first @ _GAMMA[m] @ _PROJ[chirality] @ second @ _GAMMA[n]) for n in range(4)]
                      for m in range(4)])
    return METRIC @ upper @ METRIC


def _couplings(pid, ew=EW):
    up = abs(pid) % 2 == 0
    q, t3 = (2 / 3, 0.5) if up else (-1 / 3, -0.5)
    gz = ew.g / np.sqrt(ew.c2)
    return {"Z": (gz * (t3 - q * ew.s2), -gz * q * ew.s2), "A": (ew.e * q, ew.e * q)}


@pytest.mark.parametrize("photons", [True, False])
def test_neutral_current_production_equals_the_trace_formula(photons):
    """All six θ-coefficients of ⟨|M|²⟩ for ZZ (+γ) fusion, qq, qq̄ and q̄q̄ lines, from traces with the full vertex."""
    from simulators.wbf.phase_space import random_production

    rng = np.random.default_rng(99)
    n = 12
    p1, p2, p3, p4, _ = random_production(n, rng, root_s_max=1500.0)
    id1 = rng.choice([1, 2, 3, 4, 5], n) * rng.choice([1, -1], n)
    id2 = rng.choice([1, 2, 3, 4, 5], n) * rng.choice([1, -1], n)
    coeff = me.production_coefficients(p1, p2, p3, p4, id1, id2, False, EW, photons)
    pairs = [("Z", "Z"), ("A", "Z"), ("Z", "A"), ("A", "A")] if photons else [("Z", "Z")]
    for i in range(n):
        q1, q2 = p1[i] - p3[i], p2[i] - p4[i]
        prop = {}
        for leg, q in ((1, q1), (2, q2)):
            t = q @ METRIC @ q
            prop[leg] = {"Z": 1 / (t - EW.m_z**2), "A": 1 / t}
        c1, c2 = _couplings(id1[i]), _couplings(id2[i])
        # Γ^{αβ} / (i) per θ-piece and pair, full tensor (q^α q^β terms included)
        tensors = {}
        for pair in pairs:
            a_, b_, c1_, c2_ = me.vertex_coefficients(*pair, np.array([q1 @ METRIC @ q1]), np.array([q2 @ METRIC @ q2]), EW)
            q12 = q1 @ METRIC @ q2
            tensors[pair] = [EW.g * EW.m_w * (a_[0, k] * METRIC + b_[0, k] * (q12 * METRIC - np.outer(q2, q1))
                                               + c1_[0, k] * np.outer(q1, q1) + c2_[0, k] * np.outer(q2, q2))
                             for k in range(3)]
        lines1 = [_line_tensor(p1[i], p3[i], lam, id1[i] < 0) for lam in (0, 1)]
        lines2 = [_line_tensor(p2[i], p4[i], lam, id2[i] < 0) for lam in (0, 1)]

        def contract(ka, kb):
            total = 0.0
            for l1 in (0, 1):
                for l2 in (0, 1):
                    amp = [sum(c1[v1][l1] * c2[v2][l2] * prop[1][v1] * prop[2][v2] * tensors[(v1, v2)][k]
                               for v1, v2 in pairs) for k in (ka, kb)]
                    total += np.einsum("ab,cd,ac,bd->", amp[0], amp[1].conj(), lines1[l1], lines2[l2])
            return total.real

        expected = 0.25 * np.array([contract(0, 0), 2 * contract(0, 1), 2 * contract(0, 2),
                                    contract(1, 1), 2 * contract(1, 2), contract(2, 2)])
        np.testing.assert_allclose(coeff[i], expected, rtol=1e-9, atol=1e-12 * abs(expected[0]))
