"""Exact parton-level likelihood of WBF H → 4ℓ events, as a θ-polynomial per event.

At parton level the observation x is the two jets (the outgoing quarks, massless) and the four leptons.
The density of the generated sample at x (Pythia's SM events reweighted with the EFT matrix element) is

    dσ(x|θ) ∝ Σ_hyp x1f_a(x1, Q²) x2f_b(x2, Q²) · V²_CKM · ⟨|M_prod,hyp(θ)|²⟩  ×  Σ_pairings |M_dec(θ)|² · Θ(m_ℓℓ cuts)

summed over the unobserved: the sub-process (W W fusion, Z Z/γ fusion — the generator has no interference
between them, nor between t- and u-channel topologies, and neither has this density), both assignments of
the jets to the incoming partons, all parton flavours (quark or antiquark, u- or d-type, with Pythia's PDF
``getPDFPtr(2212)`` at the generation's factorisation scale Q² = √((m_V² + p_T,j1²)(m_V² + p_T,j2²)),
``SigmaProcess:factorScale3VV = 2``; charged current summed over outgoing flavours with Pythia's
``V2CKMsum``), and, for 4e and 4μ, both pairings of the leptons into Z candidates. x1, x2 follow from the
observed momenta. Factors common to all hypotheses (flux, phase space, 1/(x1 x2), the Higgs propagator) are
dropped, so the stored polynomial is dσ(x|θ) up to a θ-independent per-event factor; it is normalised to 1
at the SM. With σ(θ) from the morphed weights, r(x|θ0, θ1) = [P_x(θ0)/σ(θ0)] / [P_x(θ1)/σ(θ1)] exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lfi.objects import mass2, pt

from .matrix_element import (
    EWInputs,
    combine_kernels,
    decay_coefficients,
    line_couplings,
    multiply_polynomials,
    production_kernels,
    squared_coefficients,
)

__all__ = ["likelihood_polynomials", "pdf_table", "ROOT_S"]

ROOT_S = 13000.0
_UP, _DOWN = (2, 4), (1, 3, 5)
_FLAVOURS = np.arange(-5, 6)


def pdf_table(pdf, x: np.ndarray, q2: np.ndarray) -> np.ndarray:
    """x·f(x, Q²) of the proton for ids −5..5 (index id + 5), shape (N, 11).

    Parameters
    ----------
    pdf : Pythia PDF object (``Pythia.getPDFPtr(2212)``)
    x, q2 : ndarray, shape (N,)
        Momentum fractions and factorisation scales in GeV².
    """
    out = np.zeros((len(x), len(_FLAVOURS)))
    for i, (xi, qi) in enumerate(zip(x.tolist(), q2.tolist())):
        for j, flavour in enumerate(_FLAVOURS.tolist()):
            if flavour != 0:
                out[i, j] = pdf.xf(flavour, xi, qi)
    return out


def _class_weights(table: np.ndarray, v2sum: dict[int, float]) -> dict[tuple[str, bool, bool], np.ndarray]:
    """PDF sums per (isospin class, antiquark?, charged current?): Σ_{id∈class} x f(±id) [· V2CKMsum(id)]."""
    out = {}
    for name, members in (("u", _UP), ("d", _DOWN)):
        for bar in (False, True):
            cols = [(-m if bar else m) + 5 for m in members]
            out[(name, bar, False)] = table[:, cols].sum(axis=1)
            out[(name, bar, True)] = sum(table[:, c] * v2sum[m] for c, m in zip(cols, members))
    return out


def _charged_allowed(c1: str, bar1: bool, c2: str, bar2: bool) -> bool:
    """W⁺W⁻ fusion needs opposite W charges: same isospin needs opposite signs, different isospin same signs."""
    return (c1 == c2) == (bar1 != bar2)


def likelihood_polynomials(
    jets: np.ndarray,
    leptons: np.ndarray,
    lepton_ids: np.ndarray,
    pdf,
    params: dict[str, Any],
    ew: EWInputs,
    photons: bool = True,
    m_ll_min: float = 12.0,
    only: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """θ-polynomial of the parton-level likelihood dσ(x|θ) of every event (see module docstring).

    Parameters
    ----------
    jets : ndarray, shape (N, 2, 4)
        The two outgoing quarks (massless, GeV), in any order.
    leptons : ndarray, shape (N, 4, 4)
        ℓ_a⁻, ℓ_a⁺, ℓ_b⁻, ℓ_b⁺ (massless, GeV).
    lepton_ids : ndarray of int, shape (N, 2)
        |PDG id| of the two pairs (11, 13).
    pdf : Pythia PDF object
        ``Pythia.getPDFPtr(2212)`` of the generator's PDF set.
    params : dict
        Generator parameters: ``m_W``, ``m_Z`` (GeV; the scale choice) and ``v2ckm_sum`` ({id: Σ|V|²}).
    ew : EWInputs
        Inputs of the matrix element (as used for the weights, including the generator's Z width).
    photons : bool
        Include the photon channels.
    m_ll_min : float
        The generator's cut on both lepton-pair masses (GeV).
    only : dict, optional
        Restrict the sum to one hypothesis per event, for tests: ``ids`` (N, 4) = incoming 1, 2 and their
        outgoing partners (with ``jets[:, 0]`` the partner of incoming 1) — then no pairing sum either.

    Returns
    -------
    ndarray, shape (N, 15)
        Coefficients ordered as ``monomial_components(2, 4)``, normalised to 1 at θ = 0.
    """
    n = len(jets)
    total = jets.sum(axis=1) + leptons.sum(axis=1)
    x1 = (total[:, 0] + total[:, 3]) / ROOT_S
    x2 = (total[:, 0] - total[:, 3]) / ROOT_S
    zero = np.zeros(n)
    p1 = np.stack([x1 * ROOT_S / 2, zero, zero, x1 * ROOT_S / 2], axis=1)
    p2 = np.stack([x2 * ROOT_S / 2, zero, zero, -x2 * ROOT_S / 2], axis=1)
    pt_a, pt_b = pt(jets[:, 0]), pt(jets[:, 1])
    prod = _production(p1, p2, jets, x1, x2, pt_a, pt_b, pdf, params, ew, photons, only)
    dec = _decay(leptons, lepton_ids, ew, photons, m_ll_min, only is not None)
    full = multiply_polynomials(prod, dec)
    return full / full[:, :1]


def _production(p1, p2, jets, x1, x2, pt_a, pt_b, pdf, params, ew, photons, only):
    n = len(p1)
    out = np.zeros((n, 6))
    pairs_nc = [("Z", "Z"), ("A", "Z"), ("Z", "A"), ("A", "A")] if photons else [("Z", "Z")]
    rep = {"u": line_couplings(np.array([2]), ew), "d": line_couplings(np.array([1]), ew)}
    rep = {k: {v: c[0] for v, c in cpl.items()} for k, cpl in rep.items()}
    if only is not None:
        ids = np.asarray(only["ids"])
        charged = ids[:, 2] != ids[:, 0]
        kernels = production_kernels(p1, p2, jets[:, 0], jets[:, 1], ids[:, 0] < 0, ids[:, 1] < 0, ew, photons)
        c1, c2 = line_couplings(ids[:, 0], ew), line_couplings(ids[:, 1], ew)
        amp = np.where(
            charged[:, None, None, None],
            combine_kernels(kernels, c1, c2, [("W", "W")]),
            combine_kernels(kernels, c1, c2, pairs_nc),
        )
        mv2 = np.where(charged, params["m_W"] ** 2, params["m_Z"] ** 2)
        q2 = np.sqrt((mv2 + pt_a**2) * (mv2 + pt_b**2))
        xf1 = np.array([pdf.xf(int(i), float(x), float(q)) for i, x, q in zip(ids[:, 0], x1, q2)])
        xf2 = np.array([pdf.xf(int(i), float(x), float(q)) for i, x, q in zip(ids[:, 1], x2, q2)])
        v2 = params["v2ckm_id"]
        ckm = np.where(charged, [v2[(abs(a), abs(b))] * v2[(abs(c), abs(d))] for a, b, c, d in ids[:, [0, 2, 1, 3]]], 1.0)
        return squared_coefficients(amp, 0.25) * (xf1 * xf2 * ckm)[:, None]
    weights = {}
    for charged, mass in ((True, params["m_W"]), (False, params["m_Z"])):
        q2 = np.sqrt((mass**2 + pt_a**2) * (mass**2 + pt_b**2))
        w1 = _class_weights(pdf_table(pdf, x1, q2), params["v2ckm_sum"])
        w2 = _class_weights(pdf_table(pdf, x2, q2), params["v2ckm_sum"])
        weights[charged] = (w1, w2)
    for swap in (False, True):
        p3, p4 = (jets[:, 1], jets[:, 0]) if swap else (jets[:, 0], jets[:, 1])
        for bar1 in (False, True):
            for bar2 in (False, True):
                kernels = production_kernels(p1, p2, p3, p4, bar1, bar2, ew, photons)
                w1, w2 = weights[True]
                cc_weight = sum(
                    w1[(c1, bar1, True)] * w2[(c2, bar2, True)]
                    for c1 in "ud"
                    for c2 in "ud"
                    if _charged_allowed(c1, bar1, c2, bar2)
                )
                w_cpl = {"W": np.array([ew.g / np.sqrt(2.0), 0.0])}
                cc = squared_coefficients(combine_kernels(kernels, w_cpl, w_cpl, [("W", "W")]), 0.25)
                out += cc * cc_weight[:, None]
                w1, w2 = weights[False]
                for c1 in "ud":
                    for c2 in "ud":
                        amp = combine_kernels(kernels, rep[c1], rep[c2], pairs_nc)
                        nc_weight = w1[(c1, bar1, False)] * w2[(c2, bar2, False)]
                        out += squared_coefficients(amp, 0.25) * nc_weight[:, None]
    return out


def _decay(leptons, lepton_ids, ew, photons, m_ll_min, generated_only):
    k = leptons
    ids = np.abs(lepton_ids)
    out = decay_coefficients(k[:, 0], k[:, 1], k[:, 2], k[:, 3], ids[:, 0], ids[:, 1], ew, photons)
    if generated_only:
        return out
    same = ids[:, 0] == ids[:, 1]
    if same.any():
        a, b, c, d = (k[same, i] for i in (0, 3, 2, 1))  # ℓ_a⁻ ℓ_b⁺ | ℓ_b⁻ ℓ_a⁺
        alt = decay_coefficients(a, b, c, d, ids[same, 0], ids[same, 1], ew, photons)
        inside = (mass2(a + b) > m_ll_min**2) & (mass2(c + d) > m_ll_min**2)
        out[same] += alt * inside[:, None]
    return out
