"""The ``flow`` estimator (NDE, SCANDAL on zuko): a normalised density, SCANDAL's score term, save/load, toy
training against the exact likelihood, limits without special cases, and the command line."""

import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("zuko")

import estimators  # noqa: E402
import simulators.toy as toy  # noqa: E402
from estimators.flow import FlowEstimator  # noqa: E402
from estimators.flow_training import default_observables  # noqa: E402
from lfi.train import TrainConfig  # noqa: E402
from lfi.train.losses import get_loss  # noqa: E402
from lfi.train.trainer import model_outputs  # noqa: E402
from lfi.truth import exact_log_likelihood  # noqa: E402
from lfi.workflows import expected_limits  # noqa: E402
from lfi.workflows.train import train_estimator  # noqa: E402

THETA = np.array([[0.0, 0.0], [0.8, -0.5], [-0.7, 0.6], [0.5, 0.5]])


def _random_flow(transform: str, x: np.ndarray, seed: int = 0) -> FlowEstimator:
    """A 1-observable flow with scalings fitted to ``x`` and perturbed weights (not the near-identity of a fresh init)."""
    torch.manual_seed(seed)
    model = FlowEstimator(observables=["x"], n_parameters=2, transform=transform, transforms=3, hidden=(16, 16))
    model.fit_scaling(x[:, None], np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    with torch.no_grad():
        for p in model.flow.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return model.double().eval()


@pytest.mark.parametrize("transform", ["maf", "nsf"])
@pytest.mark.parametrize("positive", [False, True])
def test_density_integrates_to_one(transform, positive):
    """∫ p̂(x|θ) dx = 1 for fixed θ, over the raw observable (so the standardisation and the log x of a positive
    observable enter with their Jacobians). Trapezoid rule on 40 001 points of s ∈ [−40, 40] in standardised
    units (x = e^s·… for a positive observable): the discretisation error is O(h²) ≈ 1e-6 of the integral and
    the mass beyond |s| = 40 is far below 1e-6, so 1e-3 leaves room for float64 round-off only."""
    rng = np.random.default_rng(0)
    x = rng.lognormal(3.0, 0.7, 5000) if positive else rng.normal(2.0, 3.0, 5000)
    model = _random_flow(transform, x)
    shift, scale = model.x_shift.item(), model.x_scale.item()
    s = np.linspace(-40, 40, 40_001)
    y = shift + scale * s  # log x for a positive observable, else x
    grid_x = np.exp(y) if positive else y
    dx_ds = scale * (grid_x if positive else 1.0)
    for theta in ([0.3, -0.6], [-1.0, 1.0]):
        with torch.no_grad():
            log_p = model(torch.from_numpy(grid_x[:, None]), torch.tensor([theta], dtype=torch.float64).expand(len(s), 2))
        integral = np.trapezoid(np.exp(log_p.numpy()) * dx_ds, s)
        assert integral == pytest.approx(1.0, abs=1e-3), (transform, positive, theta)


@pytest.mark.parametrize("positive", [False, True])
def test_drawn_events_follow_the_flow_density(positive):
    """Events drawn by sample_observables have the CDF obtained by integrating exp(log p̂): Kolmogorov distance below
    1.63/√n (the 1 % critical value) for n = 20 000, at two θ; the seed makes draws reproducible."""
    rng = np.random.default_rng(1)
    x = rng.lognormal(3.0, 0.7, 5000) if positive else rng.normal(2.0, 3.0, 5000)
    model = _random_flow("nsf", x, seed=3)
    shift, scale = model.x_shift.item(), model.x_scale.item()
    s = np.linspace(-40, 40, 40_001)
    grid_x = np.exp(shift + scale * s) if positive else shift + scale * s
    dx_ds = scale * (grid_x if positive else 1.0)
    n = 20_000
    for theta in ([0.3, -0.6], [-1.0, 1.0]):
        with torch.no_grad():
            log_p = model(torch.from_numpy(grid_x[:, None]), torch.tensor([theta], dtype=torch.float64).expand(len(s), 2))
        density = np.exp(log_p.numpy()) * dx_ds
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(s))])
        drawn = model.sample_observables(np.array(theta), n, seed=7)[:, 0]
        assert np.array_equal(drawn, model.sample_observables(np.array(theta), n, seed=7)[:, 0])
        empirical = np.searchsorted(np.sort(drawn), grid_x, side="right") / n
        assert np.max(np.abs(empirical - cdf)) < 1.63 / np.sqrt(n), (positive, theta)


