"""Per-event θ-polynomials of the reweighting factor |M(θ)|² / |M_Pythia|² for generated WBF events.

For an event with generator weight w_gen (pb) the weight at θ is

    w(θ) = w_gen · R_prod(θ) · R_dec(θ),   R_prod = ⟨|M_prod(θ)|²⟩ / ⟨|M_Pythia|²⟩,   R_dec = |M_dec(θ)|² / |M_dec(0)|²,

with ⟨|M_Pythia|²⟩ Pythia's own SM formula evaluated exactly as Pythia evaluated it (its electroweak
parameters, its α_EM, the massless kinematics before it assigned quark masses), so the sample is exact at
every θ, the SM included (docs/eft.md §6). Pythia's H → 4ℓ density is the exact SM one with the aligned inputs
(see :mod:`simulators.wbf.generate`), hence R_dec's denominator is our SM decay amplitude. Γ_H is fixed.
R_prod · R_dec is a quartic polynomial in θ: 15 coefficients ordered as ``monomial_components(2, 4)``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .kinematics import boost, massless_pair, undo_pythia_masses
from .matrix_element import (
    EWInputs,
    decay_coefficients,
    multiply_polynomials,
    production_coefficients,
)
from .pythia_density import pythia_production_me

__all__ = ["massless_event", "reweighting_polynomials", "is_charged_current"]


def is_charged_current(ids: np.ndarray) -> np.ndarray:
    """WW fusion (code 907) changes the flavour of both lines; ZZ fusion (906) keeps them. Shape (N,) bool."""
    return ids[:, 2] != ids[:, 0]


def massless_event(chunk: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The massless kinematics at which the matrix elements are evaluated.

    Parameters
    ----------
    chunk : dict
        ``partons`` (N, 5, 4) = in1, in2, out1, out2, H and ``leptons`` (N, 4, 4) as from
        :func:`simulators.wbf.generate.generate_chunk`.

    Returns
    -------
    dict
        ``p1, p2, p3, p4, h`` (N, 4) — incoming partons, their outgoing partners, Higgs — and
        ``k`` (N, 4, 4), the leptons made massless pair by pair (each Z momentum kept) after a boost from the
        recorded Higgs frame to the corrected one, so that p1 + p2 = p3 + p4 + Σk exactly. GeV.
    """
    partons, leptons = chunk["partons"], chunk["leptons"]
    h, q1, q2 = undo_pythia_masses(partons[:, 0], partons[:, 1], partons[:, 4], partons[:, 2], partons[:, 3])
    # carry the decay along: boost the leptons from the recorded Higgs frame into the corrected Higgs frame
    h_rec = leptons.sum(axis=1)
    to_rest, to_new = -h_rec[:, 1:] / h_rec[:, :1], h[:, 1:] / h[:, :1]
    moved = [boost(boost(leptons[:, i], to_rest), to_new) for i in range(4)]
    k1, k2 = massless_pair(moved[0], moved[1])
    k3, k4 = massless_pair(moved[2], moved[3])
    return {"p1": partons[:, 0], "p2": partons[:, 1], "p3": q1, "p4": q2, "h": h, "k": np.stack([k1, k2, k3, k4], 1)}


def reweighting_polynomials(chunk: dict[str, Any], ew: EWInputs, photons: bool = True) -> dict[str, np.ndarray]:
    """θ-polynomials of R_prod, R_dec and their product for every event.

    Parameters
    ----------
    chunk : dict
        Output of :func:`simulators.wbf.generate.generate_chunk` (``ids``, ``partons``, ``leptons``,
        ``lepton_ids``, ``alpha_em``, ``params``).
    ew : EWInputs
        Inputs of the EFT matrix element; its Z width is replaced by the generator's (``params["width_Z"]``)
        so that the decay Breit–Wigner is the one Pythia sampled.
    photons : bool
        Include the photon channels (γZ, Zγ, γγ fusion; H → Zγ*, γ*γ*).

    Returns
    -------
    dict
        ``production`` (N, 6): R_prod; ``decay`` (N, 6): R_dec; ``full`` (N, 15): R_prod · R_dec;
        ``pythia_me`` (N,): ⟨|M_Pythia|²⟩ in GeV⁻²; ``charged`` (N,) bool.
    """
    ids = chunk["ids"]
    ew = replace(ew, width_z=float(chunk["params"]["width_Z"]))
    kin = massless_event(chunk)
    charged = is_charged_current(ids)
    params = chunk["params"]
    prod = production_coefficients(kin["p1"], kin["p2"], kin["p3"], kin["p4"], ids[:, 0], ids[:, 1], charged, ew, photons)
    pythia = pythia_production_me(
        kin["p1"], kin["p2"], kin["p3"], kin["p4"], ids[:, 0], ids[:, 1], charged,
        alpha=chunk["alpha_em"], s2=params["sin2thetaW"], s2bar=params["sin2thetaWbar"],
        m_z=params["m_Z"], m_w=params["m_W"],
    )  # fmt: skip
    k = kin["k"]
    lep = np.abs(chunk["lepton_ids"])
    dec = decay_coefficients(k[:, 0], k[:, 1], k[:, 2], k[:, 3], lep[:, 0], lep[:, 1], ew, photons)
    r_prod = prod / pythia[:, None]
    r_dec = dec / dec[:, :1]
    return {
        "production": r_prod,
        "decay": r_dec,
        "full": multiply_polynomials(r_prod, r_dec),
        "pythia_me": pythia,
        "charged": charged,
    }
