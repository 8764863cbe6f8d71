"""The toy simulator against its own analytic facts: exact sampling, exact morphing, exact likelihood."""

import numpy as np
import pytest

import simulators.toy as toy
from lfi.morphing import monomial_components
from lfi.truth import exact_cross_section, exact_log_likelihood
from simulators.toy import Detector, ExactLikelihood, ToyModel


def _alpha(theta):
    theta = np.atleast_2d(theta)
    return np.prod(theta[:, None, :] ** monomial_components(2, 2)[None], axis=-1)


def test_joint_coefficients_reproduce_the_squared_amplitude():
    model = ToyModel()
    rng = np.random.default_rng(0)
    z = np.column_stack([rng.uniform(1, 500, 50), rng.uniform(-3, 3, 50), rng.uniform(-4, 4, 50)])
    for theta in ([0.0, 0.0], [0.7, -0.3], [-1.0, 1.0]):
        amp = model.amplitudes(z) @ np.array([1.0, *theta])
        direct = np.abs(amp) ** 2 + model.epsilon
        np.testing.assert_allclose(model.joint_coefficients(z) @ _alpha(theta)[0], direct, rtol=1e-12)
        assert direct.min() >= model.epsilon


def test_stored_weights_morph_exactly(toy_sample):
    assert toy_sample.n_benchmarks >= 7 and len(toy_sample.morphing_basis) == 6
    for b in range(toy_sample.n_benchmarks):
        morphed = toy_sample.weights_at(toy_sample.benchmark_theta[b])
        np.testing.assert_allclose(morphed, toy_sample.weights[:, b], rtol=1e-9, atol=1e-15)


def test_weights_are_the_exact_joint_density_ratio(toy_sample):
    g = toy_sample.truth_events["joint_coefficients"]
    ratio = toy_sample.weights[:, 1:] / toy_sample.weights[:, :1]
    expected = (g @ _alpha(toy_sample.benchmark_theta[1:]).T) / (g @ _alpha([0, 0]).T)
    np.testing.assert_allclose(ratio, expected, rtol=1e-10)


def test_cross_sections_agree_with_exact_integral_within_statistics(toy_sample):
    w = toy_sample.weights
    mc, err = w.sum(axis=0), np.sqrt((w**2).sum(axis=0))
    exact = exact_cross_section(toy_sample, toy_sample.benchmark_theta)
    pulls = (mc - exact) / err
    assert np.all(np.abs(pulls) < 4), pulls
    assert exact[0] == pytest.approx(1.05, rel=1e-6)  # σ(θ=0) = σ0(1 + ε)


def test_sampler_draws_from_the_exact_density():
    """E_{z∼p(z|θ)}[dσ(z|θ')/dσ(z|θ)] = σ(θ')/σ(θ): checks the accept–reject sampler against the exact integral."""
    model = ToyModel()
    exact = ExactLikelihood(model, Detector())
    rng = np.random.default_rng(3)
    theta, other = np.array([0.6, -0.8]), np.array([-0.5, 0.4])
    z = model.sample(theta, 200_000, rng)
    g = model.joint_coefficients(z)
    ratio = (g @ _alpha(other)[0]) / (g @ _alpha(theta)[0])
    sigma = exact.sigma_coefficients()
    expected = (_alpha(other)[0] @ sigma) / (_alpha(theta)[0] @ sigma)
    assert abs(ratio.mean() - expected) < 4 * ratio.std() / np.sqrt(len(z))
    assert (z[:, 0] > 0).all() and (z[:, 0] <= model.pt_max).all() and (np.abs(z[:, 1]) <= np.pi).all()


