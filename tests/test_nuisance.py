"""Nuisance parameters: interpolation through the variations, rate and shape parts, and profiled maps against
fixed ones and an independent one-dimensional minimiser."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from lfi.limits.nuisance import NuisanceModel, profiled_binned_q, profiled_unbinned_q

LUMI = 30.0


def _events(n: int = 400, t: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    w_true = rng.uniform(0.5, 1.5, n) / n
    weights = w_true[:, None] * rng.uniform(0.6, 1.6, (n, t))
    weights[:, 0] = w_true  # grid point 0 is θ*
    return w_true, weights


def _model(n: int, seed: int = 1) -> NuisanceModel:
    rng = np.random.default_rng(seed)
    nominal = np.ones(n)
    up = np.exp(0.1 * rng.normal(size=(n, 2)) + [0.05, -0.03])
    down = np.exp(0.1 * rng.normal(size=(n, 2)) - [0.04, -0.02])
    return NuisanceModel.from_variations(["scale", "pdf"], nominal, up, down)


def test_interpolation_passes_through_both_variations():
    rng = np.random.default_rng(2)
    nominal = rng.uniform(0.1, 1.0, 50)
    up, down = nominal[:, None] * rng.uniform(0.8, 1.3, (50, 2)), nominal[:, None] * rng.uniform(0.7, 1.2, (50, 2))
    down[:, 1] = np.nan  # the second nuisance has only an upward variation
    model = NuisanceModel.from_variations(["a", "b"], nominal, up, down)
    for k, variations in ((0, (up[:, 0], down[:, 0])), (1, (up[:, 1], None))):
        for sign, expected in zip((1.0, -1.0), variations):
            nu = np.zeros(2)
            nu[k] = sign
            if expected is not None:
                np.testing.assert_allclose(nominal * np.exp(model.log_factors(nu)[:, 0]), expected, rtol=1e-12)
    assert np.all(model.quadratic[:, 1] == 0)


def test_nonpositive_variation_weights_are_refused_by_name():
    with pytest.raises(ValueError, match="nuisance 'shower'.*1 events .*non-positive up"):
        NuisanceModel.from_variations(["shower"], [1.0, 1.0], [[1.1], [-0.2]])


def test_rate_and_shape_parts_add_up_and_the_rate_part_keeps_the_total():
    w_true, _ = _events()
    model = _model(len(w_true))
    rate, shape = model.rate_part(w_true), model.shape_part(w_true)
    np.testing.assert_allclose(rate.linear + shape.linear, model.linear, atol=1e-15)
    for nu in ([1.0, 0.0], [0.0, -1.0]):
        total = w_true @ np.exp(model.log_factors(np.array(nu))[:, 0])
        np.testing.assert_allclose(w_true @ np.exp(rate.log_factors(np.array(nu))[:, 0]), total, rtol=1e-12)
        np.testing.assert_allclose(w_true @ np.exp(shape.log_factors(np.array(nu))[:, 0]), w_true.sum(), rtol=1e-12)


def _fixed_q(weights, w_true):
    sigma, sigma_true = weights.sum(axis=0), w_true.sum()
    d = sigma / sigma_true - 1
    return 2 * LUMI * sigma_true * (d - np.log1p(d))  # rate only: a flat ratio


def test_profiled_map_is_never_above_the_fixed_one_and_equals_it_without_an_effect():
    w_true, weights = _events()
    q_fixed = _fixed_q(weights, w_true)
    none = NuisanceModel(("idle",), np.zeros((len(w_true), 1)), np.zeros((len(w_true), 1)))
    q, nu = profiled_unbinned_q(q_fixed, weights, w_true, none, LUMI)
    np.testing.assert_array_equal(q, q_fixed)
    assert np.all(nu == 0)
    q, nu = profiled_unbinned_q(q_fixed, weights, w_true, _model(len(w_true)), LUMI)
    assert np.all(q <= q_fixed) and np.all(q[1:] < q_fixed[1:]) and q[0] == pytest.approx(0.0, abs=1e-10)
    np.testing.assert_allclose(nu[0], 0.0, atol=1e-8)


def test_profiled_unbinned_map_equals_a_general_minimiser():
    w_true, weights = _events(seed=3)
    model = _model(len(w_true), seed=4)
    q_fixed = _fixed_q(weights, w_true)
    q, nu = profiled_unbinned_q(q_fixed, weights, w_true, model, LUMI)
    n = LUMI * w_true.sum()
    mean_a, mean_b = w_true @ model.linear / w_true.sum(), w_true @ model.quadratic / w_true.sum()
    for t in range(weights.shape[1]):
        def q_of(v):
            f = np.exp(model.log_factors(v)[:, 0])
            return (q_fixed[t] + 2 * LUMI * (weights[:, t] @ (f - 1)) - 2 * n * (v @ mean_a + v**2 @ mean_b) + v @ v)
        best = minimize(q_of, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-13,
                                                                           "maxiter": 4000})
        assert q[t] == pytest.approx(best.fun, abs=1e-8)
        np.testing.assert_allclose(nu[t], best.x, atol=1e-4)


def test_counting_experiment_with_a_normalisation_uncertainty():
    # one bin, s expected at θ, n at θ*: q(θ) = min_ν 2[s·(1+δ)^ν − n − n log(s(1+δ)^ν/n)] + ν²
    delta, n_events = 0.2, 100
    w_true = np.full(n_events, 1.0 / LUMI)
    scales = np.array([1.0, 1.1, 1.3, 0.7])
    weights = w_true[:, None] * scales
    model = NuisanceModel.normalisation("lumi", np.ones(n_events, dtype=bool), delta)
    q, _ = profiled_binned_q(np.zeros(n_events, dtype=np.int64), 1, weights, w_true, model, LUMI)
    for t, scale in enumerate(scales):
        s = scale * n_events
        best = minimize_scalar(lambda v: 2 * (s * (1 + delta) ** v - n_events
                                              - n_events * np.log(s * (1 + delta) ** v / n_events)) + v * v)
        assert q[t] == pytest.approx(best.fun, abs=1e-9)
    assert q[0] == pytest.approx(0.0, abs=1e-12) and np.all(q[1:] < _fixed_q(weights, w_true)[1:])


def test_binned_profile_of_a_shape_nuisance_is_never_above_the_fixed_histogram():
    from lfi.limits import binned_asimov_q

    w_true, weights = _events(seed=5)
    bins = np.random.default_rng(6).integers(0, 8, len(w_true))
    model = _model(len(w_true), seed=7)
    q, nu = profiled_binned_q(bins, 8, weights, w_true, model, LUMI)
    yields = LUMI * np.stack([np.bincount(bins, weights=weights[:, t], minlength=8) for t in range(weights.shape[1])])
    q_fixed = binned_asimov_q(yields, LUMI * np.bincount(bins, weights=w_true, minlength=8))
    assert np.all(q <= q_fixed + 1e-12) and np.all(q[1:] < q_fixed[1:])
    np.testing.assert_allclose(nu[0], 0.0, atol=1e-8)
