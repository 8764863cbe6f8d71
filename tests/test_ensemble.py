"""Ensembles: K members with their own seeds (optionally bootstrap resamples), the mean log r̂, per-member resume."""

import dataclasses
import json

import numpy as np
import pytest

import estimators
from estimators.ensemble import Ensemble, _member_setup
from lfi.errors import Interrupted, OptionError
from lfi.train import TrainConfig
from lfi.workflows import train_estimator
from lfi.workflows.train import training_setup

OPTIONS = {"events_per_epoch": 512, "head_hidden": "16"}


@pytest.fixture(scope="module")
def toy_file(toy_file_of):
    return toy_file_of(3000, 5)


def _config(epochs=1):
    return TrainConfig(epochs=epochs, batch_size=128, patience=50, learning_rate=3e-3)


def test_an_ensemble_is_the_mean_of_its_members(toy_file, tmp_path):
    from lfi.events import EventSample

    model = train_estimator(toy_file, "mlp", "alices", tmp_path / "e", config=_config(), options=OPTIONS,
                            ensemble=3, progress=False)
    loaded = estimators.load(tmp_path / "e")
    assert isinstance(loaded, Ensemble) and len(loaded) == 3 and loaded.kind == "ratio"
    assert loaded.metadata["ensemble"] == 3 and loaded.metadata["method"] == "alices"
    sample = EventSample.load(toy_file)[:200]
    theta0, theta1 = np.array([0.5, -0.5]), np.zeros(2)
    members = [m.log_ratio(sample, theta0, theta1) for m in loaded.members]
    assert not np.allclose(members[0], members[1])  # different seeds, different members
    np.testing.assert_allclose(loaded.log_ratio(sample, theta0, theta1), np.mean(members, axis=0), rtol=1e-6, atol=1e-9)
    state = loaded.grid_state(sample)
    grid = np.array([[0.5, -0.5], [0.0, 0.0]])
    mean_map = loaded.grid_log_density(state, grid)
    np.testing.assert_allclose(mean_map[:, 0] - mean_map[:, 1], loaded.log_ratio(sample, theta0, theta1), atol=1e-9)
    assert loaded.member_grid_log_density(state, grid).shape == (3, 200, 2)
    np.testing.assert_allclose(model.log_ratio(sample, theta0, theta1), loaded.log_ratio(sample, theta0, theta1),
                               rtol=1e-6, atol=1e-9)


def test_bootstrap_members_train_on_different_resamples(toy_file, tmp_path):
    setup = training_setup(toy_file, "mlp", "alices", tmp_path / "b", config=_config(), options=OPTIONS, ensemble=2,
                           bootstrap=True)
    trains = [_member_setup(setup, k, tmp_path / f"m{k}").train for k in range(2)]
    for part in trains:
        assert len(part) == len(setup.train)
        assert len(np.unique(part.weights[:, 0])) < len(part)  # drawn with replacement: repeated events
    assert not np.array_equal(trains[0].weights, trains[1].weights)
    plain = _member_setup(dataclasses.replace(setup, bootstrap=False), 1, tmp_path / "p")
    assert plain.train is setup.train and plain.config.seed == setup.config.seed + 1
    with pytest.raises(OptionError, match="--bootstrap"):
        training_setup(toy_file, "mlp", "alices", tmp_path / "x", config=_config(), options=OPTIONS, bootstrap=True)


def test_resume_retrains_only_the_interrupted_member(toy_file, tmp_path, monkeypatch):
    from lfi.augment import dataset

    original_iter = dataset.AugmentedBatches.__iter__

    def dying_iter(self):  # member 1 (seed 1) dies in its second epoch
        if self.seed == 1 and self.epoch == 1 and self.n_events == OPTIONS["events_per_epoch"]:
            raise KeyboardInterrupt
        yield from original_iter(self)

    out = tmp_path / "e"
    with monkeypatch.context() as patch:
        patch.setattr(dataset.AugmentedBatches, "__iter__", dying_iter)
        with pytest.raises(Interrupted, match="member_1"):
            train_estimator(toy_file, "mlp", "alices", out, config=_config(2), options=OPTIONS, ensemble=2,
                            progress=False)
    first = (out / "member_0" / "weights.pt").stat().st_mtime_ns
    assert not (out / "config.json").exists() and not (out / "member_1" / "weights.pt").exists()
    train_estimator(toy_file, "mlp", "alices", out, config=_config(2), options=OPTIONS, ensemble=2, resume=True,
                    progress=False)
    assert (out / "member_0" / "weights.pt").stat().st_mtime_ns == first  # kept, not retrained
    history = json.loads((out / "member_1" / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2]
    assert len(estimators.load(out)) == 2


def test_limits_of_an_ensemble_report_the_members_spread(toy_file, tmp_path):
    from lfi.workflows import expected_limits, write_limits

    train_estimator(toy_file, "mlp", "alices", tmp_path / "e", config=_config(), options=OPTIONS, ensemble=2,
                    progress=False)
    result = expected_limits(toy_file, models=[tmp_path / "e"], lumi=20, grid="-1:1:11,-1:1:11")
    entry = result.summary["maps"]["alices_e"]["members"]
    assert entry["count"] == 2 and len(result.member_maps["alices_e"]) == 2
    for level, areas in entry["areas"].items():
        assert len(areas) == 2
        if None not in areas:
            assert entry["area_spread"][level] == pytest.approx(np.std(areas, ddof=1))
    written = write_limits(result, tmp_path / "limits")
    assert json.loads((tmp_path / "limits" / "limits.json").read_text())["maps"]["alices_e"]["members"]["count"] == 2
    assert any(p.name == "contours.png" for p in written)
