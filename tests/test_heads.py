"""Heads: the morphing-aware head is exact when its component outputs are exact; grid and pointwise agree."""

import numpy as np
import pytest
import torch

from estimators.heads import ClassifierHead, MorphingRatioHead, RatioHead, ScoreHead
from lfi.morphing import Morpher
from lfi.truth import exact_cross_section, exact_log_likelihood


def test_morphing_head_reproduces_the_exact_ratio(toy_sample):
    """With o_b(x) = log p(x|θ_b)/p(x|θ_ref) and exact σ_b, log p̂(x|θ)/p_ref(x) equals the exact value at every θ."""
    s = toy_sample[:500]
    basis = s.benchmark_theta[s.morphing_basis]
    sigma_b = exact_cross_section(s, basis)
    head = MorphingRatioHead(embed_dim=4, components=s.morphing_components.tolist(), basis=basis.tolist(),
                             basis_sigma=sigma_b.tolist())
    log_p_basis = exact_log_likelihood(s, basis)  # (N, C)
    log_p_ref = exact_log_likelihood(s, np.zeros((1, 2)))[:, 0]
    outputs = torch.from_numpy(log_p_basis - log_p_ref[:, None])
    head.component_log_ratios = lambda embedding: outputs  # exact component outputs
    theta = np.array([[0.3, -0.7], [-1.0, 1.0], [0.9, 0.9], [0.0, 0.0]])
    expected = exact_log_likelihood(s, theta) - log_p_ref[:, None]
    embedding = torch.zeros(len(s), 4, dtype=torch.float64)
    grid = head.log_density_grid(embedding, torch.from_numpy(theta)).numpy()
    np.testing.assert_allclose(grid, expected, atol=1e-9)
    pointwise = head(embedding, torch.from_numpy(np.repeat(theta[:1], len(s), 0)), torch.zeros(len(s), 2, dtype=torch.float64))
    np.testing.assert_allclose(pointwise.numpy(), expected[:, 0], atol=1e-9)


def test_morphing_weights_match_the_morpher():
    m = Morpher.optimized(np.array([[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]), [-1, -1], [1, 1], n_trials=20)
    head = MorphingRatioHead(embed_dim=3, components=m.components.tolist(), basis=m.basis.tolist(), basis_sigma=[1.0] * 6)
    theta = np.random.default_rng(0).uniform(-2, 2, (7, 2))
    np.testing.assert_allclose(head.morphing_weights(torch.from_numpy(theta)).numpy(), m.weights(theta), rtol=1e-10)


def test_parameterised_head_grid_equals_pointwise_and_is_antisymmetric():
    torch.manual_seed(0)
    head = RatioHead(embed_dim=5, n_parameters=2, hidden=(16,))
    embedding, theta = torch.randn(9, 5), torch.randn(4, 2)
    grid = head.log_density_grid(embedding, theta, chunk=3)
    for t in range(4):
        point = head.log_density(embedding, theta[t].expand(9, 2))
        torch.testing.assert_close(grid[:, t], point)
    a, b = theta[0].expand(9, 2), theta[1].expand(9, 2)
    torch.testing.assert_close(head(embedding, a, b), -head(embedding, b, a))
    torch.testing.assert_close(head(embedding, a, a), torch.zeros(9))


def test_output_shapes_and_config():
    emb = torch.randn(6, 8)
    assert ClassifierHead(embed_dim=8)(emb).shape == (6, 1)
    assert ClassifierHead(embed_dim=8, n_classes=4)(emb).shape == (6, 4)
    assert ScoreHead(embed_dim=8, n_parameters=2)(emb).shape == (6, 2)
    with pytest.raises(ValueError, match="n_classes"):
        ClassifierHead(embed_dim=8, n_classes=1)
    assert RatioHead(embed_dim=8, n_parameters=2).config["hidden"] == [128, 128]
