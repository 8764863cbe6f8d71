"""Joint ratio and score from morphed weights, priors, and the on-the-fly batches."""

import numpy as np
import pytest
import torch

from lfi.augment import (
    AugmentedBatches,
    GaussianPrior,
    GridPrior,
    JointQuantities,
    PointPrior,
    UniformPrior,
    parse_prior,
)
from lfi.morphing import monomial_components


def _alpha(theta):
    theta = np.atleast_2d(theta)
    return np.prod(theta[:, None, :] ** monomial_components(2, 2)[None], axis=-1)


@pytest.fixture(scope="module")
def joint(toy_sample):
    return JointQuantities(toy_sample)


def test_score_is_the_gradient_of_log_r(toy_sample, joint):
    events = np.arange(0, len(toy_sample), 97)
    theta, ref, h = np.array([0.3, -0.6]), np.array([0.0, 0.0]), 1e-5
    score = joint.score(events, theta)
    for d in range(2):
        step = np.zeros(2)
        step[d] = h
        numeric = (joint.log_ratio(events, theta + step, ref) - joint.log_ratio(events, theta - step, ref)) / (2 * h)
        np.testing.assert_allclose(score[:, d], numeric, rtol=1e-6, atol=1e-7)


def test_joint_quantities_match_the_analytic_toy(toy_sample, joint):
    """r(x,z) and t(x,z) from morphed weights equal the analytic |A|² expressions and exact σ(θ)."""
    g = toy_sample.truth_events["joint_coefficients"]
    sigma_c = toy_sample.truth["sigma_coefficients"]
    events = np.arange(len(toy_sample))
    theta0, theta1 = np.array([-0.7, 0.9]), np.array([0.2, 0.1])
    dsigma = lambda t: g @ _alpha(t)[0]  # noqa: E731  ∝ dσ(z|θ)
    sigma = lambda t: _alpha(t)[0] @ sigma_c  # noqa: E731
    analytic = np.log(dsigma(theta0) / sigma(theta0)) - np.log(dsigma(theta1) / sigma(theta1))
    # σ from the weights is a Monte-Carlo estimate: compare the z-dependent part exactly, the σ part statistically
    got = joint.log_ratio(events, theta0, theta1)
    offset = got - analytic
    np.testing.assert_allclose(offset, offset[0], atol=1e-10)
    assert abs(offset[0]) < 0.02
    # score: d/dθ log dσ(z|θ) analytic, minus ∇σ/σ
    h = 1e-6
    for d in range(2):
        step = np.zeros(2)
        step[d] = h
        d_log_dsigma = (np.log(dsigma(theta0 + step)) - np.log(dsigma(theta0 - step))) / (2 * h)
        d_log_sigma = (np.log(sigma(theta0 + step)) - np.log(sigma(theta0 - step))) / (2 * h)
        t = joint.score(events, theta0)[:, d]
        np.testing.assert_allclose(t - d_log_dsigma, (t - d_log_dsigma)[0], atol=1e-6)
        assert abs((t - d_log_dsigma)[0] + d_log_sigma) < 0.03


def test_batches_have_the_documented_shapes_and_are_reproducible(toy_sample):
    ds = AugmentedBatches(toy_sample, UniformPrior((-1, -1), (1, 1)), PointPrior((0.0, 0.0)), batch_size=64, n_events=640, seed=3)
    batches = list(ds)
    assert len(batches) == 10
    b = batches[0]
    assert b["momenta"].shape == (64, 4, 4) and b["momenta"].dtype == torch.float32
    assert b["types"].dtype == torch.int64 and b["globals"].shape == (64, 2)
    assert b["theta0"].shape == (64, 2) and b["score0"].shape == (64, 2) and b["log_r"].shape == (64,)
    assert set(torch.cat([x["y"] for x in batches]).unique().tolist()) == {0.0, 1.0}
    assert torch.isfinite(torch.cat([x["log_r"] for x in batches])).all()
    again = list(AugmentedBatches(toy_sample, UniformPrior((-1, -1), (1, 1)), PointPrior((0.0, 0.0)), batch_size=64, n_events=640, seed=3))
    torch.testing.assert_close(again[4]["log_r"], batches[4]["log_r"])
    ds.set_epoch(1)
    assert not torch.equal(next(iter(ds))["log_r"], b["log_r"])


def test_mean_joint_ratio_is_one_under_the_denominator(toy_sample):
    """⟨r(x,z|θ0,θ1)⟩ over events drawn at θ1 equals 1 within its statistical error."""
    theta0 = (0.9, -0.8)
    ds = AugmentedBatches(toy_sample, PointPrior(theta0), PointPrior((0.0, 0.0)), batch_size=512, n_events=40_000, seed=1)
    r = torch.cat([torch.exp(b["log_r"][b["y"] == 1]) for b in ds]).double()
    assert abs(r.mean().item() - 1.0) < 4 * r.std().item() / np.sqrt(len(r))
    # and under the numerator the mean of 1/r is one
    inv = torch.cat([torch.exp(-b["log_r"][b["y"] == 0]) for b in ds]).double()
    assert abs(inv.mean().item() - 1.0) < 4 * inv.std().item() / np.sqrt(len(inv))


def test_events_at_theta0_follow_the_morphed_distribution(toy_sample):
    theta0 = np.array([1.0, 1.0])
    ds = AugmentedBatches(toy_sample, PointPrior(tuple(theta0)), PointPrior((0.0, 0.0)), batch_size=512, n_events=40_000, seed=2, only_theta0=True)
    drawn = torch.cat([b["momenta"][:, :, 1:3].norm(dim=-1).max(dim=1).values for b in ds]).numpy()
    pt = np.linalg.norm(toy_sample.momenta[:, :, 1:3], axis=-1).max(axis=1)
    w = toy_sample.weights_at(theta0)
    expected = (w * pt).sum() / w.sum()
    assert abs(drawn.mean() - expected) < 5 * drawn.std() / np.sqrt(len(drawn)) + 0.01 * expected


def test_priors():
    rng = np.random.default_rng(0)
    u = UniformPrior((-1, 0), (1, 2)).sample(1000, rng)
    assert u.shape == (1000, 2) and (u[:, 0] >= -1).all() and (u[:, 1] <= 2).all()
    g = GaussianPrior((0, 5), (1, 0.1)).sample(20000, rng)
    np.testing.assert_allclose(g.mean(axis=0), [0, 5], atol=0.05)
    grid = GridPrior(((0.0, 1.0), (2.0, 3.0, 4.0)))
    assert grid.points.shape == (6, 2)
    assert {tuple(p) for p in grid.sample(200, rng)} == {tuple(p) for p in grid.points}
    assert isinstance(parse_prior("uniform:-1:1", 2), UniformPrior)
    assert parse_prior("grid:-1:1:5", 2).points.shape == (25, 2)
    assert parse_prior("point:0.5,-0.2", 2).theta == (0.5, -0.2)
    with pytest.raises(ValueError, match="cannot read prior"):
        parse_prior("cauchy:0:1", 2)
    with pytest.raises(ValueError, match="low < high"):
        UniformPrior((1,), (0,))
