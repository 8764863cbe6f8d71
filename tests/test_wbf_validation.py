"""Validation of the reweighted Pythia sample against docs/eft.md §9 and Pythia's own numbers (parton level).

One Pythia run of 120 000 parton-level events (~25 s on one core) feeds all checks:
Pythia's density is reproduced exactly on quark–quark lines, the factorisation scale and PDFs used by the
truth are Pythia's, the linear coefficients of σ(θ)/σ_SM and Γ(θ)/Γ_SM match the reference numbers, and the
WW/ZZ shares match Pythia's per-process σ.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulators.wbf import kinematics as K
from simulators.wbf.generate import generate_chunk, pythia_settings
from simulators.wbf.matrix_element import EWInputs
from simulators.wbf.reweight import massless_event, reweighting_polynomials

pytestmark = pytest.mark.slow
N_EVENTS = 120_000
EW = EWInputs.madminer()


@pytest.fixture(scope="module")
def chunk():
    return generate_chunk({"n": N_EVENTS, "seed": 12345, "level": "parton", "settings": pythia_settings("parton")})


@pytest.fixture(scope="module")
def polys(chunk):
    from dataclasses import replace

    ew = replace(EW, width_z=chunk["params"]["width_Z"])
    return {photons: reweighting_polynomials(chunk, ew, photons) for photons in (True, False)}


def _linear(prod: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ratio estimates of the two linear coefficients of Σ R(θ) / Σ R(0) and their statistical errors."""
    m = prod.mean(axis=0)
    lin = m[1:3] / m[0]
    err = np.array([np.std(prod[:, k] - lin[k - 1] * prod[:, 0]) for k in (1, 2)]) / np.sqrt(len(prod)) / m[0]
    return lin, err


def test_pythia_density_is_reproduced_exactly_on_quark_quark_lines(chunk, polys):
    ids = chunk["ids"]
    qq = ids[:, 0] * ids[:, 1] > 0
    r0 = polys[True]["production"][:, 0]
    assert qq.mean() > 0.4
    np.testing.assert_allclose(r0[qq], 1.0, rtol=0, atol=1e-9)
    # quark-antiquark lines are corrected, by a few per cent
    assert 0.01 < np.abs(r0[~qq] - 1).mean() < 0.2


def test_factorisation_scale_and_pdfs_are_pythias(chunk):
    kin = massless_event(chunk)
    charged = chunk["ids"][:, 2] != chunk["ids"][:, 0]
    mv2 = np.where(charged, chunk["params"]["m_W"] ** 2, chunk["params"]["m_Z"] ** 2)
    q2 = np.sqrt((mv2 + K.pt(kin["p3"]) ** 2) * (mv2 + K.pt(kin["p4"]) ** 2))
    np.testing.assert_allclose(q2 / chunk["q2_fac"], 1.0, rtol=0, atol=1e-10)
    import pythia8mc

    pdf = pythia8mc.Pythia("", False).getPDFPtr(2212)
    ids, x1 = chunk["ids"][:200, 0], chunk["x1"][:200]
    ours = np.array([pdf.xf(int(i), float(x), float(q)) for i, x, q in zip(ids, x1, q2[:200])])
    np.testing.assert_allclose(ours / chunk["xf1"][:200], 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("photons,reference", [(True, 0.0182), (False, 0.0170)])
def test_production_linear_coefficient_f_w(polys, photons, reference):
    lin, err = _linear(polys[photons]["production"])
    reference_err = 0.001 * reference  # 0.1 %: stricter than the ~0.5 % statistical error of docs/eft.md §9
    assert err[0] < 2e-4
    assert abs(lin[0] - reference) < 3 * np.hypot(err[0], reference_err) + 5e-5, (lin[0], err[0])


@pytest.mark.parametrize("photons,reference", [(True, 0.0074), (False, 0.0063)])
def test_production_linear_coefficient_f_ww(polys, photons, reference):
    """The corrected F_WW coefficients of docs/eft.md §9 (with / without photon channels), ~1 % statistical error."""
    lin, err = _linear(polys[photons]["production"])
    assert abs(lin[1] - reference) < 3 * np.hypot(err[1], 0.01 * reference) + 5e-5, (lin[1], err[1])


@pytest.mark.parametrize("photons,a_ref,b_ref", [(False, -0.0097, 0.0053), (True, -0.0080, 0.0014)])
def test_decay_coefficients_on_pythias_decays(chunk, polys, photons, a_ref, b_ref):
    """The mean of R_dec over Pythia's H → 2e2μ decays reproduces Γ(θ)/Γ_SM: Pythia's decay density is the SM one."""
    mixed = np.abs(chunk["lepton_ids"][:, 0]) != np.abs(chunk["lepton_ids"][:, 1])
    dec = polys[photons]["decay"][mixed]
    for k, ref in ((1, a_ref), (2, b_ref)):
        mean, err = dec[:, k].mean(), dec[:, k].std() / np.sqrt(len(dec))
        assert abs(mean - ref) < 3 * err + 5e-5, (k, mean, err, ref)


def test_ww_and_zz_shares_match_pythias_sigma_per_process(chunk, polys):
    charged = polys[True]["charged"]
    share = chunk["sigma_code_pb"][907] / chunk["sigma_pb"]
    err = np.sqrt(share * (1 - share) / len(charged))
    assert abs(charged.mean() - share) < 4 * err + 2e-3, (charged.mean(), share)
    assert chunk["sigma_code_pb"][906] + chunk["sigma_code_pb"][907] == pytest.approx(chunk["sigma_pb"], rel=1e-9)
    assert 0.70 < share < 0.76  # docs/generator.md §4: 2.61 of 3.58 pb


def test_sm_cross_section_is_sigma_gen_times_the_reweighting_correction(chunk, polys):
    r0 = polys[True]["production"][:, 0]
    correction = r0.mean()
    sigma_sm = chunk["sigma_pb"] / len(r0) * r0.sum()
    assert sigma_sm == pytest.approx(chunk["sigma_pb"] * correction, rel=1e-12)
    qqbar = chunk["ids"][:, 0] * chunk["ids"][:, 1] < 0
    # the whole correction comes from quark-antiquark lines (R = 1 elsewhere), and it lowers the rate
    assert (1 - correction) == pytest.approx(np.sum(1 - r0[qqbar]) / len(r0), rel=1e-6)
    assert 0.97 < correction < 1.0
