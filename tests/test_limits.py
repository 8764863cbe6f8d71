"""Tests of lfi.limits against independent numbers.

Reference values and where they come from:
- Wilks thresholds: scipy.stats.chi2 (independent implementation) and docs/statistics.md §5 (2.30, 6.18, 11.83), rtol 1e-9 / 5e-3.
- Gaussian location model x ~ N(θ, 1_D) with rate σ(θ) = σ0·exp(b·θ): analytic Asimov
  q = n|θ − θ*|² + 2n(e^{b·Δ} − 1 − b·Δ) (n = L σ(θ*)); expectations exact by Gauss–Hermite quadrature (rtol 1e-10).
- Binned Fisher information of a normal location model with equiprobable bins,
  I_b = Σ_b (φ(e_{b+1}) − φ(e_b))² / p_b, from scipy.stats.norm (rtol 1e-3).
- Ellipse area π q_c / √det F of q = Δᵀ F Δ, and the hyperbolic region xy ≤ c, area 4 − 2[(1 − c) + c ln c].
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial.hermite_e import hermegauss
from scipy.stats import chi2, norm

from lfi import limits
from lfi.limits import (
    DEFAULT_CL,
    asimov_q,
    best_fit,
    bin_index,
    bin_sums,
    binned_asimov_q,
    contour_areas,
    contour_is_open,
    contour_summary,
    expected_log_r,
    extended_asimov_q,
    fisher_information,
    grid_axes,
    grid_points,
    histogram_q,
    log_r_mse,
    map_difference,
    p_value,
    parse_grid,
    q_threshold,
    quantile_edges,
    reference_edges,
    sallino_q,
    sally_q,
    truth_q,
)

# ---------------------------------------------------------------------------------------------------------
# A Gaussian location model with an exponential rate: everything is analytic.


def gauss_hermite_events(dim: int, n_nodes: int, theta_true: np.ndarray, sigma_true: float):
    """Quadrature 'events' at θ*: x = θ* + nodes, weights (pb) = σ* × normalised Gauss–Hermite weights."""
    nodes, w = hermegauss(n_nodes)
    w = w / w.sum()
    mesh = np.meshgrid(*[nodes] * dim, indexing="ij")
    x = np.stack([m.reshape(-1) for m in mesh], axis=1) + theta_true
    weights = np.prod(np.meshgrid(*[w] * dim, indexing="ij"), axis=0).reshape(-1) * sigma_true
    return x, weights


def gaussian_log_r(x: np.ndarray, theta: np.ndarray, theta_ref: np.ndarray) -> np.ndarray:
    """Exact log r(x|θ, θ_ref) for x ~ N(θ, 1): shape (T, N)."""
    return -0.5 * ((x[None] - theta[:, None]) ** 2).sum(-1) + 0.5 * ((x - theta_ref) ** 2).sum(-1)[None]


def gaussian_q(theta, theta_true, b, sigma0, lumi):
    n = lumi * sigma0 * np.exp(b @ theta_true)
    delta = theta - theta_true
    bd = delta @ b
    return n * (delta**2).sum(-1) + 2 * n * (np.expm1(bd) - bd)


# ---------------------------------------------------------------------------------------------------------
# Wilks


def test_wilks_thresholds_match_physics_and_scipy():
    got = [q_threshold(c, 2) for c in DEFAULT_CL]
    np.testing.assert_allclose(got, [2.30, 6.18, 11.83], rtol=5e-3)
    for dof in (1, 2, 3, 5):
        cl = np.array([0.5, 0.6827, 0.9, 0.9545, 0.9973])
        np.testing.assert_allclose(q_threshold(cl, dof), chi2.ppf(cl, dof), rtol=1e-9)
        q = np.array([0.0, 0.1, 1.0, 2.3, 7.0, 30.0])
        np.testing.assert_allclose(p_value(q, dof), chi2.sf(q, dof), rtol=1e-9, atol=1e-300)
        np.testing.assert_allclose(p_value(q_threshold(cl, dof), dof), 1 - cl, rtol=1e-9)


def test_p_value_edge_cases():
    assert p_value(-1.0) == 1.0
    assert p_value(np.inf) == 0.0
    assert np.isnan(p_value(np.nan))
    with pytest.raises(ValueError, match="cl"):
        q_threshold(1.0)
    with pytest.raises(ValueError, match="dof"):
        p_value(1.0, dof=0)


# ---------------------------------------------------------------------------------------------------------
# Asimov with ratio estimators / truth


@pytest.mark.parametrize("true_on_grid", [True, False])
def test_asimov_gaussian_matches_analytic(true_on_grid):
    theta_true = np.array([0.2, -0.1]) if true_on_grid else np.array([0.23, -0.07])
    theta_ref = np.array([0.5, 0.5])  # any reference: it cancels
    b, sigma0, lumi = np.array([0.3, -0.2]), 1.5, 40.0
    axes = grid_axes("-1:1.4:13,-1.1:0.9:11")
    theta = grid_points(axes)
    sigma = sigma0 * np.exp(theta @ b)
    sigma_true = sigma0 * np.exp(theta_true @ b)
    x, w = gauss_hermite_events(2, 6, theta_true, sigma_true)
    log_r = gaussian_log_r(x, theta, theta_ref)
    if true_on_grid:
        index = int(np.argmin(((theta - theta_true) ** 2).sum(1)))
        assert np.allclose(theta[index], theta_true)
        q = asimov_q(log_r, w, sigma, lumi, true_index=index)
        assert q[index] == 0.0
    else:
        log_r_true = gaussian_log_r(x, theta_true[None], theta_ref)[0]
        q = asimov_q(log_r, w, sigma, lumi, sigma_true=sigma_true, log_r_true=log_r_true)
    np.testing.assert_allclose(q, gaussian_q(theta, theta_true, b, sigma0, lumi), rtol=1e-10, atol=1e-10)
    # truth_q is the same function; the two-step form gives the same numbers.
    np.testing.assert_allclose(truth_q(log_r, w, sigma, lumi, sigma_true=sigma_true, log_r_true=gaussian_log_r(x, theta_true[None], theta_ref)[0]), q, atol=1e-10)
    two_step = extended_asimov_q(
        expected_log_r(log_r, w), sigma, lumi, sigma_true=sigma_true,
        mean_log_r_true=expected_log_r(gaussian_log_r(x, theta_true[None], theta_ref)[0], w),
    )
    np.testing.assert_allclose(two_step, q, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(
    t0=st.floats(-1, 1), t1=st.floats(-1, 1), b0=st.floats(-2, 2), b1=st.floats(-2, 2),
    lumi=st.floats(0.1, 1e4), seed=st.integers(0, 2**32 - 1),
)
def test_asimov_exact_ratio_is_zero_at_truth_and_nonnegative(t0, t1, b0, b1, lumi, seed):
    theta_true, b = np.array([t0, t1]), np.array([b0, b1])
    theta = np.vstack([theta_true, np.random.default_rng(seed).uniform(-2, 2, (30, 2))])
    x, w = gauss_hermite_events(2, 4, theta_true, 1.0)
    q = truth_q(gaussian_log_r(x, theta, np.zeros(2)), w, np.exp(theta @ b - theta_true @ b), lumi, true_index=0)
    assert q[0] == 0.0
    assert np.all(q >= -1e-9 * (1 + np.abs(q)))


def test_asimov_area_scales_inversely_with_lumi():
    theta_true, b = np.zeros(2), np.zeros(2)
    axes = grid_axes("-0.6:0.6:121,-0.6:0.6:121")
    theta = grid_points(axes)
    x, w = gauss_hermite_events(2, 3, theta_true, 2.0)
    log_r = gaussian_log_r(x, theta, theta_true)
    areas = {}
    for lumi in (20.0, 80.0):
        q = asimov_q(log_r, w, np.full(len(theta), 2.0), lumi, true_index=len(theta) // 2)
        summary = contour_summary(q, axes)
        areas[lumi] = np.array(list(summary["areas"].values()))
        assert not any(summary["open"].values())
        # q = n|Δ|², n = 2 pb × L: area of q ≤ q_c is π q_c / n.
        np.testing.assert_allclose(areas[lumi], np.pi * np.array(summary["q_thresholds"]) / (2.0 * lumi), rtol=0.01)
    np.testing.assert_allclose(areas[20.0] / areas[80.0], 4.0, rtol=0.01)


def test_asimov_rate_infinite_where_sigma_not_positive():
    q = asimov_q(np.zeros((3, 2)), [1.0, 1.0], [1.0, 0.0, -1.0], 10.0, true_index=0)
    assert q[0] == 0.0 and np.isinf(q[1]) and np.isinf(q[2])


def test_asimov_bad_input_messages():
    lr, w, s = np.zeros((3, 4)), np.ones(4), np.ones(3)
    with pytest.raises(ValueError, match="exactly one"):
        asimov_q(lr, w, s, 1.0)
    with pytest.raises(ValueError, match="exactly one"):
        asimov_q(lr, w, s, 1.0, true_index=0, log_r_true=0.0)
    with pytest.raises(ValueError, match="sigma_true"):
        asimov_q(lr, w, s, 1.0, log_r_true=0.0)
    with pytest.raises(ValueError, match="lumi"):
        asimov_q(lr, w, s, -1.0, true_index=0)
    with pytest.raises(ValueError, match="weights_true has 3 events"):
        asimov_q(lr, w[:3], s, 1.0, true_index=0)
    with pytest.raises(ValueError, match="sigma must have shape"):
        asimov_q(lr, w, s[:2], 1.0, true_index=0)
    with pytest.raises(ValueError, match="true_index"):
        asimov_q(lr, w, s, 1.0, true_index=7)
    with pytest.raises(ValueError, match="positive cross section"):
        asimov_q(lr, -w, s, 1.0, true_index=0)
    with pytest.raises(ValueError, match="log_r contains non-finite"):
        asimov_q(np.where(np.eye(3, 4) > 0, np.nan, lr), w, s, 1.0, true_index=0)
    with pytest.raises(ValueError, match="log_r_true contains non-finite"):
        asimov_q(lr, w, s, 1.0, sigma_true=1.0, log_r_true=np.inf)


def test_asimov_float32_input_in_blocks():
    rng = np.random.default_rng(7)
    lr = rng.normal(size=(600, 500))  # more rows than one conversion block
    w = rng.uniform(0.1, 1.0, 500)
    sigma = rng.uniform(0.5, 2.0, 600)
    q64 = asimov_q(lr, w, sigma, 30.0, true_index=3)
    q32 = asimov_q(lr.astype(np.float32), w, sigma, 30.0, true_index=3)
    np.testing.assert_allclose(q32, q64, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(expected_log_r(lr, w), lr @ w / w.sum(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------------------
# Histograms


def stratified_normal(n: int) -> np.ndarray:
    return norm.ppf((np.arange(n) + 0.5) / n)


def reweighted(x, w_true, theta, theta_true, b=0.0):
    """Exact weights at each θ for a 1-D Gaussian location model: w(θ) = w* p(x|θ)σ(θ) / (p(x|θ*)σ*)."""
    log = -0.5 * (x[:, None] - theta[None]) ** 2 + 0.5 * (x[:, None] - theta_true) ** 2 + b * (theta[None] - theta_true)
    return w_true[:, None] * np.exp(log)


def test_one_bin_histogram_is_rate_only():
    rng = np.random.default_rng(0)
    x = rng.normal(size=5000)
    w_true = rng.uniform(0.5, 1.5, 5000) * 1e-3
    theta = np.linspace(-1, 1, 9)
    weights = reweighted(x, w_true, theta, 0.0, b=0.7)
    lumi = 300.0
    q = histogram_q(x, weights, w_true, lumi, n_bins=1)
    sigma, sigma_true = weights.sum(0), w_true.sum()
    n, d = lumi * sigma_true, sigma / sigma_true - 1
    np.testing.assert_allclose(q, 2 * n * (d - np.log1p(d)), rtol=1e-10, atol=1e-12)
    # The same via asimov_q with a flat ratio (the unbinned formula's rate term).
    np.testing.assert_allclose(q, asimov_q(np.zeros((9, 5000)), w_true, sigma, lumi, sigma_true=sigma_true, log_r_true=0.0), rtol=1e-10, atol=1e-12)


def test_histogram_subsample_rescaled_to_sigma():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4000, 2))
    weights = rng.exponential(1.0, (4000, 5)) / 4000
    full = histogram_q(x, weights, weights[:, 0], 20.0, n_bins=4)
    edges = quantile_edges(x, weights[:, 0], 4)
    half = histogram_q(x, 0.5 * weights, 0.5 * weights[:, 0], 20.0, edges=edges,
                       sigma=weights.sum(0), sigma_true=weights[:, 0].sum())
    np.testing.assert_allclose(half, full, rtol=1e-12, atol=1e-12)
    theta = np.array([[0.0, 0.0], [0.3, 0.1]])
    q1 = sallino_q(x, theta, np.zeros(2), weights[:, :2], weights[:, 0], 20.0, n_bins=5)
    q2 = sallino_q(x, theta, np.zeros(2), 0.25 * weights[:, :2], 0.25 * weights[:, 0], 20.0, n_bins=5,
                   sigma=weights[:, :2].sum(0), sigma_true=weights[:, 0].sum())
    np.testing.assert_allclose(q2, q1, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="together"):
        histogram_q(x, weights, weights[:, 0], 20.0, sigma=weights.sum(0))


@pytest.mark.parametrize("n_bins", [5, 20])
def test_histogram_matches_binned_fisher_information(n_bins):
    x = stratified_normal(100_000)
    w_true = np.full(len(x), 2.0 / len(x))
    theta = np.array([0.0, 0.02, -0.02])
    q = histogram_q(x, reweighted(x, w_true, theta, 0.0), w_true, 50.0, n_bins=n_bins)
    edges = norm.ppf(np.linspace(0, 1, n_bins + 1))
    info = np.sum(np.diff(norm.pdf(edges)) ** 2 * n_bins)  # per event, equiprobable bins
    np.testing.assert_allclose(q[1:] / (50.0 * 2.0 * theta[1:] ** 2), info, rtol=1e-3)
    assert q[0] == 0.0


def test_histogram_2d_separable_gaussian():
    # x = (x0, x1) independent N(θ_d, 1): 10×10 equiprobable bins keep the 10-bin information per axis.
    g = stratified_normal(400)
    x = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    w_true = np.full(len(x), 1.0 / len(x))
    theta = np.array([[0.0, 0.0], [0.02, 0.0], [0.0, -0.03], [0.01, 0.02]])
    logw = -0.5 * ((x[:, None] - theta[None]) ** 2).sum(-1) + 0.5 * (x**2).sum(-1)[:, None]
    q = histogram_q(x, w_true[:, None] * np.exp(logw), w_true, 100.0)
    edges = norm.ppf(np.linspace(0, 1, 11))
    info = np.sum(np.diff(norm.pdf(edges)) ** 2 * 10)
    np.testing.assert_allclose(q, 100.0 * info * (theta**2).sum(1), rtol=2e-3, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_bins=st.integers(1, 12), lumi=st.floats(1e-2, 1e5))
def test_binned_q_nonnegative_and_zero_at_truth(seed, n_bins, lumi):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(300, 2))
    weights = rng.exponential(1.0, (300, 6))
    q = histogram_q(x, np.column_stack([weights, weights[:, 0]]), weights[:, 0], lumi, n_bins=n_bins)
    assert q[0] == 0.0 and q[-1] == 0.0
    assert np.all(q >= 0.0)


def test_binned_empty_bins_are_safe():
    nu_true = np.array([10.0, 0.0, 5.0])
    nu = np.array([[10.0, 0.0, 5.0], [10.0, 3.0, 5.0], [0.0, 1.0, 5.0], [12.0, 0.0, 4.0]])
    q = binned_asimov_q(nu, nu_true)
    assert q[0] == 0.0
    assert q[1] == pytest.approx(6.0)  # an empty Asimov bin costs 2ν
    assert np.isinf(q[2])  # θ predicts nothing where data are expected
    expected = 2 * (12 - 10 - 10 * np.log(1.2)) + 2 * (4 - 5 - 5 * np.log(0.8))
    assert q[3] == pytest.approx(expected, rel=1e-12)


def test_reference_edges_and_out_of_range():
    pt, dphi = reference_edges("pt_j1,delta_phi_jj")
    assert len(pt) - 1 == 14 and pt[0] == 0 and pt[-1] == 14000 and list(pt[5:8]) == [100, 130, 160]
    np.testing.assert_allclose(dphi, np.linspace(0, np.pi, 11))
    with pytest.raises(ValueError, match="known"):
        reference_edges(["m_jj"])
    x = np.column_stack([[50.0, 150.0, 20000.0], [0.1, 0.2, 0.3]])
    with pytest.raises(ValueError, match="observable 0"):
        bin_index(x, [pt, dphi])
    index, n = bin_index(x[:2], [pt, dphi])
    assert n == 140 and list(index) == [2 * 10 + 0, 6 * 10 + 0]
    # The last edge is closed, as in numpy.histogram.
    assert bin_index(np.array([np.pi]), [dphi])[0][0] == 9


def test_quantile_edges_and_bin_sums():
    rng = np.random.default_rng(3)
    x = rng.exponential(size=(10_000, 2))
    w = rng.uniform(0, 2, 10_000)
    edges = quantile_edges(x, w, n_bins=[4, 7])
    assert [len(e) - 1 for e in edges] == [4, 7]
    index, n = bin_index(x, edges)
    per_bin = bin_sums(index, w, n).reshape(4, 7).sum(1)
    np.testing.assert_allclose(per_bin / w.sum(), 0.25, atol=2e-3)  # equal weight per quantile bin
    many = rng.normal(size=(10_000, 3))
    np.testing.assert_allclose(bin_sums(index, many, n), np.stack([np.bincount(index, m, n) for m in many.T], 1))
    assert len(quantile_edges(np.zeros(10), np.ones(10), 5)[0]) == 2  # a constant observable: one bin


# ---------------------------------------------------------------------------------------------------------
# SALLY and SALLINO


def test_sally_equals_truth_for_gaussian_without_rate():
    theta_true = np.array([0.1, -0.3])
    x, w = gauss_hermite_events(2, 5, theta_true, 3.0)
    score = x - theta_true  # exact score at θ_ref = θ*
    info = fisher_information(score, w, 10.0)
    np.testing.assert_allclose(info, 30.0 * np.eye(2), rtol=1e-12, atol=1e-12)
    theta = grid_points(grid_axes("-1:1:7,-1:1:7"))
    np.testing.assert_allclose(sally_q(theta, info, theta_true), gaussian_q(theta, theta_true, np.zeros(2), 3.0, 10.0), rtol=1e-10)


def test_sally_rate_term_is_the_local_expansion():
    theta_true, b, lumi = np.zeros(2), np.array([0.4, -0.9]), 25.0
    x, w = gauss_hermite_events(2, 5, theta_true, 1.0)
    info = fisher_information(x, w, lumi, sigma_true=1.0, sigma_gradient=b)
    np.testing.assert_allclose(info, lumi * (np.eye(2) + np.outer(b, b)), rtol=1e-12)
    theta = 1e-3 * np.array([[1.0, 0.0], [0.0, 1.0], [1.0, -2.0]])
    np.testing.assert_allclose(sally_q(theta, info, theta_true), gaussian_q(theta, theta_true, b, 1.0, lumi), rtol=2e-3)


def test_sallino_recovers_truth_for_gaussian():
    # For x ~ N(θ, 1_2), h = (x − θ_ref)·(θ − θ_ref) is sufficient for θ vs θ_ref = θ*: fine bins → truth.
    g = stratified_normal(300)
    x = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    w_true = np.full(len(x), 1.0 / len(x))
    theta = np.array([[0.0, 0.0], [0.05, 0.0], [0.03, -0.04], [-0.02, -0.02]])
    logw = -0.5 * ((x[:, None] - theta[None]) ** 2).sum(-1) + 0.5 * (x**2).sum(-1)[:, None]
    q = sallino_q(x, theta, np.zeros(2), w_true[:, None] * np.exp(logw), w_true, 200.0, n_bins=60)
    exact = 200.0 * (theta**2).sum(1)
    assert q[0] == 0.0
    np.testing.assert_allclose(q[1:], exact[1:], rtol=0.01)


def test_sallino_equals_histogram_of_h_per_point():
    rng = np.random.default_rng(5)
    score = rng.normal(size=(3000, 2))
    w_true = rng.uniform(0.5, 1.5, 3000) / 3000
    theta = np.array([[0.0, 0.0], [0.1, 0.2], [0.2, 0.4], [-0.3, 0.1], [0.3, -0.1], [0.0, 0.5]])
    weights = w_true[:, None] * np.exp(0.3 * score @ theta.T)  # any positive weights per point
    q = sallino_q(score, theta, np.zeros(2), weights, w_true, 80.0, n_bins=12)
    for j in range(len(theta)):
        h = score @ theta[j]
        direct = histogram_q(h, weights[:, [j]], w_true, 80.0, n_bins=12 if j else 1)[0]
        # Points on one line share the binning; a mirrored direction reuses it (equal up to one boundary event).
        assert q[j] == pytest.approx(direct, rel=1e-12 if j in (0, 1, 2, 4, 5) else 0.05)
    assert q[0] == 0.0


# ---------------------------------------------------------------------------------------------------------
# Grids and contours


def test_parse_grid_and_points():
    assert parse_grid("-16.5:16.5:101,-16.5:16.5:101") == [(-16.5, 16.5, 101)] * 2
    for bad in ("", "1:0:5", "0:1", "0:1:1", "a:1:3", "0:1:2.5"):
        with pytest.raises(ValueError, match="grid spec"):
            parse_grid(bad)
    axes = grid_axes([(0, 1, 2), (5, 7, 3)])
    pts = grid_points(axes)
    assert pts.shape == (6, 2) and pts[1].tolist() == [0.0, 6.0]  # last parameter fastest


def quadratic_q(axes, F, star):
    delta = grid_points(axes) - star
    return np.einsum("ti,ij,tj->t", delta, F, delta)


def test_contour_area_of_quadratic_converges():
    F, star = np.array([[2.0, 0.6], [0.6, 1.0]]), np.array([0.3, -0.2])
    levels = [q_threshold(c) for c in DEFAULT_CL]
    exact = np.pi * np.array(levels) / np.sqrt(np.linalg.det(F))
    errors = []
    for n in (26, 51, 101, 201):
        axes = grid_axes(f"-4:4:{n},-5:5:{n}")
        errors.append(np.abs(contour_areas(quadratic_q(axes, F, star), axes, levels) / exact - 1).max())
    assert errors[-1] < 1e-3 and errors[2] < 0.01
    assert all(e2 < 0.35 * e1 for e1, e2 in zip(errors, errors[1:]))  # O(h²)


def test_contour_area_nonuniform_axes_and_1d():
    F, star = np.diag([1.0, 4.0]), np.zeros(2)
    axes = [np.sinh(np.linspace(-2.5, 2.5, 161)), np.linspace(-3, 3, 121)]
    area = contour_areas(quadratic_q(axes, F, star), axes, [6.18])[0]
    assert area == pytest.approx(np.pi * 6.18 / 2.0, rel=3e-3)
    ax = np.linspace(-3, 3, 601)
    assert contour_areas(ax**2, [ax], [2.0])[0] == pytest.approx(2 * np.sqrt(2.0), rel=1e-4)


@pytest.mark.parametrize("level", [0.1, -0.1, 0.5])
def test_contour_area_with_saddles(level):
    # q = xy on [−1, 1]²; an even number of nodes puts the saddle at a cell centre.
    axes = grid_axes("-1:1:200,-1:1:200")
    pts = grid_points(axes)
    q = pts[:, 0] * pts[:, 1]
    c = abs(level)
    corner = (1 - c) + c * np.log(c)  # area of {xy > c} in one unit quadrant
    exact = 4 - 2 * corner if level > 0 else 2 * corner
    assert contour_areas(q, axes, [level])[0] == pytest.approx(exact, rel=2e-3)


def test_contour_open_flag_and_nonfinite():
    axes = grid_axes("-1:1:41,-1:1:41")
    q = quadratic_q(axes, np.eye(2), np.zeros(2))
    assert not contour_is_open(q, axes, 0.5) and contour_is_open(q, axes, 1.5)
    q_inf = np.where(grid_points(axes)[:, 0] > 0.5, np.inf, q)
    q_nan = np.where(grid_points(axes)[:, 0] > 0.5, np.nan, q)
    a_inf, a_nan = contour_areas(q_inf, axes, [2.3])[0], contour_areas(q_nan, axes, [2.3])[0]
    assert a_inf == pytest.approx(a_nan) and a_inf < contour_areas(q, axes, [2.3])[0]


def test_best_fit_refines_off_grid_minimum():
    axes = grid_axes("-2:2:41,-2:2:41")
    star = np.array([0.234, -0.517])
    q = quadratic_q(axes, np.diag([3.0, 0.5]), star)
    np.testing.assert_allclose(best_fit(q, axes), star, atol=1e-10)
    assert np.abs(best_fit(q, axes, refine=False) - star).max() <= 0.05 + 1e-12


def test_contour_summary_is_json_and_consistent():
    axes = grid_axes("-3:3:61,-3:3:61")
    q = quadratic_q(axes, np.eye(2), np.array([0.5, 0.0])) - 0.3  # an estimated map may dip below 0
    s = contour_summary(q, axes, subtract_minimum=True)
    json.dumps(s, allow_nan=False)
    assert list(s["areas"]) == ["68.27", "95.45", "99.73"]
    assert s["q_min"] == pytest.approx(-0.3)
    np.testing.assert_allclose(s["best_fit"], [0.5, 0.0], atol=1e-12)
    assert s["areas"]["68.27"] == pytest.approx(np.pi * 2.2957, rel=5e-3)
    assert s["grid"] == [[-3.0, 3.0, 61], [-3.0, 3.0, 61]]
    with pytest.raises(ValueError, match="grid"):
        contour_summary(q[:-1], axes)


def test_map_difference_and_log_r_mse():
    axes = grid_axes("-5:5:201,-5:5:201")
    q_ref = quadratic_q(axes, np.eye(2), np.zeros(2))
    d = map_difference(0.5 * q_ref + 0.1, q_ref, axes)
    c = q_threshold(0.9545)
    assert d["area_ratio"]["95.45"] == pytest.approx(2.0 * (c - 0.1) / c, rel=2e-3)  # q ≤ c ⇔ q_ref ≤ 2(c − 0.1)
    inside = q_ref[q_ref <= q_threshold(0.9545)]
    assert d["n_points"] == inside.size
    assert d["mse"] == pytest.approx(np.mean((0.1 - 0.5 * inside) ** 2))
    json.dumps(d, allow_nan=False)
    theta = grid_points(grid_axes("-1:1:5,-1:1:5"))
    err = np.zeros((25, 100))
    err[:, 0] = 10.0  # one terrible event
    err[:, 1:] = 0.1
    res = log_r_mse(err, np.zeros_like(err), theta, prior_width=0.3)
    assert res["mse"] == pytest.approx((100 + 99 * 0.01) / 100)
    assert res["mse_trimmed"] == pytest.approx(0.01)
    with pytest.raises(ValueError, match="prior_width"):
        log_r_mse(err, err, theta, prior_width=0.0)


def test_public_api_is_pinned():
    assert dir(limits) == sorted(limits.__all__)
    assert "torch" not in limits.asimov.__dict__
    for name in limits.__all__:
        assert hasattr(limits, name)
