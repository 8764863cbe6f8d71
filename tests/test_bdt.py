"""The LightGBM ``bdt`` estimator: flat columns, CARL against the exact ratio, save/load, CLI train → limits."""

import json

import numpy as np
import pytest

import estimators
from estimators.bdt import BDTEstimator
from lfi.augment import AugmentedBatches, PointPrior
from lfi.cli import main
from lfi.truth import exact_log_likelihood

THETA0 = np.array([0.8, -0.8])


@pytest.fixture(scope="module")
def toy():
    import simulators.toy as toy

    return toy.simulate(20_000, seed=3), toy.simulate(5_000, seed=4)


@pytest.fixture(scope="module")
def carl_bdt(toy):
    """CARL at one θ0 (a 1-D-like problem: x at θ0 against x at the SM), 60 000 training events."""
    sample, _ = toy
    train, val = sample.split((0.8, 0.2), seed=0)
    prior, ref = PointPrior(tuple(THETA0)), PointPrior((0.0, 0.0))
    train_batches = AugmentedBatches(train, prior, ref, n_events=60_000, batch_size=4096, seed=0)
    val_batches = AugmentedBatches(val, prior, ref, n_events=15_000, batch_size=4096, seed=1)
    return BDTEstimator(n_objects=4, n_globals=2).fit_carl(train_batches, val_batches)


def test_columns_shape_and_pair_columns_only_when_asked(small_sample):
    s = small_sample  # 3 slots, 2 globals
    plain = BDTEstimator(n_objects=3, n_globals=2)
    x = plain.columns(s.momenta, s.types, s.globals_)
    assert x.shape == (50, 13 * 3 + 2 + 2) == (50, plain.n_columns) and x.dtype == np.float32
    assert len(plain.column_names) == plain.n_columns
    paired = BDTEstimator(n_objects=3, n_globals=2, pair="mass,delta_r")
    xp = paired.columns(s.momenta, s.types, s.globals_)
    assert xp.shape == (50, plain.n_columns + 2 * 3) and len(paired.column_names) == xp.shape[1]
    np.testing.assert_array_equal(xp[:, : plain.n_columns], x)  # pair columns are appended, nothing else changes
    assert np.isfinite(xp).all()
    # fewer slots than configured: zero-padded; an unknown pair option lists the valid ones
    wide = BDTEstimator(n_objects=5, n_globals=2).columns(s.momenta, s.types, s.globals_)
    np.testing.assert_array_equal(wide[:, : 13 * 3], x[:, : 13 * 3])
    assert (wide[:, 13 * 3 : 13 * 5] == 0).all()
    with pytest.raises(ValueError, match="valid: none, mass,delta_r"):
        BDTEstimator(n_objects=3, n_globals=2, pair="ln_kt")


def test_more_objects_than_configured_are_truncated_by_pt_with_a_warning(toy, caplog):
    sample, _ = toy
    s = sample[:200]
    model = BDTEstimator(n_objects=3, n_globals=2)
    with caplog.at_level("WARNING", logger="estimators.bdt"):
        x = model.columns(s.momenta, s.types, s.globals_)
    assert x.shape == (200, model.n_columns) and "highest p_T" in caplog.text


def test_carl_recovers_the_exact_log_ratio(toy, carl_bdt):
    _, test = toy
    exact = exact_log_likelihood(test, THETA0[None])[:, 0] - exact_log_likelihood(test, np.zeros((1, 2)))[:, 0]
    ok = np.isfinite(exact)
    estimate = carl_bdt.carl_log_ratio(test.momenta, test.types, test.globals_, THETA0)
    assert estimate.shape == (len(test),) and estimate.dtype == np.float64
    assert np.corrcoef(estimate[ok], exact[ok])[0, 1] > 0.8
    # the sign (y = 1 at θ1 = SM, log r̂ = −margin) and the rough size: slope of the estimate on the exact one
    slope = np.polyfit(exact[ok], estimate[ok], 1)[0]
    assert 0.4 < slope < 1.5
    assert carl_bdt.history[0]["val_loss"] > carl_bdt.history[carl_bdt.booster.best_iteration - 1]["val_loss"]