def test_lfi_sample_writes_events_and_the_comparison_figure(nde_dir, toy_files, tmp_path):
    train = toy_files / "test.h5"
    out = tmp_path / "drawn.npz"
    run = _cli("sample", "--model", str(nde_dir), "--theta", "0,0", "--theta", "0.5,-0.5", "--events", "300",
               "--compare", str(train), "--out", str(out))
    assert run.returncode == 0, run.stderr
    drawn = np.load(out)
    assert drawn["theta"].tolist() == [[0.0, 0.0], [0.5, -0.5]]
    assert all(drawn[f"{name}__theta1"].shape == (300,) for name in drawn["observables"])
    assert (tmp_path / "drawn.png").exists() and (tmp_path / "drawn.pdf").exists()
    bad = _cli("sample", "--model", str(nde_dir), "--theta", "0", "--events", "10", "--out", str(tmp_path / "x.npz"))
    assert bad.returncode == 1 and "needs 2 values" in bad.stderr and bad.stderr.strip().count("\n") == 0


def test_scandal_score_term_is_the_gradient_of_log_p():
    """t̂ = ∇θ log p̂(x|θ) as the trainer computes it for SCANDAL equals central finite differences of log p̂, and the
    loss is the mean of −log p̂ + α·‖t̂ − t‖²."""
    rng = np.random.default_rng(1)
    x = np.column_stack([rng.lognormal(3.0, 0.5, 200), rng.normal(0.0, 1.0, 200)])
    torch.manual_seed(0)
    model = FlowEstimator(observables=["a", "b"], n_parameters=2, transform="nsf", transforms=2, hidden=(16,))
    model.fit_scaling(x, np.array([-1.0, -1.0]), np.array([1.0, 1.0]))
    model = model.double()
    batch = {"observables": torch.from_numpy(x[:8]), "theta0": torch.from_numpy(rng.uniform(-1, 1, (8, 2))),
             "score0": torch.from_numpy(rng.normal(0, 1, (8, 2))), "y": torch.zeros(8)}
    for name in ("momenta", "types", "globals"):
        batch[name] = torch.zeros(8, 1)
    loss = get_loss("scandal", alpha=0.5)
    out = model_outputs(model, loss, batch, create_graph=False)
    eps = 1e-5
    with torch.no_grad():
        fd = torch.stack([(model(batch["observables"], batch["theta0"] + eps * e)
                           - model(batch["observables"], batch["theta0"] - eps * e)) / (2 * eps)
                          for e in torch.eye(2, dtype=torch.float64)], dim=1)
    np.testing.assert_allclose(out["score0"].numpy(), fd.numpy(), rtol=1e-5, atol=1e-7)
    expected = (-out["log_p"] + 0.5 * ((out["score0"] - batch["score0"]) ** 2).sum(1)).mean()
    assert loss(batch, out).item() == pytest.approx(expected.item(), rel=1e-6)
    assert get_loss("scandal").alpha == 1e-2 and get_loss("nde").needs_score is False


@pytest.fixture(scope="module")
def toy_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("flows")
    toy.simulate(5000, seed=1).save(root / "train.h5")
    toy.simulate(3000, seed=2).save(root / "test.h5")
    return root


@pytest.fixture(scope="module")
def nde_dir(toy_files):
    out = toy_files / "nde"
    train_estimator(toy_files / "train.h5", "flow", "nde", out, progress=False,
                    config=TrainConfig(epochs=2, batch_size=256, device="cpu"))
    return out


