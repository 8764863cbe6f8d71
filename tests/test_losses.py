"""Losses: definitions, log-space stability, weights, and the minimiser properties on a 1-D analytic case.

The analytic case: latent z ~ N(θ, 1), observed x = z + N(0, 1), so p(x|θ) = N(x; θ, √2).
Joint ratio r(x,z|θ0,θ1) = N(z; θ0, 1)/N(z; θ1, 1); exact r(x|θ0,θ1) = N(x; θ0, √2)/N(x; θ1, √2);
joint score t(x,z|θ) = z − θ; exact score t(x|θ) = (x − θ)/2.
"""

import math

import numpy as np
import pytest
import torch

from lfi.train.losses import LOSSES, get_loss

THETA0, THETA1 = 0.6, -0.4


def _draw(theta: float, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    z = theta + torch.randn(n, generator=gen, dtype=torch.float64)
    return z + torch.randn(n, generator=gen, dtype=torch.float64), z


def _joint_log_r(z):
    return -0.5 * (z - THETA0) ** 2 + 0.5 * (z - THETA1) ** 2


def _exact_log_r(x):
    return (-0.25 * (x - THETA0) ** 2 + 0.25 * (x - THETA1) ** 2)


def _ratio_batches(n: int, seed: int):
    gen = torch.Generator().manual_seed(seed)
    x0, z0 = _draw(THETA0, n, gen)
    x1, z1 = _draw(THETA1, n, gen)
    x, z = torch.cat([x0, x1]), torch.cat([z0, z1])
    y = torch.cat([torch.zeros(n), torch.ones(n)]).double()
    return x.float()[:, None], {"log_r": _joint_log_r(z).float(), "y": y.float()}


def _fit(loss_name: str, x: torch.Tensor, batch: dict, steps: int = 300) -> torch.nn.Module:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32), torch.nn.Tanh(),
                              torch.nn.Linear(32, 1))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps, eta_min=1e-4)
    loss = get_loss(loss_name)
    for step in range(steps):
        idx = torch.randint(0, len(x), (2048,), generator=torch.Generator().manual_seed(step))
        value = loss({k: v[idx] for k, v in batch.items()}, {"log_r": net(x[idx])[:, 0], "score": net(x[idx])})
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        schedule.step()
    return net


@pytest.mark.parametrize("method", ["alice", "rolr", "carl"])
def test_ratio_losses_are_minimised_by_the_exact_ratio(method):
    x, batch = _ratio_batches(60_000, seed=1)
    net = _fit(method, x, batch)
    grid = torch.linspace(-1.5, 1.5, 31)[:, None]
    with torch.no_grad():
        learnt = net(grid)[:, 0].double()
    exact = _exact_log_r(grid[:, 0].double())
    assert (learnt - exact).abs().max() < 0.1, (learnt - exact).abs().max()
    assert exact.abs().max() > 0.5  # the target is far from a constant


def test_sally_loss_is_minimised_by_the_exact_score():
    gen = torch.Generator().manual_seed(3)
    theta_ref = 0.2
    x, z = _draw(theta_ref, 40_000, gen)
    batch = {"score0": (z - theta_ref).float()[:, None]}
    net = _fit("sally", x.float()[:, None], batch)
    grid = torch.linspace(-1.5, 1.5, 31)[:, None]
    with torch.no_grad():
        learnt = net(grid)[:, 0]
    np.testing.assert_allclose(learnt.numpy(), ((grid[:, 0] - theta_ref) / 2).numpy(), atol=0.05)


def test_log_space_losses_do_not_overflow_for_huge_ratios():
    log_r = torch.tensor([math.log(1e6), math.log(1e-6), 20.0, -20.0])
    batch = {"log_r": log_r, "y": torch.tensor([0.0, 1.0, 0.0, 1.0]), "score0": torch.zeros(4, 2)}
    outputs = {"log_r": log_r + 0.1, "score0": torch.zeros(4, 2)}
    for name in ("carl", "rolr", "rascal", "alice", "alices", "cascal"):
        value = get_loss(name)(batch, outputs)
        assert torch.isfinite(value), name


def test_alice_is_bce_against_the_joint_classifier_probability():
    log_r_hat, log_r = torch.tensor([0.3, -1.2]), torch.tensor([0.0, -2.0])
    s_hat, s = 1 / (1 + torch.exp(log_r_hat)), 1 / (1 + torch.exp(log_r))
    expected = -(s * torch.log(s_hat) + (1 - s) * torch.log(1 - s_hat)).mean()
    got = get_loss("alice")({"log_r": log_r, "y": torch.zeros(2)}, {"log_r": log_r_hat})
    torch.testing.assert_close(got, expected)


def test_score_terms_only_on_theta0_events_and_weights():
    batch = {"log_r": torch.zeros(2), "y": torch.tensor([0.0, 1.0]), "score0": torch.zeros(2, 1)}
    outputs = {"log_r": torch.zeros(2), "score0": torch.tensor([[1.0], [10.0]])}
    base = get_loss("alice")(batch, outputs)
    with_score = get_loss("alices", alpha=2.0)(batch, outputs)
    torch.testing.assert_close(with_score - base, torch.tensor(2.0 * 1.0 / 2))  # only the y = 0 event counts
    weighted = get_loss("rolr")({**batch, "log_r": torch.tensor([0.0, 1.0]), "weight": torch.tensor([3.0, -1.0])},
                               {"log_r": torch.zeros(2)})
    expected = (3.0 * (1 - 1) ** 2 + -1.0 * (1 - math.e) ** 2) / 2.0
    torch.testing.assert_close(weighted, torch.tensor(expected))


def test_focal_loss_reduces_to_cross_entropy_and_down_weights_easy_events():
    logits, label = torch.tensor([[4.0], [-0.2]]), torch.tensor([1, 1])
    ce = get_loss("ce")({"label": label}, {"logits": logits})
    focal0 = get_loss("focal", focal_alpha=0.5, focal_gamma=0.0)({"label": label}, {"logits": logits})
    torch.testing.assert_close(focal0, 0.5 * ce)
    focal = get_loss("focal")
    easy = focal({"label": label[:1]}, {"logits": logits[:1]}) / get_loss("ce")({"label": label[:1]}, {"logits": logits[:1]})
    hard = focal({"label": label[1:]}, {"logits": logits[1:]}) / get_loss("ce")({"label": label[1:]}, {"logits": logits[1:]})
    assert easy < 1e-4 < hard < 1
    multi = get_loss("ce")({"label": torch.tensor([2])}, {"logits": torch.tensor([[0.0, 0.0, 0.0]])})
    torch.testing.assert_close(multi, torch.tensor(math.log(3.0)))


def test_every_method_has_a_loss_and_unknown_names_are_listed():
    assert set(LOSSES) == {"carl", "rolr", "rascal", "alice", "alices", "cascal", "nde", "scandal", "sally", "sallino",
                           "ce", "focal"}
    assert get_loss("SALLINO").kind == "score"
    with pytest.raises(KeyError, match="valid: carl"):
        get_loss("npe")
