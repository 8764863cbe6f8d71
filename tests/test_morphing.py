"""Morpher: exact reproduction of polynomials, gradients, basis optimisation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lfi.morphing import Morpher, monomial_components


@pytest.mark.parametrize("n_params,degree,expected", [(2, 2, 6), (2, 4, 15), (3, 2, 10), (1, 3, 4)])
def test_number_of_components_is_binomial(n_params, degree, expected):
    components = monomial_components(n_params, degree)
    assert components.shape == (expected, n_params)
    assert len({tuple(c) for c in components}) == expected
    assert components.sum(axis=1).max() == degree


def test_component_order_is_the_documented_one():
    assert monomial_components(2, 2).tolist() == [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), degree=st.sampled_from([2, 4]))
def test_random_polynomial_is_reproduced_exactly(seed, degree):
    rng = np.random.default_rng(seed)
    components = monomial_components(2, degree)
    morpher = Morpher.optimized(components, [-1, -1], [1, 1], n_trials=30, seed=seed)
    coefficients = rng.normal(size=(7, len(components)))  # 7 "events"

    def polynomial(theta):
        return coefficients @ np.prod(theta[None, :] ** components, axis=1)

    values_at_basis = np.stack([polynomial(t) for t in morpher.basis], axis=1)  # (7, C)
    for theta in rng.uniform(-1.5, 1.5, size=(5, 2)):
        morphed = values_at_basis @ morpher.weights(theta[None])[0]
        np.testing.assert_allclose(morphed, polynomial(theta), rtol=1e-10, atol=1e-10 * np.abs(coefficients).sum())
    np.testing.assert_allclose(morpher.coefficients(values_at_basis), coefficients, rtol=1e-8, atol=1e-8)


def test_gradient_agrees_with_finite_differences():
    morpher = Morpher.optimized(monomial_components(2, 4), [-16.5, -16.5], [16.5, 16.5], n_trials=50)
    theta = np.array([[3.0, -7.5], [-12.0, 1.0]])
    h = 1e-5
    grad = morpher.weight_gradients(theta)
    for d in range(2):
        step = np.zeros(2)
        step[d] = h
        numeric = (morpher.weights(theta + step) - morpher.weights(theta - step)) / (2 * h)
        np.testing.assert_allclose(grad[:, d, :], numeric, rtol=1e-6, atol=1e-8 * np.abs(numeric).max())


def test_weights_sum_rule_and_vectorisation():
    morpher = Morpher.optimized(monomial_components(2, 2), [-1, -1], [1, 1], n_trials=50)
    thetas = np.random.default_rng(1).uniform(-1, 1, size=(100, 2))
    w = morpher.weights(thetas)
    assert w.shape == (100, 6)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)  # the constant component is reproduced
    np.testing.assert_allclose(w[17], morpher.weights(thetas[17])[0])
    # at a basis point the weights select that benchmark
    np.testing.assert_allclose(morpher.weights(morpher.basis), np.eye(6), atol=1e-10)


def test_optimised_basis_beats_random_bases():
    components = monomial_components(2, 4)
    low, high = [-16.5, -16.5], [16.5, 16.5]
    best = Morpher.optimized(components, low, high, n_trials=300, seed=0)
    rng = np.random.default_rng(5)
    random_scores = [Morpher(components, rng.uniform(low, high, (15, 2))).max_squared_weight_sum(low, high) for _ in range(20)]
    assert best.max_squared_weight_sum(low, high) < min(random_scores)
    assert np.isfinite(best.condition_number) and best.condition_number >= 1


def test_singular_basis_is_refused():
    with pytest.raises(ValueError, match="singular"):
        Morpher(monomial_components(2, 2), [[0, 0], [1, 0], [2, 0], [3, 0], [4, 0], [5, 0]])


def test_wrong_theta_dimension_is_refused():
    morpher = Morpher(monomial_components(1, 1), [[0.0], [1.0]])
    with pytest.raises(ValueError, match="parameters"):
        morpher.weights(np.zeros((3, 2)))


def test_monomial_hessians_are_the_derivatives_of_the_gradients():
    morpher = Morpher(monomial_components(2, 4), np.random.default_rng(0).uniform(-1, 1, (15, 2)))
    theta, h = np.array([[0.3, -0.7]]), 1e-6
    for d in range(2):
        step = np.zeros((1, 2))
        step[0, d] = h
        numeric = (morpher.monomial_gradients(theta + step) - morpher.monomial_gradients(theta - step))[0] / (2 * h)
        np.testing.assert_allclose(morpher.monomial_hessians(theta)[0, :, d, :], numeric, rtol=1e-6, atol=1e-8)
