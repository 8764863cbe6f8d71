"""The parton-level WBF sample from ``simulate``: data contract, morphing, and the exact-likelihood truth."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import simulators
from simulators.wbf.matrix_element import EWInputs

N_EVENTS = 6000


@pytest.fixture(scope="module")
def sample():
    return simulators.get("wbf").simulate(N_EVENTS, seed=3, level="parton")


def test_sample_follows_the_data_contract(sample, tmp_path):
    from lfi.events import EventSample

    assert sample.parameters == ["f_W", "f_WW"] and sample.units == "TeV^-2"
    generated, selected = sample.metadata["cutflow"]["wbf"]
    n = selected["events"]
    assert generated["events"] == N_EVENTS and 0.7 < n / N_EVENTS < 0.85  # p_T > 20 GeV on both quarks
    assert sample.weights.shape == (n, 16) and sample.morphing_components.shape == (15, 2)
    assert sample.observables["pt_j2"].min() >= 20.0
    assert sample.benchmark_names[0] == "sm" and np.all(sample.benchmark_theta[0] == 0)
    assert np.all(np.abs(sample.benchmark_theta) <= 16.5)
    assert sorted(np.unique(sample.types[:, :6]).tolist()) == [1, 3, 4, 5, 6]
    # objects ordered by pT
    pts = np.hypot(sample.momenta[..., 1], sample.momenta[..., 2])
    assert np.all(np.diff(pts, axis=1) <= 1e-3)
    for name in ("pt_j1", "pt_j2", "m_jj", "delta_eta_jj", "delta_phi_jj", "m_4l", "pt_4l", "m_z1", "m_z2"):
        assert np.all(np.isfinite(sample.observables[name]))
    assert np.all(np.abs(sample.observables["m_4l"] - 125) < 1.0)
    mixed = np.any(sample.types == 3, axis=1) & np.any(sample.types == 5, axis=1)
    assert 0.3 < mixed.mean() < 0.7
    assert np.all(sample.observables["m_z2"][mixed] > 12 - 1e-3)  # 2e2μ: the generated pairs
    assert sample.observables["delta_phi_jj"].min() < -2 and sample.observables["delta_phi_jj"].max() > 2
    path = sample.save(tmp_path / "wbf.h5")
    back = EventSample.load(path)
    np.testing.assert_array_equal(back.weights, sample.weights)
    assert back.truth_events.keys() == sample.truth_events.keys()


def test_weights_morph_exactly_and_sum_to_sigma(sample):
    rng = np.random.default_rng(0)
    theta = rng.uniform(-16.5, 16.5, size=(5, 2))
    direct = sample.truth_events["weight_coefficients"] @ sample.morpher().monomials(theta).T
    scale = np.abs(sample.truth_events["weight_coefficients"]) @ np.abs(sample.morpher().monomials(theta).T)
    assert np.all(np.abs(sample.weights_at(theta) - direct) <= 1e-11 * scale)
    sigma = sample.truth["sigma_coefficients"] @ sample.morpher().monomials(theta).T
    np.testing.assert_allclose(sample.weights_at(theta).sum(axis=0), sigma, rtol=1e-10)
    meta = sample.metadata
    before_cut = meta["pythia_sigma_gen_pb"] * meta["sm_reweighting_factor"]  # σ_SM of all generated events
    assert 0.7 < sample.cross_sections[0] / before_cut < 0.85
    assert 3e-4 < sample.cross_sections[0] < 5e-4  # docs/generator.md §4: 4.21e-4 pb with Pythia's default inputs


def test_same_seed_same_sample_any_worker_count(monkeypatch):
    """Chunks have a fixed size, so K spawned workers give the very same events as one process."""
    import importlib

    wbf_simulate = importlib.import_module("simulators.wbf.simulate")  # the module, not the function

    monkeypatch.setitem(wbf_simulate.CHUNK_EVENTS, "parton", 1500)
    one = wbf_simulate.simulate(4000, seed=5, level="parton", truth=False, workers=1)
    two = wbf_simulate.simulate(4000, seed=5, level="parton", truth=False, workers=2)
    assert one.metadata["cutflow"] == two.metadata["cutflow"] and one.metadata["cutflow"]["wbf"][0]["events"] == 4000
    np.testing.assert_array_equal(one.weights, two.weights)
    np.testing.assert_array_equal(one.momenta, two.momenta)
    assert len(np.unique(one.momenta[:, 0, 0])) == len(one)  # chunks have different seeds


def test_truth_reduces_to_the_joint_ratio_with_one_channel_open(sample):
    """Restricted to the generated flavours, jet assignment and lepton pairing, the likelihood polynomial is
    proportional (θ-independently) to the event's weight polynomial."""
    from simulators.wbf.generate import generate_chunk, pythia_settings
    from simulators.wbf.reweight import massless_event, reweighting_polynomials
    from simulators.wbf.truth import likelihood_polynomials

    chunk = generate_chunk({"n": 1500, "seed": 77, "level": "parton", "settings": pythia_settings("parton")})
    ew = replace(EWInputs.madminer(), width_z=chunk["params"]["width_Z"])
    full = reweighting_polynomials(chunk, ew)["full"]
    kin = massless_event(chunk)
    import pythia8mc

    pdf = pythia8mc.Pythia("", False).getPDFPtr(2212)
    jets = np.stack([kin["p3"], kin["p4"]], axis=1)
    args = (jets, kin["k"], chunk["lepton_ids"], pdf, chunk["params"], ew)
    only = likelihood_polynomials(*args, only={"ids": chunk["ids"]})
    np.testing.assert_allclose(only, full / full[:, :1], rtol=1e-9, atol=1e-12)
    marginal = likelihood_polynomials(*args)
    assert np.abs(marginal - only).max() > 1e-3  # summing the unobserved channels changes the ratio


def test_truth_ratio_has_unit_expectation(sample):
    """E_{x∼θ1}[r(x|θ0, θ1)] = 1 for the exact marginal ratio, checked on the weighted sample."""
    morpher = sample.morpher()
    coeff = sample.truth_events["density_coefficients"]
    for theta0, theta1 in (([0.0, 0.0], [8.0, -8.0]), ([10.0, 5.0], [0.0, 0.0]), ([-12.0, 12.0], [5.0, 5.0])):
        mono = morpher.monomials(np.array([theta0, theta1]))
        p0, p1 = coeff @ mono[0], coeff @ mono[1]
        assert np.all(p0 > 0) and np.all(p1 > 0)
        w1 = sample.weights_at(np.array(theta1))
        sigma0, sigma1 = sample.weights_at(np.array(theta0)).sum(), w1.sum()
        r = (p0 / sigma0) / (p1 / sigma1)
        mean = np.sum(w1 * r) / sigma1
        err = np.sqrt(np.sum((w1 * (r - mean)) ** 2)) / sigma1
        assert abs(mean - 1) < 4 * err + 1e-3, (theta0, theta1, mean, err)


def test_bad_inputs_raise_clear_errors():
    wbf = simulators.get("wbf")
    with pytest.raises(ValueError, match="not be invertible"):
        wbf.simulate(10, theta_range=((1.0, 1.0), (-1.0, 1.0)))
    with pytest.raises(ValueError, match="level"):
        wbf.simulate(10, level="hadron")
    with pytest.raises(ValueError, match="n_events"):
        wbf.simulate(0)