def test_save_load_round_trip_gives_identical_log_density(nde_dir, toy_files, tmp_path):
    model = estimators.load(nde_dir)
    assert isinstance(model, FlowEstimator) and model.kind == "ratio"
    assert model.observables == list(default_observables(toy.simulate(10, seed=0)))
    test = toy.simulate(500, seed=3)
    before = model.grid_log_density(model.grid_state(test), THETA)
    again = FlowEstimator.load(model.save(tmp_path / "copy"))
    np.testing.assert_array_equal(again.grid_log_density(again.grid_state(test), THETA), before)
    # chunking over θ and events changes nothing
    np.testing.assert_allclose(model.grid_log_density(model.grid_state(test), THETA, chunk_rows=700), before,
                               rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(model.log_ratio(test, THETA[1], THETA[0]), before[:, 1] - before[:, 0], atol=1e-12)


def test_nde_on_the_toy_tracks_the_exact_ratio_and_gives_limits(nde_dir, toy_files):
    """After 2 epochs on 4000 events the learned log r̂(x|θ, 0) correlates with the exact one (measured 0.6–0.85;
    an untrained flow gives ≈ 0), and ``expected_limits`` takes the flow like any ratio estimator."""
    from lfi.events import EventSample

    test = EventSample.load(toy_files / "test.h5")
    model = estimators.load(nde_dir)
    log_p = model.grid_log_density(model.grid_state(test), THETA)
    exact = exact_log_likelihood(test, THETA)
    for t in range(1, len(THETA)):
        rho = np.corrcoef(log_p[:, t] - log_p[:, 0], exact[:, t] - exact[:, 0])[0, 1]
        assert rho > 0.4, (THETA[t], rho)
    result = expected_limits(toy_files / "test.h5", models=[nde_dir], truth=True, lumi=20.0, grid="-1:1:21,-1:1:21")
    names = [name for name in result.maps if name.startswith("nde")]
    assert len(names) == 1 and "truth" in result.maps
    for name in (names[0], "truth"):
        assert result.maps[name].shape == (21 * 21,) and np.all(np.isfinite(result.maps[name]))


def test_a_flow_ensemble_is_the_mean_of_its_members_and_resumes_without_retraining(toy_files, tmp_path):
    from estimators.ensemble import Ensemble

    config = TrainConfig(epochs=1, batch_size=512, device="cpu")
    out = tmp_path / "flows"
    train_estimator(toy_files / "train.h5", "flow", "nde", out, progress=False, config=config, ensemble=2,
                    options={"transforms": 2})
    loaded = estimators.load(out)
    assert isinstance(loaded, Ensemble) and len(loaded) == 2 and loaded.kind == "ratio"
    assert all(isinstance(m, FlowEstimator) for m in loaded.members)
    test = toy.simulate(300, seed=4)
    state = loaded.grid_state(test)
    members = loaded.member_grid_log_density(state, THETA)
    assert not np.allclose(members[0], members[1])  # different seeds
    np.testing.assert_allclose(loaded.grid_log_density(state, THETA), members.mean(axis=0), rtol=1e-12)
    stamps = [p.stat().st_mtime_ns for p in sorted(out.glob("member_*/weights.pt"))]
    assert len(stamps) == 2
    train_estimator(toy_files / "train.h5", "flow", "nde", out, progress=False, config=config, ensemble=2,
                    options={"transforms": 2}, resume=True)
    assert [p.stat().st_mtime_ns for p in sorted(out.glob("member_*/weights.pt"))] == stamps  # nothing retrained


def _cli(*args, prelude: str = ""):
    code = f"import sys; {prelude}from lfi.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_cli_trains_a_flow_and_refuses_bad_options_in_one_line(toy_files, tmp_path):
    common = ["train", "--data", toy_files / "train.h5", "--epochs", "1", "--batch-size", "512", "--quiet",
              "--device", "cpu"]
    done = _cli(*common, "--estimator", "flow", "--method", "scandal", "--out", tmp_path / "s",
                "--option", "transform=nsf", "--option", "transforms=2", "--option", "alpha=0.1",
                "--option", "observables=pt_j1,delta_eta_jj")
    assert done.returncode == 0, done.stderr
    model = estimators.load(tmp_path / "s")
    assert model.transform == "nsf" and model.observables == ["pt_j1", "delta_eta_jj"]
    assert model.metadata["method"] == "scandal"
    for option, word in (("transform=glow", "transform"), ("wings=3", "wings"), ("observables=nope", "nope"),
                         ("head_hidden=8", "head_hidden")):
        bad = _cli(*common, "--estimator", "flow", "--method", "nde", "--out", tmp_path / "bad", "--option", option)
        lines = bad.stderr.strip().splitlines()
        assert bad.returncode == 1 and len(lines) == 1 and word in lines[0], bad.stderr
    for estimator, method, word in (("mlp", "nde", "--estimator flow"), ("flow", "carl", "nde or scandal")):
        bad = _cli(*common, "--estimator", estimator, "--method", method, "--out", tmp_path / "bad2")
        lines = bad.stderr.strip().splitlines()
        assert bad.returncode == 1 and len(lines) == 1 and word in lines[0], bad.stderr


def test_without_zuko_the_flow_is_one_line_and_imports_stay_light(toy_files, tmp_path):
    bad = _cli("train", "--data", toy_files / "train.h5", "--estimator", "flow", "--method", "nde", "--out",
               tmp_path / "nozuko", "--quiet", prelude="sys.modules['zuko'] = None; ")
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 1 and len(lines) == 1 and "lfi[flows]" in lines[0], bad.stderr
    loaded = subprocess.run([sys.executable, "-c", "import sys, lfi, estimators.registry; "
                             "estimators.registry.estimator_options('flow'); print('zuko' in sys.modules)"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["False"]  # zuko loads only when a flow is built
