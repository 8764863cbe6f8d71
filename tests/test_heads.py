"""Heads: the morphing-aware head is exact when its component outputs are exact; grid and pointwise agree."""

import numpy as np
import pytest
import torch

from estimators.heads import ClassifierHead, RatioHead, ScoreHead
from estimators.morphing_heads import AmplitudeRatioHead, MorphingRatioHead
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
    grid = head.log_density_grid(embedding, theta, rows=27)
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


def test_amplitude_head_is_an_exact_positive_polynomial_of_the_right_degree():
    """p̃(x|θ) = v(θ̃)ᵀLLᵀv(θ̃): positive everywhere, and morphing from any 15 points reproduces it (degree 4)."""
    torch.manual_seed(1)
    components = np.array([[a, b] for d in range(5) for a in range(d, -1, -1) for b in [d - a]])
    m = Morpher.optimized(components, [-16.5, -16.5], [16.5, 16.5], n_trials=30)
    head = AmplitudeRatioHead(embed_dim=6, components=components.tolist(), basis=m.basis.tolist(),
                              basis_sigma=[1.0] * 15).double()
    embedding = torch.randn(20, 6, dtype=torch.float64)
    theta = torch.from_numpy(np.random.default_rng(2).uniform(-30, 30, (200, 2)))
    with torch.no_grad():
        a = head.polynomial_coefficients(embedding)
    values = a @ head._scaled_monomials(theta).T  # (20, 200)
    assert (values > 0).all()
    at_basis = (a @ head._scaled_monomials(torch.from_numpy(m.basis)).T).numpy()  # (20, 15)
    morphed = at_basis @ m.weights(theta.numpy()).T
    np.testing.assert_allclose(morphed, values.numpy(), rtol=1e-8)
    with torch.no_grad():
        grid = head.log_density_grid(embedding, theta)
        pointwise = torch.stack([head.log_density(embedding, t.expand(20, 2)) for t in theta[:5]], dim=1)
    torch.testing.assert_close(grid[:, :5], pointwise)


class _Fixed(torch.nn.Module):
    def __init__(self, outputs):
        super().__init__()
        self.outputs = outputs

    def forward(self, embedding):
        return self.outputs


def test_amplitude_head_represents_the_toy_exactly(toy_sample):
    """The toy's |A0 + θ0 A1 + θ1 A2|² + ε is a sum of squares: with L from the amplitudes the head is exact."""
    from simulators.toy import ToyModel

    s = toy_sample[:200]
    basis = s.benchmark_theta[s.morphing_basis]
    head = AmplitudeRatioHead(embed_dim=2, components=s.morphing_components.tolist(), basis=basis.tolist(),
                              basis_sigma=exact_cross_section(s, basis).tolist(), theta_scale=[1.0, 1.0]).double()
    amp = ToyModel().amplitudes(s.truth_events["z"])  # (N, 3) complex: joint |A|² at the parton level
    gram = np.einsum("ni,nj->nij", amp, amp.conj()).real + ToyModel().epsilon * np.eye(3)[0][:, None] * np.eye(3)[0]
    lower = np.linalg.cholesky(gram + 1e-12 * np.eye(3))
    tril = np.tril_indices(3)
    outputs = torch.from_numpy(lower[:, tril[0], tril[1]])
    head.net = _Fixed(outputs)
    got = head.polynomial_coefficients(torch.zeros(200, 2, dtype=torch.float64)).detach().numpy()
    np.testing.assert_allclose(got, s.truth_events["joint_coefficients"], rtol=1e-6, atol=1e-9)