def test_save_load_round_trip(toy, carl_bdt, tmp_path):
    _, test = toy
    s = test[:500]
    carl_bdt.save(tmp_path / "m")
    assert {"config.json", "model.txt"} <= {p.name for p in (tmp_path / "m").iterdir()}
    assert json.loads((tmp_path / "m" / "config.json").read_text())["encoder"] == "bdt"
    for loaded in (BDTEstimator.load(tmp_path / "m"), estimators.load(tmp_path / "m")):
        assert isinstance(loaded, BDTEstimator) and loaded.config == carl_bdt.config
        np.testing.assert_array_equal(loaded.carl_log_ratio(s.momenta, s.types, s.globals_, THETA0),
                                      carl_bdt.carl_log_ratio(s.momenta, s.types, s.globals_, THETA0))
    with pytest.raises(FileNotFoundError, match="model.txt"):
        (tmp_path / "m" / "model.txt").unlink()
        BDTEstimator.load(tmp_path / "m")


def test_classifier_fit():
    rng = np.random.default_rng(0)

    def batch(n):
        label = rng.integers(0, 2, n)
        momenta = np.zeros((n, 2, 4), np.float32)
        pt = rng.exponential(50.0, (n, 2)) + 20 + 40 * label[:, None]
        momenta[..., 1], momenta[..., 3] = pt, rng.normal(0, 30, (n, 2))
        momenta[..., 0] = np.sqrt(momenta[..., 1] ** 2 + momenta[..., 3] ** 2)
        return {"momenta": momenta, "types": np.ones((n, 2), np.int64), "globals": np.zeros((n, 0), np.float32),
                "process": label}

    train, val = [batch(2000)], [batch(1000)]
    model = BDTEstimator(n_objects=2, n_globals=0).fit_classifier(train, val)
    p = model.predict_proba(val[0]["momenta"], val[0]["types"], val[0]["globals"])
    assert p.shape == (1000, 2) and ((p.argmax(1) == val[0]["process"]).mean() > 0.7)
    with pytest.raises(ValueError, match="fitted for classifier"):
        model.carl_log_ratio(val[0]["momenta"], val[0]["types"], val[0]["globals"], THETA0)


def test_train_and_limits_from_the_command_line(tmp_path, capsys):
    data, test = tmp_path / "train.h5", tmp_path / "test.h5"
    assert main(["simulate", "toy", "--events", "3000", "--out", str(data), "--seed", "1"]) == 0
    assert main(["simulate", "toy", "--events", "1000", "--out", str(test), "--seed", "2"]) == 0
    model = tmp_path / "bdt"
    assert main(["train", "--data", str(data), "--estimator", "bdt", "--method", "carl", "--out", str(model),
                 "--option", "events_per_epoch=8000", "--option", "pair=mass,delta_r", "--option", "num_leaves=15",
                 "--quiet"]) == 0
    history = json.loads((model / "history.json").read_text())
    assert history and {"round", "train_loss", "val_loss"} <= set(history[0])
    capsys.readouterr()
    out = tmp_path / "limits"
    assert main(["limits", "--data", str(test), "--model", str(model), "--truth", "--lumi", "50",
                 "--grid=-1:1:9,-1:1:9", "--out", str(out)]) == 0
    summary = json.loads((out / "limits.json").read_text())
    assert set(summary["maps"]) == {"truth", "carl_bdt"}
    q = np.load(out / "q_carl_bdt.npy")
    assert q.shape == (9, 9) and np.isfinite(q).all()
    assert q[4, 4] == pytest.approx(0.0, abs=1e-9)  # θ* = SM is on the grid
    assert "area_ratio" in summary["maps"]["carl_bdt"]["versus_truth"]


def test_bdt_refuses_other_methods_and_unknown_options(tmp_path, capsys):
    data = tmp_path / "t.h5"
    main(["simulate", "toy", "--events", "500", "--out", str(data)])
    assert main(["train", "--data", str(data), "--estimator", "bdt", "--method", "alices", "--out", str(tmp_path / "m"),
                 "--quiet"]) == 1
    assert "bdt estimator trains only carl" in capsys.readouterr().err
    assert main(["train", "--data", str(data), "--estimator", "bdt", "--method", "carl", "--out", str(tmp_path / "m"),
                 "--option", "depth=3", "--quiet"]) == 1
    assert "unknown option 'depth' for bdt" in capsys.readouterr().err