def test_exact_density_integrates_to_the_cross_section():
    """∫ dx dσ(x|θ)/dx = σ(θ) for every component: the detector kernels conserve probability."""
    exact = ExactLikelihood(ToyModel(), Detector())
    log_pt = np.linspace(np.log(1e-3), np.log(2000), 301)
    dphi = np.linspace(-np.pi, np.pi, 81)
    deta = np.linspace(-8, 8, 121)
    grid = np.stack(np.meshgrid(np.exp(log_pt), dphi, deta, indexing="ij"), axis=-1).reshape(-1, 3)
    density = exact.density_coefficients(grid).reshape(len(log_pt), len(dphi), len(deta), 6)
    density *= np.exp(log_pt)[:, None, None, None]  # dx_pt = x_pt d(log x_pt)
    integral = np.trapezoid(np.trapezoid(np.trapezoid(density, deta, axis=2), dphi, axis=1), log_pt, axis=0)
    np.testing.assert_allclose(integral, exact.sigma_coefficients(), rtol=1e-4, atol=1e-6)


def test_exact_density_converges_with_the_grid():
    model, det = ToyModel(), Detector()
    x = np.column_stack([np.geomspace(2, 500, 40), np.linspace(-3, 3, 40), np.linspace(-5, 5, 40)])
    coarse = ExactLikelihood(model, det, n_grid=2001).density_coefficients(x)
    fine = ExactLikelihood(model, det, n_grid=4001).density_coefficients(x)
    np.testing.assert_allclose(coarse, fine, rtol=1e-6, atol=1e-9 * np.abs(fine).max())


def test_exact_ratio_has_unit_mean_under_the_denominator(toy_sample):
    """E_{x∼p(x|θ1)} r(x|θ0, θ1) = 1 with the exact observed-level ratio."""
    theta = np.array([[0.8, -0.5], [0.0, 0.0]])
    log_p = exact_log_likelihood(toy_sample, theta)
    r = np.exp(log_p[:, 0] - log_p[:, 1])
    w = toy_sample.weights[:, toy_sample.benchmark_index("sm")]
    mean = (w * r).sum() / w.sum()
    n_eff = w.sum() ** 2 / (w**2).sum()
    spread = np.sqrt((w * (r - mean) ** 2).sum() / w.sum())
    assert abs(mean - 1) < 4 * spread / np.sqrt(n_eff)


def test_observed_ratio_is_less_extreme_than_the_joint_ratio(toy_sample):
    """Smearing loses information: E[log r(x,z)] ≥ E[log r(x)] under the numerator (the KL chain rule)."""
    from lfi.augment import JointQuantities

    theta0, theta1 = np.array([0.8, -0.5]), np.array([0.0, 0.0])
    events = np.arange(len(toy_sample))
    joint = JointQuantities(toy_sample).log_ratio(events, theta0, theta1)
    log_p = exact_log_likelihood(toy_sample, np.stack([theta0, theta1]))
    observed = log_p[:, 0] - log_p[:, 1]
    w0 = toy_sample.weights_at(theta0)
    assert (w0 * joint).sum() / w0.sum() > (w0 * observed).sum() / w0.sum() > 0


def test_same_seed_same_sample_and_objects_are_physical():
    a, b = toy.simulate(500, seed=7), toy.simulate(500, seed=7)
    np.testing.assert_array_equal(a.momenta, b.momenta)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert not np.array_equal(toy.simulate(500, seed=8).weights, a.weights)
    e, p = a.momenta[..., 0].astype(float), a.momenta[..., 1:].astype(float)
    mass2 = e**2 - (p**2).sum(-1)
    assert (mass2 > -1e-2 * e**2).all()
    pt = np.hypot(a.momenta[..., 1], a.momenta[..., 2])
    assert (np.diff(pt, axis=1) <= 1e-3).all()  # pT-ordered
    np.testing.assert_allclose(pt[np.arange(500), np.argmax(a.types == 1, axis=1)], a.observables["pt_j1"], rtol=1e-5)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="positive"):
        toy.simulate(0)
    with pytest.raises(ValueError, match="generate_at"):
        toy.simulate(10, generate_at="moon")
